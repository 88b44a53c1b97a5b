"""The exception hierarchy: everything etalage raises on purpose derives from `EtalageError`."""

from __future__ import annotations


class EtalageError(Exception):
    """Base class of every error etalage raises on purpose."""


class ConfigError(EtalageError):
    """A setting given to etalage (keyword, environment variable, folder) is unusable."""


class RuleFileError(EtalageError):
    """A rule file is invalid; the message names the file, the line and the field.

    `str(error)` reads like ``rules/site.yaml:14: rules[2].when: unknown operator '$gte '``.
    """

    def __init__(self, file: str, line: int | None, field: str, message: str) -> None:
        self.file = file
        self.line = line
        self.field = field
        self.message = message
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {field}: {message}" if field else f"{where}: {message}")


class FragmentError(EtalageError):
    """A fragment template is missing or failed to compile or render."""
