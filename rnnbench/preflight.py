"""What a run needs before its first cell starts, checked for every cell at once.

Without it, `rnnbench run suites/imdb.toml` on a machine where the full data set was never
imported starts a process and a framework import per cell only for each to fail alike. The
checks here read no data and import no framework: the data set (and Keras's word index for
``encoding = "keras"``) of every cell whose backend is installed, a writable output folder,
and disk space for the results. Cells of an uninstalled backend are not a problem — they
are recorded ``unavailable``, as always — but are listed so the user knows up front.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from rnnbench.suite import Suite

# Results of a cell take a few tens of kB (step times included) and its log a little more;
# this much free space per cell (plus a margin) is asked before a run starts.
BYTES_PER_CELL = 1 << 20
MARGIN_BYTES = 16 << 20


@dataclass(frozen=True)
class Preflight:
    problems: list[str] = field(default_factory=list)  # each: what is missing and the command that fixes it
    unavailable: dict[str, str] = field(default_factory=dict)  # backend → how to install it
    fetchable: tuple[str, ...] = ()  # data items `run --fetch` downloads ("imdb", "word-index")


def _writable(root: Path) -> str | None:
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".rnnbench-preflight-", dir=root)
        os.close(fd)
        os.unlink(name)
    except OSError as e:
        return (f"the output folder {root} is not writable ({e.strerror}): choose another with "
                "`--output DIR` or set $RNNBENCH_REPORTS")
    return None


def check(suite: Suite, root: Path) -> Preflight:
    """Everything that would stop the suite's cells, before any of them starts."""
    from rnnbench.backends.base import get_backend
    from rnnbench.data.loader import missing_for, missing_items
    from rnnbench.worker import data_spec

    problems: list[str] = []
    unavailable: dict[str, str] = {}
    specs = {}  # distinct data specs, in the suite's order
    for cell in suite.cells:
        info = get_backend(cell.settings.backend)
        if not info.available():
            unavailable[info.name] = info.install
            continue
        specs.setdefault(data_spec(cell.settings))
    fetchable: list[str] = []
    for spec in specs:
        for p in missing_for(spec):
            if p not in problems:
                problems.append(p)
        fetchable += [m for m in missing_items(spec) if m not in fetchable]
    bad = _writable(root)
    if bad:
        problems.append(bad)
    else:
        need = MARGIN_BYTES + BYTES_PER_CELL * len(suite.cells)
        free = shutil.disk_usage(root).free
        if free < need:
            problems.append(f"{root} has {free / 2**20:.0f} MB free, and {len(suite.cells)} cells need about "
                            f"{need / 2**20:.0f} MB for their results and logs: free some space or use `--output DIR`")
    return Preflight(problems, unavailable, tuple(fetchable))
