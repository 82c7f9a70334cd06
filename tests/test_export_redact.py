"""The scrubber on its own: a secret is found in any mix of the encodings a server
may echo it in, through nested layers, and nothing else in the text changes."""

from __future__ import annotations

import html
import json
import re
from urllib.parse import quote, quote_plus

import pytest

from stockx_export.export.http import CappedBody, answer_text
from stockx_export.redact import Redactor

TOKENS = ['pat&<"/+ x=Zq9', "tök€n/😀 &+<'>", "a\\b%41+c"]


def json_every_char(text: str) -> str:
    """Every character as a JSON \\u escape (Go's encoder does this for & < >)."""
    return "".join(f"\\u{unit:04x}" for char in text for unit in _utf16_units(char))


def _utf16_units(char: str) -> list[int]:
    data = char.encode("utf-16-be")
    return [int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2)]


def lower_percent(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), text)


ENCODINGS = {
    "raw": lambda t: t,
    "json": lambda t: json.dumps(t, ensure_ascii=False)[1:-1],
    "json ascii": lambda t: json.dumps(t)[1:-1],
    "json with \\/": lambda t: json.dumps(t)[1:-1].replace("/", "\\/"),
    "json every char": json_every_char,
    "json upper-case hex": lambda t: json_every_char(t).upper().replace("\\U", "\\u"),
    "url": lambda t: quote(t, safe=""),
    "url lower-case hex": lambda t: lower_percent(quote(t, safe="")),
    "url, + for space": quote_plus,
    "html": lambda t: html.escape(t),
    "html numeric": lambda t: "".join(f"&#{ord(c)};" for c in t),
    "url of json": lambda t: quote(json.dumps(t)[1:-1], safe=""),
    "json of url": lambda t: json.dumps(quote_plus(t))[1:-1],
    "url twice": lambda t: quote(quote(t, safe=""), safe=""),
    "json twice": lambda t: json.dumps(json.dumps(t)[1:-1])[1:-1],
    "json of url of json": lambda t: json.dumps(quote(json.dumps(t)[1:-1], safe=""))[1:-1],
    "python repr": lambda t: repr(t)[1:-1],
    "mixed per character": lambda t: "".join(
        (quote(c, safe=""), json_every_char(c), html.escape(c), c)[i % 4] for i, c in enumerate(t)),
}


@pytest.mark.parametrize("token", TOKENS)
@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_a_secret_is_found_in_any_encoding(token, encoding):
    encoded = ENCODINGS[encoding](token)
    text = f'{{"message": "denied", "you sent": "Authorization: {encoded}", "n": 1}}'
    assert Redactor.of(token).scrub(text) == '{"message": "denied", "you sent": "Authorization: ***", "n": 1}'


def test_every_occurrence_goes_and_the_rest_of_the_text_stays_as_it_was():
    token = 'pat&<"/+ x=Zq9'
    text = f"a %41 \\u0041 &amp; {token} b {quote_plus(token)} c \\n {json.dumps(token)} d"
    assert Redactor.of(token).scrub(text) == 'a %41 \\u0041 &amp; *** b *** c \\n "***" d'


def test_nothing_to_scrub_leaves_text_identical():
    text = 'café %zz \\q \\u12 &nosuch; %E9 \\ud800 ' + "x" * 1000
    assert Redactor.of("secret-token").scrub(text) == text
    assert Redactor.of().scrub(text) == text


def test_parsed_values_are_scrubbed_keys_included():
    token = "pat&x"
    value = {"a": [token, {"k": f"x{token}y"}], token: 1, "n": 2}
    assert Redactor.of(token).scrub_value(value) == {"a": ["***", {"k": "x***y"}], "***": 1, "n": 2}


@pytest.mark.parametrize("offset", [0, 1, 2])
def test_a_secret_in_base64_or_hex_is_found_at_any_byte_offset(offset):
    """The token echoed inside a ``Basic`` header, or as hex: no decoding of characters
    brings it back, so its binary forms are looked for as they are."""
    import base64

    token = "pat-9f3c&x"
    encoded = base64.b64encode(b"u" * offset + token.encode()).decode()
    text = f"Authorization: Basic {encoded} / {token.encode().hex()} / {token.encode().hex().upper()}"
    scrubbed = Redactor.of(token).scrub(text)
    assert scrubbed.count("***") == 3
    assert base64.b64encode(token.encode()).decode()[2:-2] not in scrubbed
    for shown in (encoded, token.encode().hex(), token.encode().hex().upper()):
        assert shown not in scrubbed


def test_environment_secrets():
    redactor = Redactor.from_env({"PEAK_AUTH_TOKEN": "  pat-1 ", "OTHER": "x"}, ["PEAK_AUTH_TOKEN", "UNSET"])
    assert redactor.scrub("pat-1 and  pat-1 ") == "*** and  *** "


def test_a_body_cut_by_the_cap_loses_a_token_cut_in_two_and_says_it_was_cut():
    token = "pat&<secret/token"
    body = ("x" * 990 + token).encode()
    reader = CappedBody(None, 1_000)
    assert reader.feed(body) is False
    data = reader.finish()
    assert len(data) == 1_000 and reader.truncated
    text = answer_text(data, "application/json", True, 1_000, Redactor.of(token))
    assert "pat&<se" not in text and "pat" not in text[-200:]
    assert text.endswith("\n[stockx: the answer was longer than 1,000 bytes; the rest was not read]")


def test_a_compressed_answer_is_inflated_only_up_to_the_cap():
    import gzip

    bomb = gzip.compress(b"\x00" * 50_000_000)  # 50 MB of zeros in about 50 KB
    reader = CappedBody("gzip", 1_000_000)
    fed = 0
    for start in range(0, len(bomb), 16_384):
        fed += 1
        if not reader.feed(bomb[start:start + 16_384]):
            break
    assert reader.truncated and len(reader.finish()) == 1_000_000
    assert sum(map(len, reader.parts)) <= 1_000_001  # never held more than the cap
    assert fed < len(bomb) // 16_384  # stopped reading early


# Review finding 4: echoes the character decodings could not bring back.
CUT_TOKEN = "tOk+SeCrEt/42=="


@pytest.mark.parametrize(("echo", "scrubbed"), [
    ("TOK+SECRET/42==", "***"),  # upper case
    ("tok+secret/42==", "***"),  # lower case
    ("==24/tErCeS+kOt", "***"),  # reversed
    (json.dumps({"a": "tOk+Se", "b": "CrEt/42=="}), '{"a": "***", "b": "***"}'),  # two fields
    (json.dumps({"b": "Et/42==", "a": "tOk+SeCr"}), '{"b": "***", "a": "***"}'),  # out of order
    ('{"p": ["tOk+", "SeCr", "Et/4", "2=="]}', '{"p": ["***", "***", "***", "2=="]}'),  # four pieces, one short
    ("tOk+SeCr\nEt/42==", "***\n***"),  # a wrapped line
    ('{"a": "tOk\\u002bSe", "b": "CrEt\\/42=="}', '{"a": "***", "b": "***"}'),  # pieces JSON-escaped
    ("".join(c + "\x00" for c in CUT_TOKEN), "***\x00"),  # UTF-16 LE read as UTF-8
    ("".join("\x00" + c for c in CUT_TOKEN), "***"),  # UTF-16 BE
    ("".join(c + "\x00\x00\x00" for c in CUT_TOKEN), "***\x00\x00\x00"),  # UTF-32 LE
])
def test_a_secret_in_another_case_reversed_cut_apart_or_between_nuls_is_found(echo, scrubbed):
    assert Redactor.of(CUT_TOKEN).scrub(f"you sent {echo}.") == f"you sent {scrubbed}."


@pytest.mark.parametrize("text", [
    '{"a": "tOk+Se", "b": "nothing"}',  # a piece, but not the whole secret
    "tOk +SeC rEt /42==",  # pieces too short to look for, but /42==
    "SeCrEt",
])
def test_pieces_that_do_not_make_up_the_secret_stay(text):
    assert Redactor.of(CUT_TOKEN).scrub(text) == text


@pytest.mark.parametrize(("encoding", "content_type"), [
    ("utf-16", "application/json"), ("utf-16-le", "application/json"), ("utf-16-be", "application/json"),
    ("utf-32", "application/json"), ("utf-8-sig", "application/json"),
    ("utf-16-le", "application/json; charset=utf-8"),  # a charset that lies
])
def test_an_answer_in_utf16_or_utf32_is_read_as_such_and_scrubbed(encoding, content_type):
    body = json.dumps({"message": f"bad token {CUT_TOKEN}"}).encode(encoding)
    text = answer_text(body, content_type, False, 1_000_000, Redactor.of(CUT_TOKEN))
    assert "***" in text and CUT_TOKEN not in text.replace("\x00", "")
    if "charset" not in content_type:
        assert text == '{"message": "bad token ***"}'
