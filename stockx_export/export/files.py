"""``--out DIR``: pages as ``page-000001.json`` ... and a ``manifest.json`` describing them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

from stockx_export.export.contract import Resource
from stockx_export.export.pages import Page
from stockx_export.export.serialize import row_key


def page_file_name(number: int) -> str:
    return f"page-{number:06d}.json"


def write_pages(
    pages: Iterable[Page], out_dir: Path, resource: Resource, model: str, settings: dict[str, Any]
) -> dict[str, Any]:
    """Write every page and the manifest; return the manifest.

    Page files left from an earlier, longer export are removed first, so the
    directory always holds exactly the pages the manifest lists.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in sorted(out_dir.glob("page-*.json")):
        stale.unlink()
    (out_dir / "manifest.json").unlink(missing_ok=True)
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
    # Written last: a manifest present means every page it lists is complete.
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest
