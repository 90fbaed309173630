"""User-facing errors: one clear line, exit code 2, no traceback.

Everything that is the user's input being wrong (a suite, a path, a run id, a missing
data set) raises :class:`UserError`; the CLI turns it into one line on stderr.
"""

from __future__ import annotations


class UserError(Exception):
    """An error caused by the user's input; printed as one line, exit code 2."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"
