"""``--select state:modified``: the nodes whose fingerprint differs from a previous manifest."""

from __future__ import annotations

import json
from pathlib import Path

from stockx_export.analysis.fingerprint import fingerprints
from stockx_export.errors import SelectionError

STATES = ("modified", "new")


def previous_manifest(project, given: str | None) -> Path:
    """The manifest to compare with: ``--state PATH`` (a file or its folder), else the last one in target/."""
    path = Path(given) if given else project.config.target_dir / "manifest.json"
    if not path.is_absolute() and given:
        path = Path.cwd() / path
    return path / "manifest.json" if path.is_dir() else path


class ManifestState:
    """Answers ``state:modified`` / ``state:new`` for ``project`` against a previous manifest
    (a StateComparison, passed to stockx_export.core.selector.select)."""

    def __init__(self, project, given: str | None = None) -> None:
        self.project = project
        self.given = given

    def __call__(self, value: str) -> set[str]:
        project = self.project
        if value not in STATES:
            raise SelectionError(f"state:{value} is not a state; use state:modified or state:new")
        path = previous_manifest(project, self.given)
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
