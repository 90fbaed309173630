"""The command group every ``rnnbench`` command and sub-command hangs from.

Help is click's plain help (the apps set ``rich_markup_mode=None``): it wraps to the terminal
instead of cutting text with '…', shows a flag as a flag (no ``<bool>``), and prints help text
as written, brackets included (``pip install 'rnnbench[ray]'``). Each command is listed with
its whole first paragraph, wrapped, where click would cut it to fit one line.
"""

from __future__ import annotations

import inspect

import typer
from typer.core import TyperGroup

from rnnbench.errors import UserError
from rnnbench.results import STORAGE_FULL


def first_paragraph(text: str | None) -> str:
    """A help text's first paragraph on one line."""
    return " ".join(inspect.cleandoc(text or "").split("\n\n")[0].split())


class Group(TyperGroup):
    """Turns a UserError raised by any command into one line on stderr and exit 2."""

    def invoke(self, ctx):  # noqa: ANN001, ANN201 - click's signature
        try:
            return super().invoke(ctx)
        except UserError as e:
            typer.echo(f"rnnbench: error: {e}", err=True)
            raise typer.Exit(e.exit_code) from None
        except OSError as e:
            if e.errno not in STORAGE_FULL:
                raise
            typer.echo(f"rnnbench: error: {e.filename or 'writing'}: {e.strerror} (free some space or use "
                       "--output DIR; a run keeps its finished records and resumes with --resume)", err=True)
            raise typer.Exit(2) from None

    def format_commands(self, ctx, formatter) -> None:  # noqa: ANN001 - click's signature
        rows = [(name, first_paragraph(cmd.short_help or cmd.help)) for name in self.list_commands(ctx)
                if (cmd := self.get_command(ctx, name)) is not None and not cmd.hidden]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
