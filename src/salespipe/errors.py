"""Typed errors, one class per stage, carrying the context a user needs to act.

The CLI and API translate these at the edge into one clear line (or one JSON shape);
anything that is not a SalespipeError is a bug and keeps its traceback.
"""

from __future__ import annotations


class SalespipeError(Exception):
    """Root of every error a user can cause and fix."""

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        file: str | None = None,
        line: int | None = None,
        key: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.file = file
        self.line = line
        self.key = key
        self.field = field

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line else "") + ": "
        text = where + self.message
        if self.hint:
            text += f" ({self.hint})"
        return text

    def to_dict(self) -> dict[str, object]:
        """The one JSON error shape shared by `--json` output and the API."""
        return {
            "error": type(self).__name__,
            "message": self.message,
            "hint": self.hint,
            "file": self.file,
            "line": self.line,
            "key": self.key,
            "field": self.field,
        }


class ConfigError(SalespipeError):
    """salespipe.yaml is missing, malformed or names something that does not exist."""

    exit_code = 2


class UsageError(SalespipeError):
    """A command was called with options that do not make sense."""

    exit_code = 2


class ContractError(SalespipeError):
    """A source's contract cannot be applied to a file (missing column, bad expression)."""


class ReadError(SalespipeError):
    """A landed file cannot be read in the declared format."""


class LoadError(SalespipeError):
    """The warehouse refused a load."""


class WarehouseError(SalespipeError):
    """The warehouse cannot be opened or is locked by another process."""


class MissingExtraError(SalespipeError):
    """An optional part is used without its extra installed."""

    exit_code = 2

    def __init__(self, module: str, extra: str) -> None:
        super().__init__(
            f"this feature needs the Python package '{module}'",
            hint=f'pip install -e ".[{extra}]" in a clone of salespipe (make demo installs every extra)',
        )
