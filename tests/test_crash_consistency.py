"""SIGKILL the runner at random moments, resume each time: nothing finished is lost or doubled.

The short loop of ``benchmarks/kill_resume.py`` (20 kills; the script's default is 200)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from helpers import REPO

pytestmark = pytest.mark.slow  # twenty SIGKILLs of real runs: ~44 s (the fast lane leaves it out)

sys.path.insert(0, str(REPO / "benchmarks"))

from kill_resume import kill_loop  # noqa: E402


def test_twenty_random_sigkills_lose_and_repeat_nothing(tmp_path: Path) -> None:
    tally = kill_loop(20, tmp_path, seed=1)
    assert tally.kills == 20
    assert tally.cells_finished >= 6, tally.line()  # the loop got work done between its kills
    assert tally.cells_found == tally.cells_finished, tally.line()
    assert (tally.duplicates, tally.lost, tally.unreadable, tally.unresumable) == (0, 0, 0, 0), tally.line()
