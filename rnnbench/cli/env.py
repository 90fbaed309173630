"""``rnnbench env``: the machine and software a run here would record."""

from __future__ import annotations

import json

import typer


def env(
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
) -> None:
    """Show this machine's facts (CPU, cores, Python, framework versions, git commit)."""
    from rnnbench.envinfo import fingerprint, machine

    info = machine()
    info["fingerprint"] = fingerprint(info)
    if as_json:
        typer.echo(json.dumps(info, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(show_header=False)
    for k, v in info.items():
        if k == "versions":
            v = ", ".join(f"{a} {b}" for a, b in v.items()) or "(no framework installed)"
        t.add_row(k, str(v))
    Console().print(t)
