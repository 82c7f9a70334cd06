"""Peak's inventory family as the project exports it: which models name a Peak object,
which of them are parents of which, and the order they are pushed in.

::

    family = read_family(Path("target"))     # from target/manifest.json
    family.order                             # ('product_categories', 'locations', 'products', 'stock', 'stock_extra')
    family.parents("stock_extra")            # ('locations', 'products')
    family.foreign_keys("stock_extra")       # (ForeignKey('product_id', 'products', 'product_id'), ...)

A model is in the family when its ``meta`` has ``peak`` (``meta: {peak: {object:
...}}``). A child's foreign keys are its ``relationships`` tests whose ``to`` is
another model of the family; besides those, a family model that depends on
another one in the DAG (through any chain of models) is pushed after it. The
order goes by level, then by model name within a level: a model's level is as late
as its children allow (the longest chain of parents fills every level; a parent
is one level before its earliest child), so categories go first, then products and
locations, then stock and stock_extra; a cycle is an error naming it
(``products -> stock -> products``). A project where no model has ``meta.peak``
is the family of ``stock_extra`` alone, as before families existed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stockx_export.core.artifacts import MANIFEST, read_manifest
from stockx_export.core.dag import DAG
from stockx_export.errors import ArtifactError, CycleError, ExportError
from stockx_export.export.settings import META_KEY

DEFAULT_MODEL = "stock_extra"  # the family of a project whose models name no Peak object


@dataclass(frozen=True)
class ForeignKey:
    """A child's ``column`` refers to ``parent``'s ``field`` (a relationships test)."""

    column: str
    parent: str
    field: str


@dataclass(frozen=True)
class Member:
    """One exported model: its Peak object (as its meta names it) and its foreign keys."""

    model: str
    object: str | None
    foreign_keys: tuple[ForeignKey, ...] = ()
    after: tuple[str, ...] = ()  # family models it depends on in the DAG (foreign-key parents included)


@dataclass(frozen=True)
class Family:
    """The exported models, parents before children."""

    members: tuple[Member, ...]
    # Whether a model names its Peak object (meta.peak.object); a family that does not is
    # checked against Peak's schema only when asked.
    declared: bool = True

    @property
    def order(self) -> tuple[str, ...]:
        return tuple(m.model for m in self.members)

    def member(self, model: str) -> Member | None:
        return next((m for m in self.members if m.model == model), None)

    def foreign_keys(self, model: str) -> tuple[ForeignKey, ...]:
        member = self.member(model)
        return member.foreign_keys if member is not None else ()

    def parents(self, model: str) -> tuple[str, ...]:
        """The family models ``model`` must be pushed after, by name."""
        member = self.member(model)
        return member.after if member is not None else ()

    def ancestors(self, model: str) -> set[str]:
        found: set[str] = set()
        todo = list(self.parents(model))
        while todo:
            parent = todo.pop()
            if parent not in found:
                found.add(parent)
                todo.extend(self.parents(parent))
        return found

    def select(self, models: tuple[str, ...]) -> tuple[str, ...]:
        """``models`` in family order (a model outside the family goes last, by name)."""
        inside = [m for m in self.order if m in models]
        return tuple(inside + sorted(set(models) - set(inside)))


def read_family(target_dir: Path) -> Family:
    """The family in ``target_dir/manifest.json`` (see the module docstring)."""
    path = Path(target_dir) / MANIFEST
    try:
        manifest = read_manifest(path)
    except ArtifactError as exc:
        if exc.missing:
            raise ExportError(f"{path} not found: no build recorded; run `stockx build` first") from None
        raise ExportError(f"{path} cannot be read ({exc}); run `stockx build` again") from None
    return family_of({uid: node.raw for uid, node in manifest.nodes.items()})


def family_of(nodes: dict[str, Any]) -> Family:
    """The family of a manifest's ``nodes``."""
    models = {uid: n for uid, n in nodes.items() if n.get("resource_type") == "model"}
    exported = {uid: n for uid, n in models.items() if isinstance((n.get("meta") or {}).get(META_KEY), dict)}
    if not exported:
        return Family((Member(DEFAULT_MODEL, None),), declared=False)
    names = {uid: n["name"] for uid, n in exported.items()}
    keys: dict[str, list[ForeignKey]] = {uid: [] for uid in exported}
    for node in nodes.values():
        fk = _foreign_key(node, exported)
        if fk is not None:
            child, key = fk
            keys[child].append(ForeignKey(key.column, names[key.parent], key.field))
    dag: DAG[str] = DAG(sort_key=lambda uid: names.get(uid, uid), label=lambda uid: names.get(uid, uid))
    after: dict[str, set[str]] = {}
    for uid in sorted(exported):
        upstream = _exported_upstream(uid, models, exported)
        upstream |= {next(u for u, n in names.items() if n == k.parent) for k in keys[uid]}
        upstream.discard(uid)
        after[uid] = upstream
        dag.add(uid, sorted(upstream))
    try:
        order = dag.sorted()
    except CycleError as exc:
        cycle = str(exc).removeprefix("dependency cycle: ")
        raise ExportError(f"the exported models' foreign keys form a cycle: {cycle}"
                          "; a Peak object cannot be pushed before its own parent: remove a relationships test "
                          "or a ref() of the cycle") from None
    unnamed = sorted(uid for uid in exported if not exported[uid]["meta"][META_KEY].get("object"))
    if unnamed and len(exported) > 1:
        where = str(exported[unnamed[0]].get("patch_path") or "").split("://", 1)[-1]  # dbt's "<package>://"
        others = ", ".join(sorted(n for u, n in names.items() if u not in unnamed))
        raise ExportError(
            f"meta.{META_KEY} of model {names[unnamed[0]]}{f' ({where})' if where else ''} names no Peak object, "
            f"and other models of the family do ({others}): "
            f"add object: <the Peak object it fills, e.g. PRODUCT> to its meta.{META_KEY} (without it, it would go "
            f"to {DEFAULT_MODEL.upper()})")
    members = []
    for uid in _by_level(order, after, names):
        meta = exported[uid]["meta"][META_KEY]
        fks = tuple(sorted(set(keys[uid]), key=lambda k: (k.column, k.parent, k.field)))
        members.append(Member(names[uid], meta.get("object"), fks, tuple(sorted(names[p] for p in after[uid]))))
    return Family(tuple(members), declared=any(m.object for m in members))


def _by_level(order: list[str], after: dict[str, set[str]], names: dict[str, str]) -> list[str]:
    """``order`` (topological) regrouped by level, then by name within a level. A model's
    level is as late as its children allow: the models at the end of the longest chain
    are the last level, and a parent is one level before its earliest child. So the
    sample family goes in Peak's three levels (product_categories; then locations and
    products; then stock and stock_extra) rather than with a childless root first."""
    children: dict[str, set[str]] = {uid: set() for uid in order}
    for uid in order:
        for parent in after[uid]:
            children[parent].add(uid)
    height: dict[str, int] = {}
    for uid in reversed(order):
        height[uid] = 1 + max((height[c] for c in children[uid]), default=-1)
    top = max(height.values(), default=0)
    return sorted(order, key=lambda uid: (top - height[uid], names[uid]))


def _foreign_key(node: dict[str, Any], exported: dict[str, Any]) -> tuple[str, ForeignKey] | None:
    """(child uid, a ForeignKey whose ``parent`` is the parent's uid) of a relationships
    test between two exported models, else None."""
    if node.get("resource_type") != "test":
        return None
    metadata = node.get("test_metadata") or {}
    if metadata.get("name") != "relationships":
        return None
    child = node.get("attached_node")
    column = node.get("column_name") or (metadata.get("kwargs") or {}).get("column_name")
    field = (metadata.get("kwargs") or {}).get("field")
    parents = [uid for uid in (node.get("depends_on") or {}).get("nodes", []) if uid != child and uid in exported]
    if child not in exported or not column or not field or len(parents) != 1:
        return None
    return child, ForeignKey(column, parents[0], field)


def _exported_upstream(uid: str, models: dict[str, Any], exported: dict[str, Any]) -> set[str]:
    """The exported models ``uid`` reads, directly or through models that are not exported."""
    found: set[str] = set()
    seen: set[str] = set()
    todo = list((models[uid].get("depends_on") or {}).get("nodes", []))
    while todo:
        parent = todo.pop()
        if parent in seen or parent not in models:
            continue
        seen.add(parent)
        if parent in exported:
            found.add(parent)
        else:
            todo.extend((models[parent].get("depends_on") or {}).get("nodes", []))
    return found
