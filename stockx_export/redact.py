"""Secrets kept out of what stockx prints about itself (an internal error, a traceback).

A secret is the value of an environment variable stockx reads a secret from
(``PEAK_AUTH_TOKEN``), or of any variable named like a password or token
(``PGPASSWORD``, ``DB_PASSWORD`` read by a profile's ``env_var()``). Each is
removed as written and in the encodings a message can carry it in: JSON and
Python string escapes, percent-encoding, base64 (at any byte offset, as inside
a ``Basic`` header) and hex.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from typing import Iterable, Mapping

SECRET_ENV = ("PEAK_AUTH_TOKEN",)
# A variable is a secret by name when a part of its name (split at "_") ends in one
# of these words: PGPASSWORD, DB_PASSWORD, GITHUB_TOKEN, AWS_SECRET_ACCESS_KEY.
SECRET_WORDS = ("PASSWORD", "PASSWD", "TOKEN", "SECRET")
HIDDEN = "***"
# A secret found by its name alone is hidden only from this length on, so that a
# variable such as SOME_TOKEN_CACHE=1 does not turn every "1" into "***".
MIN_BY_NAME = 4


def secret_values(env: Mapping[str, str]) -> list[str]:
    """The secrets in ``env``, longest first (so one secret inside another goes whole)."""
    found = set()
    for name, value in env.items():
        if not value:
            continue
        upper = name.upper()
        by_name = any(part.endswith(word) for part in upper.split("_") for word in SECRET_WORDS)
        if upper in SECRET_ENV or (by_name and len(value) >= MIN_BY_NAME):
            found.add(value)
    return sorted(found, key=lambda v: (-len(v), v))


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every form of every secret replaced by ``***``."""
    forms = sorted({form for secret in secrets for form in _forms(secret)}, key=lambda f: (-len(f), f))
    for form in forms:
        text = text.replace(form, HIDDEN)
    return text


def _forms(secret: str) -> set[str]:
    raw = secret.encode("utf-8", "surrogatepass")
    escaped = json.dumps(secret)[1:-1]
    forms = {
        secret,
        escaped,
        escaped.replace("/", "\\/"),
        json.dumps(secret, ensure_ascii=False)[1:-1],
        repr(secret)[1:-1],
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote_plus(secret, safe=""),
        raw.hex(),
        raw.hex().upper(),
    }
    for offset in range(3):
        # Base64 of the secret at this byte offset in a longer string: only the
        # characters that depend on the secret's bytes alone.
        encoded = base64.b64encode(b"\x00" * offset + raw).decode("ascii")
        start, end = (8 * offset + 5) // 6, 8 * (offset + len(raw)) // 6
        core = encoded[start:end]
        forms.add(core)
        forms.add(core.replace("+", "-").replace("/", "_"))
    return {form for form in forms if len(form) >= min(len(secret), MIN_BY_NAME)}
