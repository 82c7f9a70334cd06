"""Ingest URLs: what a base URL may hold, when plain http is allowed, and one spelling per endpoint.

- A URL never carries credentials (``https://user:pass@host``) nor a query or
  fragment (``?api_key=...``): the token goes in ``PEAK_AUTH_TOKEN``, and a URL
  is printed and written to manifests and the sync state, so refusing it is the
  only way to keep such a secret out of them.
- Plain ``http://`` sends the token unencrypted, so it is refused unless the
  host is this machine (127.0.0.0/8, ::1, ``localhost``) or the user allows it
  explicitly (``--allow-insecure-http``, ``allow_insecure_http = true``).
- :func:`normalize_url` gives every spelling of one endpoint the same text
  (RFC 3986 normalisation), so they share one sync state, guard and lock.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit, urlunsplit

from stockx_export.errors import ExportError

DEFAULT_PORTS = {"http": 80, "https": 443}
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:(//)?")
_PERCENT = re.compile(r"%([0-9a-fA-F]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def has_credentials(url: str) -> bool:
    """Whether ``url`` holds a user name or password (``user:pass@`` before the host),
    with or without a scheme."""
    rest = _SCHEME.sub("", url.strip(), count=1)
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    return "@" in authority


def check_base_url(value: str, source: str) -> str:
    """``value`` if it is an http(s) URL with a host, a valid port and perhaps a path, and
    nothing else (no credentials, query or fragment); else an :class:`ExportError` naming
    ``source`` (never echoing credentials or a query)."""
    if has_credentials(value):
        raise ExportError(
            f"{source}: base_url holds a user name or password (the part before '@'); a URL is printed "
            "and stored, so it must not carry secrets: remove it, and put the access token in PEAK_AUTH_TOKEN"
        )
    if "?" in value or "#" in value:
        raise ExportError(
            f"{source}: base_url holds a query or a fragment (the part from '?' or '#'); a base URL is "
            "scheme://host[:port][/path] and nothing more, and it is printed and stored, so it must not carry "
            "secrets such as an API key: remove it, and put the access token in PEAK_AUTH_TOKEN"
        )
    if not value.lower().startswith(("http://", "https://")):
        raise ExportError(f"{source}: base_url must start with http:// or https://, got '{value}'")
    parts = urlsplit(value)
    if not parts.hostname:
        raise ExportError(f"{source}: base_url '{value}' has no host name")
    try:
        parts.port
    except ValueError:
        raise ExportError(f"{source}: base_url '{value}' has an invalid port") from None
    return value


def is_loopback(url: str) -> bool:
    """Whether ``url``'s host is this machine: 127.0.0.0/8, ::1 or localhost."""
    host = (urlsplit(url).hostname or "").rstrip(".")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def insecure_http_problem(url: str, allowed: bool) -> str | None:
    """Why sending the token to ``url`` is refused, or None (https, loopback, or ``allowed``)."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "http" or allowed or is_loopback(url):
        return None
    return (
        f"base_url {parts.scheme}://{parts.netloc} is plain http: the access token would cross the network "
        "unencrypted. Use https://, or, on a network you trust, pass --allow-insecure-http "
        "(or set allow_insecure_http = true under [tool.stockx.export])"
    )


def normalize_url(url: str) -> str:
    """One spelling per endpoint: scheme and host lower-cased, the default port dropped,
    percent-escapes upper-cased (unreserved characters decoded), dot segments
    removed, no trailing slash, no fragment."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if ":" in host:
        try:
            host = ipaddress.ip_address(host).compressed
        except ValueError:
            pass
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port is None or port == DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    path = _remove_dot_segments(_percent(parts.path)).rstrip("/")
    return urlunsplit((scheme, netloc, path, _percent(parts.query), ""))


def _percent(text: str) -> str:
    def one(match: re.Match) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else "%" + match.group(1).upper()

    return _PERCENT.sub(one, text)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4, on whole segments."""
    out: list[str] = []
    segments = path.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == ".":
            if last:
                out.append("")
        elif segment == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(segment)
    result = "/".join(out)
    if path.startswith("/") and not result.startswith("/"):
        result = "/" + result
    return result
