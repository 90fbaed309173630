"""``rnnbench list``: backends (and whether they are installed), architectures, ready suites (and where each comes from)."""

from __future__ import annotations

import typer


def list_things() -> None:
    """List backends (with availability), architectures, and the ready suites."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from rnnbench.backends.base import BACKENDS

    console = Console()
    t = Table(title="backends")
    for col in ("name", "framework", "available", "install"):
        t.add_column(col)
    for info in BACKENDS.values():
        missing = info.missing()
        t.add_row(info.name, info.description, "yes" if not missing else f"no ({', '.join(missing)} missing)",
                  "" if not missing else escape(info.install))  # escape: rich would eat "[torch]"
    console.print(t)
    a = Table(title="architectures")
    a.add_column("arch")
    a.add_column("layer")
    for arch, desc in (("gru", "GRU (update gate, reset gate, candidate)"), ("lstm", "LSTM (input, forget, cell, output)"),
                       ("rnn", "SimpleRNN (tanh)")):
        a.add_row(arch, desc)
    console.print(a)
    from rnnbench.suite import list_suites, suite_source

    s = Table(title="ready suites", caption="local = NAME.toml or suites/NAME.toml in this folder: wins over the packaged suite of that name")
    s.add_column("suite")
    s.add_column("source")
    s.add_column("path")
    s.add_column("description")
    import tomllib

    for path in list_suites():
        try:
            desc = tomllib.loads(path.read_text(encoding="utf-8")).get("description", "")
        except (OSError, tomllib.TOMLDecodeError):
            desc = "(unreadable)"
        s.add_row(path.stem, suite_source(path), str(path), str(desc).strip().splitlines()[0] if desc else "")
    console.print(s)
    raise typer.Exit(0)
