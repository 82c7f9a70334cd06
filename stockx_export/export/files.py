"""``--out DIR``: pages as ``page-000001.json`` ... and a ``manifest.json`` describing them."""

from __future__ import annotations

import errno
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
IN_PROGRESS = ".stockx-export-in-progress"  # while pages are written, until the manifest is
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

    A folder that cannot be created or written (permissions, a full disk) raises
    :class:`ExportError` naming it; the pages this export wrote are removed. An
    export stopped before its manifest was written (killed, say) leaves a
    marker, so the next one knows those pages are its own to remove.
    """
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _cannot(f"create the directory {out_dir}", exc) from None
    earlier = _earlier_pages(out_dir)
    foreign = sorted(p.name for p in out_dir.glob("page-*.json") if p.name not in earlier)
    if foreign:
        more = f" and {len(foreign) - SHOWN:,} more" if len(foreign) > SHOWN else ""
        raise ExportError(
            f"{out_dir} holds page files no earlier export listed in its {MANIFEST} ({', '.join(foreign[:SHOWN])}"
            f"{more}); stockx removes only the pages it wrote: move them away, or choose another --out directory"
        )
    marker = out_dir / IN_PROGRESS
    written: list[Path] = []
    target = marker  # the file being written (a failed write() names none)
    try:
        # Before any page is removed or written: from here on every page file in the
        # folder is this export's (no foreign one was there), whatever stops it.
        marker.write_text("stockx export --out is writing here, or stopped before its manifest was written\n",
                          encoding="utf-8")
        for name in sorted(earlier):
            (out_dir / name).unlink(missing_ok=True)
        (out_dir / MANIFEST).unlink(missing_ok=True)
        entries = []
        rows = size = 0
        for page in pages:
            path = target = out_dir / page_file_name(page.number)
            written.append(path)
            path.write_bytes(page.body)
            entries.append({
                "file": path.name,
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
        partial = target = out_dir / f".{MANIFEST}.partial"
        written.append(partial)
        partial.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(partial, out_dir / MANIFEST)
    except OSError as exc:
        left = _remove(written + [marker])
        error = _cannot(f"write {exc.filename or target}", exc)
        raise ExportError(f"{error}; {left}") from None
    except BaseException:
        # Stopped by something else (a row too large for a page, Ctrl-C): no half export stays behind.
        _remove(written + [marker])
        raise
    marker.unlink(missing_ok=True)
    return manifest


def _cannot(what: str, exc: OSError) -> ExportError:
    """The error for a file operation the system refused, with what to do about it."""
    reason = exc.strerror or type(exc).__name__
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        fix = "free space there, or choose another --out directory"
    else:
        fix = "check the directory and its permissions, or choose another --out directory"
    return ExportError(f"cannot {what}: {reason}; {fix}")


def _remove(paths: list[Path]) -> str:
    """Remove what a failed export wrote; says what became of it."""
    kept = []
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            kept.append(path.name)
    if kept:
        return (f"nothing was exported; {len(kept):,} of its files could not be removed ({', '.join(kept[:SHOWN])}): "
                "the next export into the folder removes them")
    return "nothing was exported, and the pages written before the failure were removed"


def _earlier_pages(out_dir: Path) -> set[str]:
    """The page files the manifest in ``out_dir`` lists (none without a manifest), and
    every page file when an export into ``out_dir`` stopped before writing its manifest."""
    if (out_dir / IN_PROGRESS).exists():
        return {p.name for p in out_dir.glob("page-*.json") if PAGE_NAME.fullmatch(p.name)}
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
