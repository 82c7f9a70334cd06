"""``--out DIR``: pages as ``page-000001.json`` ... and a ``manifest.json`` describing them."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Iterable

from stockx_export.errors import ExportError
from stockx_export.export.contract import Resource
from stockx_export.export.pages import Page
from stockx_export.export.serialize import row_key


MANIFEST = "manifest.json"
PAGE_NAME = re.compile(r"page-\d{6,}\.json")
SHOWN = 5  # foreign page files named in the error


def page_file_name(number: int) -> str:
    return f"page-{number:06d}.json"


def write_pages(
    pages: Iterable[Page], out_dir: Path, resource: Resource, model: str, settings: dict[str, Any]
) -> dict[str, Any]:
    """Write every page and the manifest; return the manifest.

    The pages of the earlier export into ``out_dir`` (those its manifest lists)
    are removed first, and nothing else: a ``page-*.json`` no manifest lists, or
    a ``manifest.json`` stockx did not write, raises :class:`ExportError` before
    anything is written or removed. So the directory holds exactly the pages the
    manifest lists, and no one else's file is deleted or overwritten.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    earlier = _earlier_pages(out_dir)
    foreign = sorted(p.name for p in out_dir.glob("page-*.json") if p.name not in earlier)
    if foreign:
        more = f" and {len(foreign) - SHOWN:,} more" if len(foreign) > SHOWN else ""
        raise ExportError(
            f"{out_dir} holds page files no earlier export listed in its {MANIFEST} ({', '.join(foreign[:SHOWN])}"
            f"{more}); stockx removes only the pages it wrote: move them away, or choose another --out directory"
        )
    for name in sorted(earlier):
        (out_dir / name).unlink(missing_ok=True)
    (out_dir / MANIFEST).unlink(missing_ok=True)
    entries = []
    rows = size = 0
    for page in pages:
        name = page_file_name(page.number)
        (out_dir / name).write_bytes(page.body)
        entries.append({
            "file": name,
            "rows": len(page.rows),
            "bytes": page.size,
            "sha256": page.sha256,
            "first_key": list(row_key(resource, page.rows[0])),
            "last_key": list(row_key(resource, page.rows[-1])),
        })
        rows += len(page.rows)
        size += page.size
    manifest = {
        "model": model,
        "object": resource.object_name,
        "key": list(resource.key_names),
        "totals": {"pages": len(entries), "rows": rows, "bytes": size},
        "settings": settings,
        "pages": entries,
    }
    # Written last, and whole (renamed into place): a manifest present means every
    # page it lists is complete, and is always one the next export can read.
    partial = out_dir / f".{MANIFEST}.partial"
    partial.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(partial, out_dir / MANIFEST)
    return manifest


def _earlier_pages(out_dir: Path) -> set[str]:
    """The page files the manifest in ``out_dir`` lists (none without a manifest)."""
    path = out_dir / MANIFEST
    if not path.exists():
        return set()
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise _not_a_manifest(path, f"not readable JSON: {exc}") from None
    pages = manifest.get("pages") if isinstance(manifest, dict) else None
    names = [entry.get("file") for entry in pages if isinstance(entry, dict)] if isinstance(pages, list) else []
    if not isinstance(pages, list) or len(names) != len(pages) or not all(
            isinstance(name, str) and PAGE_NAME.fullmatch(name) for name in names):
        raise _not_a_manifest(path, 'no "pages" list of page-NNNNNN.json files')
    return set(names)


def _not_a_manifest(path: Path, reason: str) -> ExportError:
    return ExportError(
        f"{path} is not a manifest stockx wrote ({reason}), so stockx cannot tell which files in {path.parent} "
        "are its own: move it away, or choose another --out directory"
    )
