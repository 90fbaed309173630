"""``rnnbench suite schema``: the suite file's JSON Schema, for editors that check TOML as it is typed.

The schema is derived from the suite model (:mod:`rnnbench.suite_schema`); pydantic is imported
inside the command, so ``rnnbench --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from rnnbench.cli.group import Group

app = typer.Typer(help="Suite files: the JSON Schema an editor checks them against.",
                  no_args_is_help=True, cls=Group, rich_markup_mode=None)


@app.command("schema")
def schema(
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="write the schema to FILE (e.g. "
                                          "suite.schema.json) instead of stdout", metavar="FILE"),
) -> None:
    """Write the suite file's JSON Schema (draft 7), derived from rnnbench's suite model.

    Point an editor at it: a first line `#:schema ./suite.schema.json` in a suite, or a taplo
    config (.taplo.toml) that maps suites/*.toml to it. Unknown keys are flagged where
    rnnbench run refuses them."""
    from rnnbench.suite_schema import write_schema

    text = write_schema(output)
    if output is None:
        typer.echo(text, nl=False)
    else:
        typer.echo(f"wrote {output}", err=True)
