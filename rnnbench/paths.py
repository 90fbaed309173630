"""Where rnnbench keeps things on disk.

* The data home (imported data sets, encoded-array cache, calibration): ``$RNNBENCH_HOME``
  if set, else the platform's user data directory (platformdirs).
* Run output: ``<reports>/runs/<run-id>/`` where ``<reports>`` is ``$RNNBENCH_REPORTS`` or
  ``./reports``.
"""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    env = os.environ.get("RNNBENCH_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("rnnbench", appauthor=False))


def data_dir() -> Path:
    return home() / "data"


def cache_dir() -> Path:
    return home() / "cache"


def reports_dir() -> Path:
    return Path(os.environ.get("RNNBENCH_REPORTS", "reports"))


def runs_dir() -> Path:
    return reports_dir() / "runs"
