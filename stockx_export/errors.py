"""The one error hierarchy of stockx: every error class of the package is here.

    StockxError                  anything stockx reports to a user (exit code 2 unless said otherwise)
    ├── ProjectError             the project on disk is wrong: config, YAML, duplicate names, bad refs
    │   ├── CompilationError     Jinja could not render a node (syntax, undefined, raise_compiler_error)
    │   ├── CycleError           the DAG has a cycle; the message names it
    │   ├── CheckError           static checks found problems (``problems``); nothing was run
    │   ├── TranspileError       models use constructs another dialect cannot express (``failures``)
    │   ├── UntranslatableSql    a node uses SQL its target cannot run (``node``, ``constructs``, ``macros``)
    │   └── DriverMissing        a target's Python driver is not installed (``package``, ``extra``)
    ├── TargetUnreachable        a target's server cannot be reached (``host``, ``port``; never a password)
    ├── SelectionError           a --select / --exclude expression is malformed
    ├── ArtifactError            a manifest.json / run_results.json / sources.json cannot be read (``path``, ``missing``)
    ├── DocsError                the docs site cannot be written or served (``path``)
    ├── ExecutionError           DuckDB rejected a statement (exit code 1 when raised for a node)
    │   └── ContractError        a model's output differs from its enforced contract
    ├── BuildFailed              a build ran, and a node or an error-severity test failed (exit code 1; ``results``)
    ├── ReportNotWritten         a run finished, but the report the command line asked for (--junit) was not written
    └── ExportError              an export or a push could not start, or was aborted
        ├── RowTooLarge          one row alone does not fit in a page (``size``, ``limit``)
        ├── RowsRejected         the export ended, and Peak refused some rows (exit code 1; ``count``, ``path``)
        ├── RowsHeld             the push ended, and rows were held back for a parent Peak lacks (exit code 1; ``count``)
        ├── DeliveryAborted      sending stopped part way; the pages answered before are reported
        │   ├── TokenRefused             HTTP 401/403: the access token is wrong (``status``, ``url``)
        │   ├── UnexpectedAnswer         a status stockx does not retry, reject or split on
        │   ├── UnusableAcknowledgement  a 2xx that is not Peak's JSON, or too long to read
        │   ├── RetriesExhausted         a page gave up after its attempts or its time budget
        │   └── PayloadRefused           the first rows, one by one, all refused: the payload is wrong
        ├── VolumeGuardStop      the volume guard stopped a push before anything was sent (``problem``, ``run_id``)
        ├── PushLocked           another push to the same destination holds its lock (``destination``)
        ├── PushInterrupted      Ctrl-C or SIGTERM ended a push; its run is closed as aborted (``state``)
        ├── SchemaMismatch       Peak's schema differs from what the models send; nothing was sent (``differences``)
        ├── FamilyAborted        a family push ended with models aborted or skipped (``aborted``, ``skipped``)
        └── SyncStateError       the sync state cannot be used: damaged, another schema, no space (``path``)
            └── StateNotWritable the sync state cannot be opened for writing (permissions); it is not damaged

Every error carries its ``exit_code`` and the fields its message is built from:
``where`` (a file, a node, a relation, a destination), ``hint`` (what to do)
and, for the classes above that name them, fields of their own. The message is
built once, from the fields, where the error is raised; nothing re-prefixes it
on the way up.

The CLI group turns every StockxError into one red ``Error: ...`` line (or a
JSON event) and its exit code, in exactly one place (``stockx_export.cli``);
any other exception there is a bug in stockx (exit code 3).
"""

from __future__ import annotations

from typing import Any, Sequence

from stockx_export.tables import plural


class StockxError(Exception):
    """Root of every error stockx reports to a user.

    ``str(error)`` is ``<where>: <message>; <hint>`` (each part when given)."""

    exit_code = 2

    def __init__(self, message: str = "", *, where: str | None = None, hint: str | None = None) -> None:
        self.message = message
        self.where = where
        self.hint = hint
        text = f"{where}: {message}" if where else message
        super().__init__(f"{text}; {hint}" if hint else text)


class ProjectError(StockxError):
    """The project on disk is invalid."""


class CompilationError(ProjectError):
    """A node could not be rendered."""


class CycleError(ProjectError):
    """The dependency graph has a cycle."""


class CheckError(ProjectError):
    """Static checks found errors; nothing was run. ``problems`` lists them (each prints
    as ``path[:line]: message``)."""

    def __init__(self, problems: Sequence[Any]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        count = len(self.problems)
        super().__init__(f"static checks found {plural(count, 'problem')}:\n{lines}")


class TranspileError(ProjectError):
    """Some models use constructs the target dialect cannot express.

    ``failures`` are ``(model path, construct)`` pairs; ``written`` the models
    translated (and written) all the same."""

    def __init__(self, dialect: str, failures: Sequence[tuple[str, str]], written: int) -> None:
        self.dialect = dialect
        self.failures = tuple(failures)
        self.written = written
        count = len({path for path, _ in self.failures})
        lines = "\n".join(f"  {path}: {construct}" for path, construct in self.failures)
        super().__init__(f"{plural(count, 'model')} cannot be translated to {dialect} "
                         f"(not written; the other {written} are):\n{lines}")


class UntranslatableSql(CompilationError):
    """A node's SQL uses constructs its target's dialect cannot run.

    ``constructs`` are what stops it; ``macros`` the macros whose SQL holds them
    (each one to make dispatch, with a ``<type>__<macro>`` for the target)."""

    def __init__(self, path: str, target_type: str, constructs: Sequence[str], macros: Sequence[str]) -> None:
        self.path = path
        self.constructs = tuple(constructs)
        self.macros = tuple(macros)
        listed = "; ".join(self.constructs)
        if self.macros:
            names = ", ".join(f"{target_type}__{m}" for m in self.macros)
            hint = (f"it comes from macro {', '.join(self.macros)}: call it through adapter.dispatch and write "
                    f"{names} in SQL the {target_type} target runs (default__ keeps today's DuckDB SQL)")
        else:
            hint = (f"move it into a macro called through adapter.dispatch('name'), with default__name (DuckDB) "
                    f"and {target_type}__name (SQL the {target_type} target runs)")
        super().__init__(f"the {target_type} target cannot run this SQL: {listed}", where=path, hint=hint)


class DriverMissing(ProjectError):
    """A target's driver is not installed: ``pip install 'stockx[<extra>]'``."""

    def __init__(self, target: str, package: str, extra: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(f"{target} needs the Python package {package}, which is not installed",
                         hint=f"pip install 'stockx[{extra}]'")


class TargetUnreachable(StockxError):
    """A target's server did not answer: the message names the host and port, never a password."""

    def __init__(self, target: str, host: str, port: Any, reason: str, hint: str) -> None:
        self.host = host
        self.port = port
        super().__init__(f"cannot reach {target} at {host}:{port}: {reason}", hint=hint)


class SelectionError(StockxError):
    """A selection expression is malformed or names nothing."""


class ArtifactError(StockxError):
    """An artifact (manifest.json, run_results.json, sources.json) is missing (``missing``) or unreadable."""

    def __init__(self, message: str, *, path: Any = None, missing: bool = False) -> None:
        self.path = path
        self.missing = missing
        super().__init__(message)


class DocsError(StockxError):
    """The docs site cannot be written or served. ``path`` is the site's folder."""

    def __init__(self, message: str, *, path: str, hint: str | None = None) -> None:
        self.path = path
        super().__init__(message, hint=hint)


class ExecutionError(StockxError):
    """DuckDB rejected a statement."""

    exit_code = 1


class ContractError(ExecutionError):
    """A model's output differs from its enforced contract (names, order, types, constraints)."""


class BuildFailed(StockxError):
    """A build (or a test run: ``command``) ran to its end, and a node or an
    error-severity test failed.

    ``results`` holds every node's result (``stockx_export.run.runner.NodeResult``),
    in run order; the message names the first ``shown`` failures."""

    exit_code = 1

    def __init__(self, results: Sequence[Any], command: str = "build", shown: int = 3) -> None:
        self.results = tuple(results)
        self.command = command
        failed = [r for r in self.results if r.failed]
        skipped = sum(1 for r in self.results if r.status == "skipped")
        named = "; ".join(f"{r.node.name}: {r.message}" for r in failed[:shown])
        more = f"; and {len(failed) - shown} more" if len(failed) > shown else ""
        super().__init__(f"{command} failed: {len(failed)} failed, {skipped} skipped ({named}{more})",
                         hint="nothing can be exported until a build succeeds")


class ExportError(StockxError):
    """The export could not start or was aborted."""


class RowTooLarge(ExportError):
    """One row alone does not fit in a page (the preflight normally catches this first)."""

    def __init__(self, row: str, size: int, limit: int, relation: str | None = None) -> None:
        self.row = row
        self.size = size
        self.limit = limit
        super().__init__(f"a row needs a {size:,}-byte body, above the page limit of {limit:,} bytes",
                         where=relation,
                         hint="shorten its values at the source, or have the model reject such lines (Peak takes "
                              "1,000,000 bytes per payload; raise page_bytes only if your tenant takes more)")


class RowsRejected(ExportError):
    """The export finished, but Peak rejected ``count`` rows (listed in ``path``)."""

    exit_code = 1

    def __init__(self, count: int, path: str) -> None:
        self.count = count
        self.path = path
        super().__init__(f"Peak rejected {plural(count, 'row')}; see {path}")


class RowsHeld(ExportError):
    """The push finished, but ``count`` rows were held back: their parent (a product, a
    location) is not on Peak yet. They are sent by the push after the parent's."""

    exit_code = 1

    def __init__(self, count: int) -> None:
        self.count = count
        super().__init__(f"{plural(count, 'row')} held back: Peak does not hold their parent yet; "
                         "`stockx rejected --held` lists them, and a push sends them once the parent is acknowledged")


class DeliveryAborted(ExportError):
    """Delivery stopped: a refused token, an unexpected answer, or retries exhausted.

    Text quoted from an answer is scrubbed of the token before it gets here."""


class TokenRefused(DeliveryAborted):
    """Peak answered 401 or 403: the token is wrong for this tenant. Never retried."""

    def __init__(self, status: int, url: str) -> None:
        self.status = status
        self.url = url
        hint = "set PEAK_AUTH_TOKEN to a valid personal access token for this tenant"
        super().__init__(f"Peak refused the access token (HTTP {status}) at {url}: {hint}")
        self.hint = hint


class UnexpectedAnswer(DeliveryAborted):
    """An answer that is neither success, rejection, too large nor transient (a wrong URL, say)."""

    def __init__(self, status: int, url: str, page: int, text: str) -> None:
        self.status = status
        self.url = url
        self.page = page
        self.text = text
        super().__init__(f"unexpected HTTP {status} from POST {url} (page {page}): {text!r}",
                         hint="check base_url and path in the export settings")


class UnusableAcknowledgement(DeliveryAborted):
    """A 2xx answer whose rows cannot be counted as sent: not JSON (``text`` holds its
    start), or longer than the ``limit`` of bytes read."""

    def __init__(self, status: int, url: str, page: int, text: str | None = None, limit: int | None = None) -> None:
        self.status = status
        self.url = url
        self.page = page
        self.text = text
        self.limit = limit
        fix = "check base_url and path in the export settings"
        if limit is not None:
            what, fix = f"is longer than response_bytes ({limit:,} bytes)", fix + ", or raise response_bytes"
        else:
            what = f"is not a JSON answer: {text!r}"
        super().__init__(f"HTTP {status} from POST {url} (page {page}) {what}; its rows are not counted as sent: {fix}")
        self.hint = fix


class RetriesExhausted(DeliveryAborted):
    """A page gave up: ``attempts`` made in ``seconds``, the last failing for ``last``."""

    def __init__(self, page: int, attempts: int, seconds: float, last: str) -> None:
        self.page = page
        self.attempts = attempts
        self.seconds = seconds
        self.last = last
        super().__init__(f"gave up on page {page} after {attempts} attempts in {seconds:.1f}s (last: {last})",
                         hint="re-run the export later: re-sending acknowledged pages is harmless")


class PayloadRefused(DeliveryAborted):
    """The first ``rows`` rows sent, one by one, were all refused and none accepted: the
    payload (solution, object, path), not the rows, is taken to be wrong."""

    def __init__(self, rows: int, status: int, text: str) -> None:
        self.rows = rows
        self.status = status
        self.text = text
        hint = "check solution_name, object, prefix, suffix and path"
        super().__init__(f"Peak rejected the first {rows} rows sent, one by one, and accepted none "
                         f"(last answer: HTTP {status} {text!r}); the payload is probably wrong for this tenant: "
                         f"{hint}")
        self.hint = hint


class VolumeGuardStop(ExportError):
    """The volume guard stopped a push before anything was sent; logged as run ``run_id``."""

    def __init__(self, problem: str, run_id: int) -> None:
        self.problem = problem
        self.run_id = run_id
        super().__init__(f"volume guard: {problem}; nothing was sent (run {run_id}). "
                         "Check the build; re-run with --force to send anyway")
        self.hint = "check the build; re-run with --force to send anyway"


class PushLocked(ExportError):
    """Another push to ``destination`` holds the lock (``holder``: its pid and start,
    when the lock file says); or the lock kept changing hands."""

    def __init__(self, destination: str, holder: str = "", path: str | None = None, action: str = "push") -> None:
        self.destination = destination
        self.holder = holder
        self.path = path
        self.action = action
        # A plan sends nothing in any case: it waits for the state the push holds.
        outcome = "nothing was sent" if action == "push" else "a plan reads the sync state the push holds"
        if path is None:
            hint = f"wait for it to finish, then run this {action} again"
            super().__init__(f"another push to {destination} is running{holder}; {outcome}: {hint}")
        else:
            hint = f"run this {action} again"
            super().__init__(f"the lock of {destination} kept changing hands ({path}); {outcome}: {hint}")
        self.hint = hint


class PushInterrupted(ExportError):
    """Ctrl-C or SIGTERM ended a push; the pages answered before are recorded in ``state``."""

    def __init__(self, state: str) -> None:
        self.state = state
        super().__init__(f"interrupted (Ctrl-C or SIGTERM); the pages answered so far are recorded in {state}: "
                         "the next push sends only the rest")
        self.hint = "run the push again: it sends only the rest"


class SchemaMismatch(ExportError):
    """Peak's schema differs from what the exported models send (``differences``, one line
    each); the schema check stopped the push before any row was sent."""

    def __init__(self, differences: Sequence[str]) -> None:
        self.differences = tuple(differences)
        lines = "\n".join(f"  {d}" for d in self.differences)
        hint = ("make the model's contract match Peak's object (or declare a custom attribute in meta.peak.attributes), "
                "build, and push again")
        super().__init__(f"Peak's schema differs from the exported models in {plural(len(self.differences), 'way')}; "
                         f"nothing was sent:\n{lines}\n{hint}")
        self.hint = hint


class FamilyAborted(ExportError):
    """A family push ended with ``aborted`` models (their own error was reported) and
    ``skipped`` ones (children of those); the others were pushed."""

    def __init__(self, aborted: Sequence[str], skipped: Sequence[str]) -> None:
        self.aborted = tuple(aborted)
        self.skipped = tuple(skipped)
        parts = [f"aborted: {', '.join(self.aborted)}"]
        if self.skipped:
            parts.append(f"skipped (a parent did not finish): {', '.join(self.skipped)}")
        hint = "fix the cause reported above and push again: what was acknowledged is not sent again"
        super().__init__(f"the family push did not finish ({'; '.join(parts)})", hint=hint)


class SyncStateError(ExportError):
    """The sync state database (``path``) cannot be read or written; the message says
    why and the way out."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        super().__init__(message)


class ReportNotWritten(StockxError):
    """A run finished (its artifacts are written), but the report the command line asked
    for (``--junit PATH``) could not be written: a CI job reading it must not pass."""


class StateNotWritable(SyncStateError):
    """The sync state file (``path``) cannot be opened for writing (its permissions, a
    read-only file system): it is not damaged, and commands that only read it can."""
