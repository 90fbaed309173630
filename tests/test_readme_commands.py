"""The README's commands are the CLI's: every `rnnbench …` line in its shell code blocks parses
against the real command tree (commands, sub-commands and options), so README and CLI cannot
drift apart again (issue 31). Parsing only: nothing runs."""

from __future__ import annotations

import re
import shlex

import pytest
import typer
from helpers import REPO

from rnnbench.cli import app

SHELL = ("bash", "sh", "console", "shell", "")


def readme_commands() -> list[str]:
    """``rnnbench …`` commands of the README's shell blocks (segments of ``&&``, ``;`` and pipes)
    and of its inline code spans (`` `rnnbench run imdb --only backend=torch` ``)."""
    out, lang = [], None
    text = (REPO / "README.md").read_text(encoding="utf-8")
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
            seg = seg.strip()
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


def test_the_readme_has_commands_to_check() -> None:
    commands = readme_commands()
    assert len(commands) >= 10, commands
    assert any(c.startswith("rnnbench ab ") for c in commands)


@pytest.mark.parametrize("command", readme_commands())
def test_every_readme_command_parses_against_the_cli(command: str) -> None:
    try:
        parse(command)
    except BadCommand as e:
        pytest.fail(f"README: `{command}`: {e}")


def test_a_command_the_cli_lacks_is_caught() -> None:
    for bad in ("rnnbench run quick --no-such-flag", "rnnbench nosuchcommand", "rnnbench data nosuch"):
        with pytest.raises(BadCommand):
            parse(bad)
