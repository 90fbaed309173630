"""Shared fixtures: an isolated rnnbench home and reports dir per test, the real data's path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_IMDB = Path(os.environ.get("RNNBENCH_SHARED_IMDB", REPO.parent / "shared" / "datasets" / "imdb"))


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RNNBENCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RNNBENCH_REPORTS", str(tmp_path / "reports"))


def write_suite(tmp_path: Path, body: str, name: str = "t") -> Path:
    p = tmp_path / f"{name}.toml"
    p.write_text(f'name = "{name}"\n' + body, encoding="utf-8")
    return p
