"""The README's commands are the CLI's: every `rnnbench …` line in its shell code blocks parses
against the real command tree (commands, sub-commands and options), so README and CLI cannot
drift apart again (issue 31). Parsing only: nothing runs. The documentation site's pages are
checked the same way in tests/test_docs.py (the parser: tests/cli_commands.py)."""

from __future__ import annotations

import pytest
from cli_commands import BadCommand, parse, shell_commands
from helpers import REPO


def readme_commands() -> list[str]:
    return shell_commands((REPO / "README.md").read_text(encoding="utf-8"))


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
