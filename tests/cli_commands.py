"""What the README's and the documentation's command checks share: the ``rnnbench …`` commands
of a Markdown text, and a parser that checks one against the real command tree.

Parsing only: nothing runs (tests/test_readme_commands.py, tests/test_docs.py).
"""

from __future__ import annotations

import re
import shlex

import typer

from rnnbench.cli import app

SHELL = ("bash", "sh", "console", "shell", "")


def shell_commands(text: str) -> list[str]:
    """``rnnbench …`` commands of a Markdown text's shell blocks (segments of ``&&``, ``;`` and
    pipes) and of its inline code spans (`` `rnnbench run imdb --only backend=torch` ``)."""
    out, lang = [], None
    for span in re.findall(r"(?<!`)`(rnnbench [^`]+)`(?!`)", text):
        if "…" not in span and "..." not in span:  # an elided command is prose, not a command
            out.append(span.strip())
    for line in text.splitlines():
        fence = re.match(r"^\s*```(\w*)", line)
        if fence:
            lang = None if lang is not None else fence.group(1)
            continue
        if lang is None or lang not in SHELL:
            continue
        for seg in re.split(r"&&|\|\||;|\|", line.split(" #")[0]):
            seg = seg.strip().rstrip("\\").strip()
            if re.match(r"^(\S*/)?rnnbench\s", seg + " "):
                out.append(seg)
    return list(dict.fromkeys(out))


class BadCommand(Exception):
    pass


def parse(command: str) -> bool:
    """Parse a command line as the CLI would, descending into sub-commands. Raises BadCommand
    with the parser's message on a bad one; False when it stopped early (--help, --version)."""
    # prose conventions: [optional] parts, N / M for a number, a bare command name
    args = [("2" if re.fullmatch(r"[NMK]", a) else a) for a in shlex.split(command.replace("[", "").replace("]", ""))[1:]]
    args = args + ["--help"] if len(args) == 1 else args
    cmd = typer.main.get_command(app)  # typer's own (vendored) click: duck-typed below
    name = "rnnbench"
    while True:
        try:
            ctx = cmd.make_context(name, list(args), resilient_parsing=False)
        except Exception as e:  # noqa: BLE001 - click's exceptions, whichever click typer carries
            if type(e).__name__ == "Exit":
                return False
            if hasattr(e, "format_message"):
                raise BadCommand(e.format_message()) from None
            raise
        rest = [*getattr(ctx, "_protected_args", getattr(ctx, "protected_args", [])), *ctx.args]
        if not hasattr(cmd, "get_command") or not rest:
            return True
        sub, *rest = rest
        found = cmd.get_command(ctx, sub)
        if found is None:
            raise BadCommand(f"{name}: no such command {sub!r}")
        cmd, name, args = found, f"{name} {sub}", rest
