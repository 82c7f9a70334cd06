"""The family push: every exported model, parents first, each through the one-object sync.

::

    result = push_family(config, env=os.environ)                 # every model with meta.peak
    result = push_family(config, ("stock_extra",), env=...)      # just that one (parents' acks still count)
    result.outcomes                                              # one per model, in push order
    reports = plan_family(config)                                # a PlanReport per model

Steps, for the models asked (all of the family by default):

1. each model's job (its settings, its Peak resource), and its parents' jobs,
   whose destinations say which parent keys Peak holds (their own sync state:
   URL + object + solution);
2. the schema check (:mod:`stockx_export.export.schema`), before the first
   push to a destination or with ``check_schema`` (a project whose models name
   no Peak object in meta.peak.object only with ``check_schema``): any difference stops the
   whole family before a row is sent; 404/405 is reported and the push goes on;
   declared custom attributes Peak lacks are added;
3. each model in family order through :func:`stockx_export.sync.service.push`
   with its foreign keys, so rows whose parent Peak lacks are held; a model
   whose parent (in this run) was aborted or skipped is skipped.

An interrupt (Ctrl-C, SIGTERM) stops the family at once. A family of one model
raises its error as a single push does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from stockx_export.errors import ExportError, FamilyAborted, PushInterrupted, SchemaMismatch, StockxError
from stockx_export.export import run as export_run
from stockx_export.export import schema as peak_schema
from stockx_export.export.family import Family, read_family
from stockx_export.export.http import new_client
from stockx_export.export.retry import Clock
from stockx_export.export.run import ExportJob
from stockx_export.export import service as export_service
from stockx_export.export.service import Progress, SendResult, Sending
from stockx_export.sync import service
from stockx_export.sync.plan import ParentKey
from stockx_export.sync.service import PlanReport, PushResult
from stockx_export.sync.state import Destination

PUSHED, ABORTED, SKIPPED = "pushed", "aborted", "skipped"


@dataclass(frozen=True)
class Outcome:
    """What happened to one model of a family push."""

    model: str
    object: str
    status: str  # pushed, aborted or skipped
    result: PushResult | None = None
    error: StockxError | None = None
    reason: str = ""  # why it was skipped


@dataclass(frozen=True)
class SchemaNotes:
    """The schema check of a family push or plan: notes to print (not readable, attributes added or to add)."""

    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class FamilyResult:
    """A family push: one outcome per model in push order, warnings, the schema check's notes."""

    outcomes: tuple[Outcome, ...]
    warnings: tuple[str, ...] = ()
    schema: SchemaNotes = SchemaNotes()

    @property
    def rejected(self) -> int:
        return sum(o.result.rejected for o in self.outcomes if o.result is not None)

    @property
    def held(self) -> int:
        return sum(o.result.held for o in self.outcomes if o.result is not None)

    @property
    def exit_code(self) -> int:
        """2 when a model was aborted or skipped, else 1 when rows were refused or held, else 0."""
        if any(o.status != PUSHED for o in self.outcomes):
            return 2
        return 1 if self.rejected or self.held else 0


@dataclass(frozen=True)
class FamilyPlan:
    """A plan per model, in push order, and the schema check's notes."""

    reports: tuple[PlanReport, ...]
    warnings: tuple[str, ...] = ()
    schema: SchemaNotes = SchemaNotes()
    # A child's parent is planned before it in this run: its keys in the parent's table count
    # as acknowledged-to-be (the plan cannot know which rows Peak will refuse).
    assumes_parents: bool = False


def _jobs(config: Any, family: Family, models: Sequence[str], overrides: Mapping[str, Any],
          env: Mapping[str, str]) -> dict[str, ExportJob]:
    """The job of each model asked and of each of their parents (a parent not asked is not
    judged by its last build: only its destination is needed)."""
    if len(models) > 1 and overrides.get("object"):
        raise ExportError("--object names one model's Peak object: give it with one model only")
    jobs = {}
    wanted = list(models) + sorted({p for m in models for p in family.ancestors(m)} - set(models))
    for model in wanted:
        jobs[model] = export_run.prepare(config, model, dict(overrides), env, check_last_build=model in models)
    by_destination: dict[str, list[str]] = {}
    for model in sorted(jobs):
        by_destination.setdefault(Destination.from_settings(jobs[model].settings).id, []).append(model)
    for shared in by_destination.values():
        if len(shared) > 1:
            # One destination keeps one table's acknowledgements: each push would count the
            # other's rows as gone and send them again.
            destination = Destination.from_settings(jobs[shared[0]].settings).describe()
            raise ExportError(f"models {' and '.join(shared)} both push to {destination}: give each its own Peak "
                              "object in meta.peak (object: ...)")
    return jobs


def parent_keys(family: Family, model: str, jobs: Mapping[str, ExportJob],
                planned: Sequence[str] = ()) -> tuple[ParentKey, ...]:
    """``model``'s foreign keys as the plan holds rows by: each parent's destination, and
    (for a parent in ``planned``: pushed earlier in the same run) its table."""
    keys = []
    for fk in family.foreign_keys(model):
        parent = jobs[fk.parent]
        if parent.resource.key_names != (fk.field,):
            raise ExportError(
                f"model {model}: the relationships test on {fk.column} points at {fk.parent}.{fk.field}, which is not "
                f"the key of Peak's {parent.settings.object} ({', '.join(parent.resource.key_names)}): point it at the "
                "key, or remove meta.peak from one of the two models")
        destination = Destination.from_settings(parent.settings)
        table = parent.relation if fk.parent in planned else None
        keys.append(ParentKey(fk.column, f"{parent.settings.object} ({fk.parent})", destination.id, table, fk.field))
    return tuple(keys)


def _selection(family: Family, models: Sequence[str]) -> tuple[str, ...]:
    if not models:
        return family.order
    unknown = [m for m in models if family.member(m) is None and len(family.members) > 1]
    if unknown:
        raise ExportError(f"{', '.join(unknown)}: not an exported model (models with meta.peak: "
                          f"{', '.join(family.order)})")
    return family.select(tuple(models))


def _parent_warnings(config: Any, family: Family, selected: Sequence[str], jobs: Mapping[str, ExportJob],
                     state_db: str | None) -> tuple[str, ...]:
    """A warning per parent left out of this run that was never pushed: its children's rows are held."""
    acked = service.acknowledged_destinations(config, state_db)
    warnings = []
    for model in selected:
        for parent in family.parents(model):
            if parent in selected or family.member(parent) is None:
                continue
            job = jobs[parent]
            if Destination.from_settings(job.settings).id not in acked:
                warnings.append(f"{model}: its parent {parent} ({job.settings.object}) is not in this push and was "
                                f"never pushed to {Destination.from_settings(job.settings).describe()}: rows naming "
                                f"its keys are held; push {parent} too (`stockx export --push {parent} {model}`)")
    return tuple(warnings)


def check_schema(config: Any, jobs: Sequence[ExportJob], env: Mapping[str, str], client: Any, *,
                 always: bool, add: bool, state_db: str | None = None, clock: Clock = Clock()) -> SchemaNotes:
    """Compare each job's object with Peak's schema (when ``always``, or before the first push
    to its destination); differences raise :class:`SchemaMismatch` listing them. Missing
    declared attributes are added when ``add`` (else only listed)."""
    pushed = set() if always else service.pushed_destinations(config, state_db)
    due = [job for job in jobs if always or Destination.from_settings(job.settings).id not in pushed]
    if not due:
        return SchemaNotes()
    token = export_run.token_from(env)
    notes: list[str] = []
    reads: dict[tuple[str, str], peak_schema.SchemaRead] = {}
    checks = []
    for job in due:
        export_run.check_transport(job.settings)
        where = (job.settings.schema_url, job.settings.solution_name)
        if where not in reads:
            reads[where] = peak_schema.read_schema(client, job.settings, token, job.tenant_headers, clock)
            if not reads[where].readable:
                notes.append(f"{reads[where].note}: columns not checked; the push goes on")
        if reads[where].readable:
            checks.append((job, peak_schema.compare(job.resource, job.settings, reads[where])))
    differences = [d for _, check in checks for d in check.differences]
    if differences:
        raise SchemaMismatch(tuple(differences))
    for job, check in checks:
        for attribute in check.missing_attributes:
            column = attribute.name.upper()
            if not add:
                notes.append(f"{check.object_name}: would add attribute {column} ({attribute.data_type})")
            elif peak_schema.add_attribute(client, job.settings, token, attribute, job.tenant_headers, clock):
                notes.append(f"{check.object_name}: added attribute {column} ({attribute.data_type})")
            else:
                notes.append(f"{check.object_name}: attribute {column} exists already (HTTP 409)")
    return SchemaNotes(tuple(notes))


def push_family(config: Any, models: Sequence[str] = (), *, full: bool = False, force: bool = False,
                state_db: str | None = None, overrides: Mapping[str, Any] | None = None,
                env: Mapping[str, str] | None = None, client: Any = None, progress: Progress | None = None,
                handle_signals: bool = False, check_schema_always: bool = False,
                clock: Clock = Clock(), on_aborted: Callable[[Outcome, bool], None] | None = None) -> FamilyResult:
    """Push ``models`` (default: the whole family) parents first; see the module docstring.
    ``on_aborted`` hears of each model that aborts, at once (before the next model starts),
    with whether its delivery had started (``progress`` had been called for it)."""
    env = os.environ if env is None else env
    overrides = dict(overrides or {})
    family = read_family(Path(config.target_dir))
    selected = _selection(family, models)
    jobs = _jobs(config, family, selected, overrides, env)
    for model in selected:
        export_run.check_transport(jobs[model].settings)
    warnings = _parent_warnings(config, family, selected, jobs, state_db)
    # The tables first: a table that cannot be sent is the user's first problem, before Peak's schema.
    rows = {model: export_run.preflight_table(export_run.export_database(config, jobs[model]), jobs[model])
            for model in selected}
    own = client is None
    client = new_client(jobs[selected[0]].settings) if own else client
    try:
        notes = SchemaNotes()
        if family.declared or check_schema_always:
            notes = check_schema(config, [jobs[m] for m in selected], env, client, always=check_schema_always,
                                 add=True, state_db=state_db, clock=clock)
        outcomes: list[Outcome] = []
        failed: set[str] = set()
        for model in selected:
            job = jobs[model]
            blocked = sorted(p for p in family.ancestors(model) if p in failed)
            if blocked:
                failed.add(model)
                outcomes.append(Outcome(model, job.settings.object, SKIPPED,
                                        reason=f"its parent {', '.join(blocked)} did not finish its push"))
                continue
            started: list[Sending] = []

            def watched(sending: Sending) -> Any:
                started.append(sending)
                return progress(sending)

            try:
                result = service.push(config, model, full=full, force=force, state_db=state_db, overrides=overrides,
                                      env=env, client=client, progress=watched if progress else None,
                                      handle_signals=handle_signals,
                                      clock=clock, parents=parent_keys(family, model, jobs),
                                      table_rows=rows[model])
            except (KeyboardInterrupt, PushInterrupted):
                raise
            except ExportError as exc:
                if len(selected) == 1:
                    raise
                failed.add(model)
                outcomes.append(Outcome(model, job.settings.object, ABORTED, error=exc))
                if on_aborted is not None:
                    on_aborted(outcomes[-1], bool(started))
                continue
            outcomes.append(Outcome(model, job.settings.object, PUSHED, result))
    finally:
        if own:
            client.close()
    return FamilyResult(tuple(outcomes), warnings, notes)


def plan_family(config: Any, models: Sequence[str] = (), *, full: bool = False, force: bool = False,
                state_db: str | None = None, overrides: Mapping[str, Any] | None = None,
                env: Mapping[str, str] | None = None, client: Any = None, check_schema_always: bool = False,
                clock: Clock = Clock()) -> FamilyPlan:
    """A plan per model in push order. A child's rows count as held when their parent key is
    neither acknowledged nor in a parent table pushed earlier in the same run. The schema
    is read (and the attributes to add listed) only when a token is set."""
    env = os.environ if env is None else env
    overrides = dict(overrides or {})
    family = read_family(Path(config.target_dir))
    selected = _selection(family, models)
    jobs = _jobs(config, family, selected, overrides, env)
    warnings = _parent_warnings(config, family, selected, jobs, state_db)
    notes = SchemaNotes()
    if env.get(export_run.TOKEN_ENV, "").strip() and (family.declared or check_schema_always):
        own = client is None
        client = new_client(jobs[selected[0]].settings) if own else client
        try:
            notes = check_schema(config, [jobs[m] for m in selected], env, client, always=check_schema_always,
                                 add=False, state_db=state_db, clock=clock)
        finally:
            if own:
                client.close()
    reports = []
    assumes = False
    for index, model in enumerate(selected):
        parents = parent_keys(family, model, jobs, planned=selected[:index])
        assumes = assumes or any(p.planned_from is not None for p in parents)
        reports.append(service.plan(config, model, full=full, force=force, state_db=state_db, overrides=overrides,
                                    env=env, parents=parents))
    return FamilyPlan(tuple(reports), warnings, notes, assumes)


@dataclass(frozen=True)
class FamilyValidation:
    """A dry run per model, in push order, and the schema check's notes (what would be added)."""

    results: tuple[tuple[str, SendResult], ...]
    schema: SchemaNotes = SchemaNotes()

    @property
    def rejected(self) -> int:
        return sum(result.rejected for _, result in self.results)


def validate_family(config: Any, models: Sequence[str] = (), *, overrides: Mapping[str, Any] | None = None,
                    env: Mapping[str, str] | None = None, client: Any = None, progress: Progress | None = None,
                    clock: Clock = Clock()) -> FamilyValidation:
    """Each model sent with ``"dryRun": true`` in push order, after Peak's schema is read and
    compared (when the models name their objects): differences stop it, attributes that a
    push would add are listed, nothing is added and no state is kept."""
    env = os.environ if env is None else env
    overrides = dict(overrides or {})
    family = read_family(Path(config.target_dir))
    selected = _selection(family, models)
    notes = SchemaNotes()
    if family.declared:
        jobs = _jobs(config, family, selected, overrides, env)
        own = client is None
        schema_client = new_client(jobs[selected[0]].settings) if own else client
        try:
            notes = check_schema(config, [jobs[m] for m in selected], env, schema_client, always=True, add=False,
                                 clock=clock)
        finally:
            if own:
                schema_client.close()
    results = tuple((model, export_service.validate(config, model, overrides=overrides, env=env, client=client,
                                                    progress=progress, clock=clock)) for model in selected)
    return FamilyValidation(results, notes)


def describe_skip(outcome: Outcome) -> str:
    """The line a skipped model gets."""
    return f"skipped {outcome.model} ({outcome.object}): {outcome.reason}; nothing of it was sent"


def family_error(result: FamilyResult) -> FamilyAborted:
    """The error a family push with an aborted or skipped model ends with (exit code 2)."""
    aborted = [o.model for o in result.outcomes if o.status == ABORTED]
    skipped = [o.model for o in result.outcomes if o.status == SKIPPED]
    return FamilyAborted(tuple(aborted), tuple(skipped))


__all__ = ["FamilyPlan", "FamilyResult", "FamilyValidation", "Outcome", "SchemaNotes", "check_schema", "describe_skip",
           "family_error",
           "parent_keys", "plan_family", "push_family", "validate_family"]
