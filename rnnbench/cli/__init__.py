"""The command line: one thin module per command, joined here.

Each command parses its options, calls one library function and prints. Nothing here
imports a framework, pandas or pydantic at import time, so ``rnnbench --help`` is fast.
A :class:`~rnnbench.errors.UserError` anywhere becomes one line on stderr and exit 2.
"""

from __future__ import annotations

import typer

from rnnbench.cli import ab, baseline, compare, data, env, history, listing, report, run, suite, verify
from rnnbench.cli.group import Group


app = typer.Typer(
    cls=Group,
    name="rnnbench",
    help="Benchmark recurrent networks (GRU, LSTM, SimpleRNN) across PyTorch and Keras on IMDB.\n\n"
    "Typical use: rnnbench run quick, then rnnbench report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: wraps, keeps brackets, flags without <bool> (rnnbench.cli.group)
)


def _version(value: bool) -> None:
    if not value:
        return
    from rnnbench import __version__
    from rnnbench.envinfo import git_commit

    commit = git_commit()  # None for an installed wheel
    short = commit[:12] + ("-dirty" if commit.endswith("-dirty") else "") if commit else None
    typer.echo(f"rnnbench {__version__}" + (f" (git {short})" if short else ""))
    raise typer.Exit(0)


@app.callback()
def _options(
    version: bool = typer.Option(  # noqa: ARG001 - handled eagerly by _version
        False, "--version", callback=_version, is_eager=True, help="print rnnbench's version (and git commit) and exit"
    ),
) -> None:
    pass


app.command("run")(run.run)
app.command("report")(report.report)
app.command("list")(listing.list_things)
app.command("env")(env.env)
app.add_typer(data.app, name="data")
app.add_typer(suite.app, name="suite")

for _module in (compare, baseline, verify, ab, history):
    _module.register(app)


def main() -> None:
    app()
