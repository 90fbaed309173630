"""``rnnbench list``: backends (and whether they are installed), architectures, ready suites (and where each comes from)."""

from __future__ import annotations

import re

import typer

# a sentence ends at . ! or ? after a lower-case letter, digit or ')' and before a capital ("F. Chollet" goes on)
_SENTENCE_END = re.compile(r"(?<=[a-z0-9)][.!?])\s+(?=[A-Z])")


def first_sentence(text: str) -> str:
    """A suite description's first sentence, whole, on one line."""
    return _SENTENCE_END.split(" ".join(str(text).split()), maxsplit=1)[0]


def list_things() -> None:
    """List backends (with availability), architectures, and the ready suites."""
    from rich.console import Console

    console = Console()
    for table in (_backends(), _architectures(), _suites()):
        console.print(table)
    raise typer.Exit(0)


def _backends():  # noqa: ANN202 - a rich Table, imported lazily
    from rich.markup import escape
    from rich.table import Table

    from rnnbench.backends.base import BACKENDS

    t = Table(title="backends")
    for col in ("name", "framework", "available", "install"):
        t.add_column(col)
    for info in BACKENDS.values():
        missing = info.missing()
        t.add_row(info.name, info.description, "yes" if not missing else f"no ({', '.join(missing)} missing)",
                  "" if not missing else escape(info.install))  # escape: rich would eat "[torch]"
    return t


def _architectures():  # noqa: ANN202 - a rich Table, imported lazily
    """Built-ins and the installed plugins (entry points ``rnnbench.architectures``), by name; nothing imported."""
    from rich.markup import escape
    from rich.table import Table

    from rnnbench import architectures as archs

    t = Table(title="architectures", caption='a suite may also name any Architecture: arch = "package.module:Name"')
    for col in ("arch", "label", "from", "defined in"):
        t.add_column(col, overflow="fold")
    for name, where in {**archs.BUILTIN, **archs.installed()}.items():
        t.add_row(escape(name), escape(archs.label(name)), "built-in" if name in archs.BUILTIN else "plugin",
                  escape(where))
    return t


def _suites():  # noqa: ANN202 - a rich Table, imported lazily
    import tomllib

    from rich.markup import escape
    from rich.table import Table

    from rnnbench.suite import list_suites, suite_source

    s = Table(title="ready suites",
              caption="local = NAME.toml or suites/NAME.toml in this folder: wins over the packaged suite of that name")
    for col in ("suite", "source", "path", "description"):
        s.add_column(col, overflow="fold")
    for path in list_suites():
        try:
            desc = first_sentence(tomllib.loads(path.read_text(encoding="utf-8")).get("description", ""))
        except (OSError, tomllib.TOMLDecodeError):
            desc = "(unreadable)"
        s.add_row(path.stem, suite_source(path), escape(str(path)), escape(desc))
    return s
