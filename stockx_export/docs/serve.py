"""``stockx docs serve``: the generated site over HTTP, on loopback unless told otherwise.

The files of ``target/docs/`` as they are (GET and HEAD only), never cached by the
browser (so a site generated again shows at the next reload), with a content
security policy that lets the page load its own files and nothing else.
"""

from __future__ import annotations

import errno
import functools
import ipaddress
import socket
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from stockx_export.errors import DocsError

# The page's own scripts, styles and images; no request anywhere else, no inline script.
POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
          "connect-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


class _SiteHandler(SimpleHTTPRequestHandler):
    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Security-Policy", POLICY)
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def log_message(self, format: str, *args) -> None:
        pass  # one line per request would bury the URL the command prints


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        # A browser that goes away mid-answer (a reload, a cancelled download) is no error to print.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Server6(_Server):
    address_family = socket.AF_INET6


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def open_server(site_dir: Path, host: str = "127.0.0.1", port: int = 8080) -> ThreadingHTTPServer:
    """A server for ``site_dir``, bound and ready (``serve_forever()`` runs it; port 0 picks a free one).

    Raises :class:`DocsError` when the site was not generated, or the address cannot be bound."""
    if not (site_dir / "index.html").is_file():
        raise DocsError(f"no docs site in {site_dir}", path=str(site_dir),
                        hint="run `stockx docs generate` first")
    handler = functools.partial(_SiteHandler, directory=str(site_dir))
    try:
        server_class = _Server6 if ":" in host else _Server
        return server_class((host, port), handler)
    except OSError as exc:
        hint = "pass another --port (0 picks a free one)" if exc.errno == errno.EADDRINUSE else "check --host"
        raise DocsError(f"cannot serve the docs on {host}:{port}: {exc.strerror or exc}", path=str(site_dir),
                        hint=hint) from None


def url_of(server: ThreadingHTTPServer) -> str:
    """The address to open the site at."""
    host, port = server.server_address[:2]
    shown = f"[{host}]" if ":" in str(host) else str(host)
    return f"http://{shown}:{port}/"
