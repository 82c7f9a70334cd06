"""``--select state:modified`` / ``state:new``: the nodes that differ from a previous manifest (``--state``).

A manifest stockx wrote is compared by fingerprint (stockx_export.analysis.fingerprint:
the rendered SQL, config and upstream); one dbt wrote, by the checksums dbt writes
(the sha256 of each node's file), so a node is modified when its file changed or
it is new. As in dbt, a state selector without ``--state`` is an error.
"""

from __future__ import annotations

from pathlib import Path

from stockx_export.analysis.fingerprint import fingerprints
from stockx_export.core.artifacts import MANIFEST, Manifest, file_checksum, read_manifest
from stockx_export.errors import ArtifactError, SelectionError

STATES = ("modified", "new")


def previous_manifest(given: str) -> Path:
    """The manifest ``--state PATH`` names: the file, or ``manifest.json`` in the folder."""
    path = Path(given)
    if not path.is_absolute():
        path = Path.cwd() / path
    return path / MANIFEST if path.is_dir() else path


def load_state(given: str | None, what: str) -> Manifest:
    """The manifest of ``--state`` (``given``), for ``what`` (the selector or flag that needs it)."""
    if not given:
        raise SelectionError(
            f"{what} needs a manifest to compare with, and --state was not given; "
            "pass --state PATH (the manifest.json of an earlier run, or the folder holding it)"
        )
    path = previous_manifest(given)
    try:
        return read_manifest(path)
    except ArtifactError as exc:
        if exc.missing:
            raise SelectionError(f"{what}: --state {given}: {path} does not exist") from None
        raise SelectionError(f"{what}: --state {given}: {exc}") from None


class ManifestState:
    """Answers ``state:modified`` / ``state:new`` for ``project`` against the ``--state`` manifest
    (a StateComparison, passed to stockx_export.core.selector.select)."""

    def __init__(self, project, given: str | None = None) -> None:
        self.project = project
        self.given = given
        self._manifest: Manifest | None = None

    def __call__(self, value: str) -> set[str]:
        project = self.project
        if value not in STATES:
            raise SelectionError(f"state:{value} is not a state; use state:modified or state:new")
        if self._manifest is None:
            self._manifest = load_state(self.given, f"state:{value}")
        before = self._manifest.nodes
        if value == "new":
            return {uid for uid in project.nodes if uid not in before}
        if self._manifest.written_by_stockx:
            now = fingerprints(project)
            return {uid for uid in project.nodes if uid not in before or before[uid].fingerprint != now.get(uid)}
        return {uid for uid, node in project.nodes.items() if uid not in before or _changed_file(project, node, before[uid])}


def _changed_file(project, node, old) -> bool:
    checksum = file_checksum(project.config.root, node)
    return checksum["name"] != "none" and checksum["checksum"] != old.checksum
