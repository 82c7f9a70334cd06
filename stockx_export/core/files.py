"""Reading a project's text files, with an error that names the file and line when one is not UTF-8."""

from __future__ import annotations

from pathlib import Path

from stockx_export.errors import ProjectError


def read_text(path: Path, display: str) -> str:
    """The text of ``path`` (UTF-8; a byte order mark is dropped)."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise not_utf8(data, exc, display) from None


def not_utf8(data: bytes, exc: UnicodeDecodeError, display: str) -> ProjectError:
    line = data.count(b"\n", 0, exc.start) + 1
    return ProjectError(f"{display}:{line}: byte 0x{data[exc.start]:02x} is not UTF-8; save the file as UTF-8")
