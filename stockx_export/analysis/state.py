"""``--select state:modified``: the nodes whose fingerprint differs from a previous manifest."""

from __future__ import annotations

import json
from pathlib import Path

from stockx_export.errors import SelectionError

STATES = ("modified", "new")


def previous_manifest(project) -> Path:
    """The manifest to compare with: ``--state PATH`` (a file or its folder), else the last one in target/."""
    given = getattr(project, "state_path", None)
    path = Path(given) if given else project.config.target_dir / "manifest.json"
    if not path.is_absolute() and given:
        path = Path.cwd() / path
    return path / "manifest.json" if path.is_dir() else path


def select_state(project, value: str) -> set[str]:
    from stockx_export.analysis.fingerprint import fingerprints

    if value not in STATES:
        raise SelectionError(f"state:{value} is not a state; use state:modified or state:new")
    path = previous_manifest(project)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SelectionError(
            f"state:{value} compares with a previous manifest, and {path} does not exist; "
            "pass --state PATH (a manifest.json or the folder holding it) or build once first"
        ) from None
    except (OSError, ValueError) as exc:
        raise SelectionError(f"state:{value}: cannot read {path}: {exc}") from None
    before = {uid: entry.get("fingerprint") for uid, entry in manifest.get("nodes", {}).items()}
    now = fingerprints(project)
    if value == "new":
        return {uid for uid in project.nodes if uid not in before}
    return {uid for uid in project.nodes if uid not in before or before[uid] != now.get(uid)}
