"""What a static check finds: one problem per finding, reported together."""

from __future__ import annotations

from dataclasses import dataclass



@dataclass(frozen=True)
class Problem:
    """One finding of a static check, at a file (and line, when known)."""

    path: str
    message: str
    line: int | None = None
    level: str = "error"  # "error" stops the command; "warn" is printed and the command goes on

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"
