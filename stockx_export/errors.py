"""The one error hierarchy of stockx.

    StockxError                  anything stockx reports to a user (exit code 2 unless said otherwise)
    ├── ProjectError             the project on disk is wrong: config, YAML, duplicate names, bad refs
    │   ├── CompilationError     Jinja could not render a node (syntax, undefined, raise_compiler_error)
    │   └── CycleError           the DAG has a cycle; the message names it
    ├── SelectionError           a --select / --exclude expression is malformed
    ├── ExecutionError           DuckDB rejected a statement (exit code 1 when raised for a node)
    │   └── ContractError        a model's output differs from its enforced contract
    ├── BuildFailed              a build ran, and a node or an error-severity test failed (exit code 1; the API's)
    └── ExportError              export could not start or was aborted (see stockx_export.export)
        └── SyncStateError       the sync state database cannot be used: damaged, another schema, or no space to write

The CLI turns every StockxError into one red ``Error: ...`` line and an exit code,
in exactly one place (``stockx_export.cli``).
"""

from __future__ import annotations


class StockxError(Exception):
    """Root of every error stockx reports to a user."""

    exit_code = 2


class ProjectError(StockxError):
    """The project on disk is invalid."""


class CompilationError(ProjectError):
    """A node could not be rendered."""


class CycleError(ProjectError):
    """The dependency graph has a cycle."""


class SelectionError(StockxError):
    """A selection expression is malformed or names nothing."""


class ExecutionError(StockxError):
    """DuckDB rejected a statement."""

    exit_code = 1


class ContractError(ExecutionError):
    """A model's output differs from its enforced contract (names, order, types, constraints)."""


class BuildFailed(StockxError):
    """A build ran to its end, and a node or an error-severity test failed (``results`` has them all)."""

    exit_code = 1

    def __init__(self, message: str, results: tuple = ()) -> None:
        super().__init__(message)
        self.results = results


class ExportError(StockxError):
    """The export could not start or was aborted."""


class SyncStateError(ExportError):
    """The sync state database cannot be read or written; the message names the file and the way out."""
