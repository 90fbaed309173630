"""Shared fixtures: an isolated rnnbench home and reports dir per test; Keras pinned to TensorFlow.

What test modules share as code (requirements, suite files, synthetic runs) is in
``tests/helpers.py``; ``write_suite`` is re-exported here for modules that still import it
from conftest.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from helpers import REPO, write_suite  # noqa: F401  (re-exported)

_session_env = pytest.MonkeyPatch()


def pytest_configure(config: pytest.Config) -> None:
    """Keras fixes its backend when it is first imported, for the whole process: pin it to
    TensorFlow before any test module is collected (the Keras, verify and model tests build
    Keras-on-TensorFlow models in this process), and quiet TensorFlow's C++ logging. Undone
    when the session ends; subprocesses that need another backend set their own
    (``rnnbench.cellenv.cell_environment``)."""
    if "keras" not in sys.modules:
        _session_env.setenv("KERAS_BACKEND", "tensorflow")
    if "TF_CPP_MIN_LOG_LEVEL" not in os.environ:
        _session_env.setenv("TF_CPP_MIN_LOG_LEVEL", "2")


def pytest_unconfigure(config: pytest.Config) -> None:
    _session_env.undo()


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test's own home (so its own calibration cache) and reports dir. ``rnnbench run``'s
    automatic calibration (seconds of all-core matmul in every fresh home) is switched off; the
    tests of it (tests/test_peak.py) switch it back on. So is storing each finished run in the
    history (tests/test_history.py switches it on)."""
    monkeypatch.setenv("RNNBENCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RNNBENCH_REPORTS", str(tmp_path / "reports"))
    monkeypatch.setenv("RNNBENCH_NO_CALIBRATE", "1")
    monkeypatch.setenv("RNNBENCH_NO_HISTORY", "1")  # test_history turns it on where it is the subject
