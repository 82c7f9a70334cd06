"""Secrets kept out of everything stockx prints, writes or stores, in any encoding.

The one redaction module. Two uses:

- a server's answer (and whatever stockx writes from it) is scrubbed of the
  access token: ``Redactor.of(token)``;
- what stockx says about itself (an internal error, a traceback) is scrubbed of
  every secret in the environment: ``redact(text, secret_values(os.environ))``.

A secret is the value of an environment variable stockx reads a secret from
(``PEAK_AUTH_TOKEN``), or of any variable named like a password or token
(``PGPASSWORD``, ``DB_PASSWORD`` read by a profile's ``env_var()``), or a value stockx read as a
password from a variable a target names (``note_secret``).

A server may echo the ``Authorization`` header in its answer, and not always as
it was sent: JSON encoders write ``&`` as ``\\u0026`` and ``/`` as ``\\/``, URL
encoding writes ``%26`` and ``+`` for a space, an HTML error page writes
``&amp;``, and layers combine (``%5Cu0026`` is a URL-encoded JSON escape).
Anything that later decodes the text (``json.loads`` when a rejection is
written out, a reader's own tools) would bring the token back.

:class:`Redactor` finds a secret whatever mix of those encodings each of its
characters is written in, through several layers of encoding: it decodes the
text one layer at a time (every kind of escape at once; and, when a secret
itself holds a character that starts a kind of escape, ``\\``, ``%`` or ``&``,
every kind but that one too, since the secret's own text may look like such an
escape), keeping track of where each decoded character came from, looks for
the secret in every decoding, and replaces the original span with ``***``.
It also finds the secret's bytes written in base64 (at any byte offset, as
inside a ``Basic`` header, standard or URL-safe alphabet) and in hex, which no
decoding of characters brings back; the secret in any letter case, or
reversed; text read in the wrong character set (UTF-16 or UTF-32 read as
UTF-8, so that NULs come between the characters: one more kind of layer that
drops them); and the secret cut into pieces written apart (two JSON fields, a
wrapped line): pieces of at least ``PIECE`` characters that together show the
secret, all but fewer than ``PIECE`` of its characters, are each replaced.
Apply it where an answer enters the program and again, after every decode,
before anything is written or printed.
"""

from __future__ import annotations

import base64
import codecs
import html
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

MASK = "***"
SECRET_ENV = ("PEAK_AUTH_TOKEN",)
# A variable is a secret by name when a part of its name (split at "_") ends in one
# of these words: PGPASSWORD, DB_PASSWORD, GITHUB_TOKEN, AWS_SECRET_ACCESS_KEY.
SECRET_WORDS = ("PASSWORD", "PASSWD", "TOKEN", "SECRET")
# A secret found by its name alone is hidden only from this length on, so that a
# variable such as SOME_TOKEN_CACHE=1 does not turn every "1" into "***"; no
# binary form of a secret shorter than this is looked for either.
MIN_BY_NAME = 4
LAYERS = 4  # encodings nested deeper than this are not looked through
PIECE = 4  # the shortest piece of a secret cut apart that is looked for
DECODINGS = 64  # decoded variants of one text looked through at most
# Escape sequences of one layer, by kind: JSON / JavaScript / Python string
# escapes, runs of URL percent-escapes (UTF-8 bytes), HTML character references.
# Each kind by the character that starts its escapes.
_KINDS = {
    "\\": r"\\u(?P<high>[dD][89abAB][0-9a-fA-F]{2})\\u(?P<low>[dD][c-fC-F][0-9a-fA-F]{2})"  # a surrogate pair
          r"|\\u(?P<u4>[0-9a-fA-F]{4})|\\U(?P<u8>[0-9a-fA-F]{8})|\\x(?P<x2>[0-9a-fA-F]{2})"
          r"|\\(?P<short>[\"\\/bfnrt'])",
    "%": r"(?P<percent>(?:%[0-9a-fA-F]{2})+)",
    "&": r"&(?P<entity>#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});",
    # UTF-16 or UTF-32 read as UTF-8 or Latin-1: each character next to its NUL bytes.
    "\x00": r"\x00+(?P<nul>[^\x00])",
}
_SHORT = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _hex(text: str) -> str:
    """A pattern for hex digits ``text`` in either case."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in text)


def _char_pattern(char: str) -> str:
    """Every single-layer spelling of ``char``: itself, its JSON / JavaScript /
    Python escapes, its URL encoding (``+`` for a space) and HTML references."""
    code = ord(char)
    forms = [re.escape(char)]
    if code <= 0xFFFF:
        forms.append(r"\\u" + _hex(f"{code:04x}"))
    else:
        high, low = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
        forms.append(r"\\u" + _hex(f"{high:04x}") + r"\\u" + _hex(f"{low:04x}"))
    forms.append(r"\\U" + _hex(f"{code:08x}"))
    if code <= 0xFF:
        forms.append(r"\\x" + _hex(f"{code:02x}"))
    short = {'"': '"', "\\": "\\", "/": "/", "'": "'", "\b": "b", "\f": "f", "\n": "n", "\r": "r", "\t": "t"}
    if char in short:
        forms.append(r"\\" + re.escape(short[char]))
    forms.append("".join("%" + _hex(f"{byte:02x}") for byte in char.encode("utf-8", "surrogatepass")))
    if char == " ":
        forms.append(r"\+")
    forms.append("&#0*" + str(code) + ";")
    forms.append("&#[xX]0*" + _hex(f"{code:x}") + ";")
    named = {"&": "amp", "<": "lt", ">": "gt", '"': "quot", "'": "apos"}
    if char in named:
        forms.append(f"&{named[char]};")
    return "(?:" + "|".join(forms) + ")"


# Secrets stockx read from a variable named in a setting (a target's ``password_env``), whatever its name.
_NOTED: set[str] = set()


def note_secret(value: str) -> None:
    """Treat ``value`` as a secret from now on: it was read as one (a database password)."""
    if value:
        _NOTED.add(value)


def secret_values(env: Mapping[str, str]) -> list[str]:
    """The secrets in ``env``, and those noted as read, longest first (so one secret inside another goes whole)."""
    found = set(_NOTED)
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
    return Redactor.of(*secrets).scrub(text)


def _binary_forms(secret: str) -> set[str]:
    """The secret's bytes in hex and in base64, as they can appear in a longer text."""
    raw = secret.encode("utf-8", "surrogatepass")
    forms = {raw.hex(), raw.hex().upper()}
    for offset in range(3):
        # Base64 of the secret at this byte offset in a longer string: only the
        # characters that depend on the secret's bytes alone.
        encoded = base64.b64encode(b"\x00" * offset + raw).decode("ascii")
        start, end = (8 * offset + 5) // 6, 8 * (offset + len(raw)) // 6
        core = encoded[start:end]
        forms.add(core)
        forms.add(core.replace("+", "-").replace("/", "_"))
    return {form for form in forms if len(form) >= min(len(secret), MIN_BY_NAME)}


@dataclass(frozen=True)
class _Layer:
    """One decoded layer: where each escape's character came from in the layer below."""

    text: str
    starts: list[int]  # decoded index of each escape's character, ascending
    spans: list[tuple[int, int]]  # its (start, end) in the layer below

    def below(self, index: int, end: bool) -> int:
        """The position in the layer below of decoded ``index`` (a start, or an exclusive end)."""
        at = bisect_right(self.starts, index - 1 if end else index) - 1
        if at < 0:
            return index
        start, stop = self.spans[at]
        if end and self.starts[at] == index - 1:
            return stop
        if not end and self.starts[at] == index:
            return start
        return stop + index - self.starts[at] - 1


def _decode_layer(text: str, escapes: re.Pattern) -> _Layer | None:
    """``text`` with one layer of ``escapes`` decoded, or None when it holds none."""
    pieces: list[str] = []
    starts: list[int] = []
    spans: list[tuple[int, int]] = []
    position = length = 0
    for match in escapes.finditer(text):
        chars = _decode_escape(match)
        if chars is None:
            continue
        plain = text[position:match.start()]
        pieces.append(plain)
        length += len(plain)
        for char, start, end in chars:
            pieces.append(char)
            starts.append(length)
            spans.append((start, end))
            length += 1
        position = match.end()
    if not starts:
        return None
    pieces.append(text[position:])
    return _Layer("".join(pieces), starts, spans)


def _decode_escape(match: re.Match) -> list[tuple[str, int, int]] | None:
    """The characters one escape stands for, each with its span; None if it is not one."""
    start, end = match.span()
    found = match.groupdict()
    high, low, u4, u8, x2, short, percent, entity, nul = (
        found.get(name) for name in ("high", "low", "u4", "u8", "x2", "short", "percent", "entity", "nul"))
    if nul is not None:
        return [(nul, start, end)]
    if high is not None:
        code = 0x10000 + ((int(high, 16) - 0xD800) << 10) + (int(low, 16) - 0xDC00)
        return [(chr(code), start, end)]
    if u4 is not None:
        return [(chr(int(u4, 16)), start, end)]
    if u8 is not None:
        code = int(u8, 16)
        return [(chr(code), start, end)] if code <= 0x10FFFF else None
    if x2 is not None:
        return [(chr(int(x2, 16)), start, end)]
    if short is not None:
        return [(_SHORT.get(short, short), start, end)]
    if percent is not None:
        # UTF-8 bytes: a character spans the escapes of all its bytes.
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        out: list[tuple[str, int, int]] = []
        first = start
        for offset in range(start, end, 3):
            chars = decoder.decode(bytes([int(match.string[offset + 1:offset + 3], 16)]))
            for char in chars:
                out.append((char, first, offset + 3))
                first = offset + 3
        for char in decoder.decode(b"", final=True):
            out.append((char, first, end))
            first = end
        return out
    decoded = html.unescape(f"&{entity};")
    if len(decoded) != 1:  # not a known reference
        return None
    return [(decoded, start, end)]


@dataclass(frozen=True)
class Redactor:
    """Replaces every occurrence of its secrets, in any encoding, with ``***``.

    ``secrets`` are the values as given; the patterns also cover their binary forms."""

    secrets: tuple[str, ...]
    _patterns: tuple[re.Pattern, ...] = field(init=False, repr=False, compare=False)
    _plain: tuple[re.Pattern, ...] = field(init=False, repr=False, compare=False)
    _escapes: tuple[re.Pattern, ...] = field(init=False, repr=False, compare=False)
    _pieces: tuple[tuple[str, tuple[str, ...]], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        given = [s for s in self.secrets if s]
        # The secret as sent, in any letter case, and reversed; its binary forms as they are
        # (base64 is case-sensitive: matching it in any case would hide unrelated words).
        textual = sorted(set(given) | {s[::-1] for s in given}, key=lambda s: (-len(s), s))
        binary = sorted({form for s in given for form in _binary_forms(s)} - set(textual))
        forms = [(s, re.IGNORECASE) for s in textual] + [(s, 0) for s in binary]
        # Each form is looked for in every encoding.
        patterns = tuple(re.compile("".join(_char_pattern(c) for c in s), flags) for s, flags in forms)
        # Without any escape in the text, a secret can only be there as is (``+`` for a space).
        plain = tuple(re.compile("".join(r"(?: |\+)" if c == " " else re.escape(c) for c in s), flags)
                      for s, flags in forms)
        pieces = tuple((s.lower(), tuple(sorted({s.lower()[i:i + PIECE] for i in range(len(s) - PIECE + 1)})))
                       for s in given if len(s) > PIECE)
        secrets = [s for s, _ in forms]
        escapes = [re.compile("|".join(_KINDS.values()))]
        for starter in _KINDS:
            if any(starter in s for s in secrets):
                escapes.append(re.compile("|".join(k for c, k in _KINDS.items() if c != starter)))
        object.__setattr__(self, "_patterns", patterns)
        object.__setattr__(self, "_plain", plain)
        object.__setattr__(self, "_escapes", tuple(escapes))
        object.__setattr__(self, "_pieces", pieces)

    @classmethod
    def of(cls, *secrets: str | None) -> "Redactor":
        return cls(tuple(sorted({s for s in secrets if s}, key=lambda s: (-len(s), s))))

    @classmethod
    def of_environment(cls, env: Mapping[str, str]) -> "Redactor":
        """Every secret ``env`` holds (secret_values: the token, passwords, and what note_secret was given)."""
        return cls.of(*secret_values(env))

    @classmethod
    def from_env(cls, env: Mapping[str, str], names: Iterable[str]) -> "Redactor":
        """The secrets held by the environment variables ``names`` (unset ones skipped)."""
        return cls.of(*(env.get(name, "").strip() for name in names))

    @property
    def tail(self) -> int:
        """Characters at the end of a truncated text that may hold the start of a secret."""
        return 32 * max((len(s) for s in self.secrets), default=0)

    def scrub(self, text: str) -> str:
        """``text`` with every secret replaced, however it is encoded (see module docstring)."""
        if not self._patterns or not text:
            return text
        if not any(starter in text for starter in _KINDS):
            spans = [m.span() for pattern in self._plain for m in pattern.finditer(text)]
            return _masked(text, spans + self._cut_apart(text))
        found: list[tuple[int, int]] = []
        # Breadth first over decodings: (text, the layers that lead to it from ``text``).
        decodings: list[tuple[str, tuple[_Layer, ...]]] = [(text, ())]
        seen = {text}
        for current, layers in decodings:
            spans = [match.span() for pattern in self._patterns for match in pattern.finditer(current)]
            for start, end in spans + self._cut_apart(current):
                for layer in reversed(layers):
                    start, end = layer.below(start, end=False), layer.below(end, end=True)
                found.append((start, end))
            if len(layers) == LAYERS:
                continue
            for escapes in self._escapes:
                if len(decodings) == DECODINGS:
                    break
                layer = _decode_layer(current, escapes)
                if layer is not None and layer.text not in seen:
                    seen.add(layer.text)
                    decodings.append((layer.text, (*layers, layer)))
        return _masked(text, found)

    def _cut_apart(self, text: str) -> list[tuple[int, int]]:
        """Spans of ``text`` holding pieces of a secret (``PIECE`` characters or more, any
        letter case) that together make up the secret, all of it but fewer than ``PIECE``
        characters; none when they do not."""
        found: list[tuple[int, int]] = []
        lowered = text.lower()
        if len(lowered) != len(text):  # a character whose lower case is longer: match the case as written
            lowered = text
        for secret, grams in self._pieces:
            # Every place a PIECE-long slice of the secret starts, by its offset from the
            # secret's own start (runs along one offset are one piece).
            starts: dict[int, list[int]] = {}
            for gram in grams:
                at = lowered.find(gram)
                while at >= 0:
                    offset = secret.find(gram)
                    while offset >= 0:
                        starts.setdefault(at - offset, []).append(at)
                        offset = secret.find(gram, offset + 1)
                    at = lowered.find(gram, at + 1)
            pieces: list[tuple[int, int]] = []
            covered: list[tuple[int, int]] = []
            for shift, places in starts.items():
                places.sort()
                first = last = places[0]
                for at in places[1:] + [None]:
                    if at is not None and at == last + 1:
                        last = at
                        continue
                    pieces.append((first, last + PIECE))
                    covered.append((first - shift, last + PIECE - shift))
                    if at is not None:
                        first = last = at
            # The pieces reveal the secret when they hold all of it, but for a gap too short
            # to be looked for (a last ``2==``), and more than a piece or two of a short one.
            shown = sum(min(end, len(secret)) - max(start, 0) for start, end in _merged(covered))
            if shown >= max(2 * PIECE, len(secret) - PIECE + 1):
                found.extend(pieces)
        return found

    def scrub_value(self, value: Any) -> Any:
        """A parsed JSON value (tuples too) with every string in it (keys included) scrubbed: each
        distinct string once, since a manifest or catalog says the same few strings thousands of times.
        With no secret to remove, ``value`` itself."""
        if not self.secrets:
            return value
        return self._scrub_value(value, {})

    def _scrub_value(self, value: Any, scrubbed: dict[str, str]) -> Any:
        if isinstance(value, str):
            found = scrubbed.get(value)
            if found is None:
                found = scrubbed[value] = self.scrub(value)
            return found
        if isinstance(value, dict):
            return {self._scrub_value(k, scrubbed): self._scrub_value(v, scrubbed) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self._scrub_value(item, scrubbed) for item in value)
        return value


def _masked(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with each of ``spans`` (merged where they overlap) replaced by the mask."""
    if not spans:
        return text
    pieces, position = [], 0
    for start, end in _merged(spans):
        pieces.append(text[position:start])
        pieces.append(MASK)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out
