"""Result records and the append-only store of a run.

A run lives in ``reports/runs/<run-id>/``: ``suite.toml`` (the source), ``run.json`` (the
resolved cells, suite fingerprint and the parent's environment, written when the run
starts), ``results.jsonl`` (one record per finished cell, appended, flushed and fsynced at
once), and ``logs/`` (each cell's captured output). Appending one line per cell means a
crash can cost at most the line being written; a torn last line is skipped on read.

Record layout (schema version :data:`SCHEMA_VERSION`)::

    {"schema": 1, "run_id", "key", "group", "label", "repeat", "settings": {...},
     "status": "ok" | "error" | "crashed" | "timeout" | "unavailable" | "diverged" | "out_of_memory"
               | "skipped" (a GPU cell on a machine without that GPU),
     "attempts" (with ``retries``: the earlier failed attempts, each {status, error, node, started, finished}),
     "node" ({executor, hostname, fingerprint}, plus node_id and address on Ray: where it ran),
     "parallel" ({jobs, cpus} with run --jobs), "gpu" (the GPU index a GPU cell was handed),
     "diverged_epoch" (with "diverged": the 1-based epoch whose training loss was not finite),
     "exit_code", "signal", "error", "log_tail", "log",
     "metrics": {...} | null, "env": {...}, "started", "finished", "wall_s"}
"""

from __future__ import annotations

import errno
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnbench import paths
from rnnbench.errors import UserError

SCHEMA_VERSION = 1
# A full disk, a full quota, a file-size limit (RLIMIT_FSIZE: Python ignores SIGXFSZ, so writes fail EFBIG)
STORAGE_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
RESULTS_FILE = "results.jsonl"
RUN_FILE = "run.json"


def append_record(path: Path, record: dict[str, Any]) -> None:
    """Append one record as one line; flushed and fsynced before returning.

    A torn last line (a crash mid-write) is cut off first — its bytes are kept in
    ``results.jsonl.torn`` — so the new record starts a line of its own instead of being
    glued to the torn bytes and lost with them on read.
    """
    line = json.dumps(record, sort_keys=True, default=str) + "\n"
    try:
        repair_tail(path)
        with open(path, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        if e.errno not in STORAGE_FULL:
            raise
        raise UserError(f"{path}: {e.strerror}: the record of {record.get('label') or record.get('key')} could "
                        "not be written; every record before it is kept",
                        hint=f"free some space, then continue the run with --resume {path.parent.name} "
                        "(the unrecorded cell runs again)") from None


def repair_tail(path: Path) -> bytes:
    """Truncate ``path`` after its last complete line; return the bytes cut off (b"" if none)."""
    try:
        f = open(path, "r+b")
    except FileNotFoundError:
        return b""
    with f:
        size = f.seek(0, os.SEEK_END)
        if size == 0:
            return b""
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return b""
        end, chunk = size, 1 << 16
        while True:  # scan back for the last newline
            start = max(0, end - chunk)
            f.seek(start)
            pos = f.read(end - start).rfind(b"\n")
            if pos >= 0 or start == 0:
                keep = start + pos + 1 if pos >= 0 else 0
                break
            end = start
        f.seek(keep)
        torn = f.read()
        f.truncate(keep)
        f.flush()
        os.fsync(f.fileno())
    with open(path.with_name(path.name + ".torn"), "ab") as t:
        t.write(torn + b"\n")
    warnings.warn(f"{path}: cut off a torn last line ({len(torn)} bytes, kept in {path.name}.torn)", stacklevel=3)
    return torn


def read_records(path: Path) -> list[dict[str, Any]]:
    """All complete records of a results file; a line that is not one (a torn write, bytes
    that are not UTF-8, JSON that is not an object) is skipped with a warning, never the rest."""
    records: list[dict[str, Any]] = []
    if not path.exists():
        return records
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                rec = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                warnings.warn(f"{path}:{n}: skipping an incomplete record (torn write)", stacklevel=2)
                continue
            if not isinstance(rec, dict) or not isinstance(rec.get("schema", 1), int) \
                    or not isinstance(rec.get("key"), str) or not isinstance(rec.get("status"), str):
                warnings.warn(f"{path}:{n}: skipping a line that is not a record", stacklevel=2)
                continue
            records.append(migrate(rec))
    return records



def not_run_record(cell: Any, run_id: str, status: str, error: str) -> dict[str, Any]:
    """The record of a cell (a :class:`rnnbench.suite.Cell`) that was never started
    (``unavailable``, ``skipped``), for every executor."""
    return {"schema": SCHEMA_VERSION, "run_id": run_id, **cell.to_json(), "status": status, "error": error,
            "metrics": None, "env": None, "exit_code": None, "signal": None, "wall_s": 0.0}

def migrate(record: dict[str, Any]) -> dict[str, Any]:
    """Bring an older record up to :data:`SCHEMA_VERSION` (only version 1 exists yet)."""
    version = record.get("schema", 1)
    if not isinstance(version, int) or isinstance(version, bool):
        raise UserError(f"a record's schema is {version!r}, not a version number: the results file was edited "
                        "or written by something else")
    if version > SCHEMA_VERSION:
        raise UserError(f"a record has schema {version}, newer than this rnnbench ({SCHEMA_VERSION}): upgrade")
    return record


@dataclass(frozen=True)
class RunDir:
    """A run's directory and the files in it."""

    path: Path

    @property
    def run_id(self) -> str:
        return self.path.name

    @property
    def results(self) -> Path:
        return self.path / RESULTS_FILE

    @property
    def run_json(self) -> Path:
        return self.path / RUN_FILE

    @property
    def logs(self) -> Path:
        return self.path / "logs"

    def records(self) -> list[dict[str, Any]]:
        return read_records(self.results)

    def meta(self) -> dict[str, Any]:
        try:
            return json.loads(self.run_json.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except json.JSONDecodeError as e:
            raise UserError(f"{self.run_json}: unreadable run metadata: {e}") from None


def list_runs(root: Path | None = None) -> list[RunDir]:
    root = root or paths.runs_dir()
    if not root.is_dir():
        return []
    runs = [RunDir(p) for p in root.iterdir() if p.is_dir() and (p / RUN_FILE).exists()]
    return sorted(runs, key=lambda r: (r.run_json.stat().st_mtime, r.run_id))


def run_kind(run: RunDir) -> str:
    """``ab`` for a run of ``rnnbench ab`` (pairs of sides), ``suite`` for a run of ``rnnbench run``."""
    try:
        return "ab" if run.meta().get("kind") == "ab" else "suite"
    except (OSError, ValueError):
        return "suite"


def resolve_run(ref: str | Path | None = None, root: Path | None = None, kind: str | None = None) -> RunDir:
    """A run id, ``latest``, a run directory, or a results.jsonl path → :class:`RunDir`.

    ``kind`` (``suite`` or ``ab``): what ``latest`` means for the asking command — the newest run
    of that kind, so ``compare … latest`` never picks an ``ab`` run, nor ``ab --resume latest`` a suite's."""
    if ref is None or str(ref) == "latest":
        runs = [r for r in list_runs(root) if kind is None or run_kind(r) == kind]
        if not runs:
            what = {"ab": "ab runs", "suite": "suite runs (of rnnbench run)"}.get(kind or "", "runs")
            hint = "start one with: rnnbench ab SUITE" if kind == "ab" else "start one with: rnnbench run SUITE"
            raise UserError(f"no {what} under {root or paths.runs_dir()}", hint=hint)
        return runs[-1]
    p = Path(ref)
    if p.is_file() and p.name == RESULTS_FILE:
        return RunDir(p.parent)
    if p.is_dir() and ((p / RESULTS_FILE).exists() or (p / RUN_FILE).exists()):
        return RunDir(p)
    cand = (root or paths.runs_dir()) / str(ref)
    if cand.is_dir():
        return RunDir(cand)
    if p.exists():
        raise UserError(f"{ref}: not a run directory or results.jsonl")
    known = [r.run_id for r in list_runs(root)][-5:]
    raise UserError(f"{ref}: no such run", hint=f"recent runs: {', '.join(known)}" if known else None)


def flatten(record: dict[str, Any]) -> dict[str, Any]:
    """One record → one flat row (settings, scalar metrics and parameter counts as columns)."""
    row: dict[str, Any] = {
        k: record.get(k)
        for k in ("run_id", "key", "group", "label", "repeat", "status", "error", "exit_code", "signal", "wall_s")
    }
    row.update(record.get("settings", {}))
    metrics = record.get("metrics") or {}
    for k, v in metrics.items():
        if isinstance(v, (int, float, str, bool)) or v is None:
            row[k] = v
    for part, n in (metrics.get("params") or {}).items():
        row[f"params_{part}"] = n
    return row


def load_results(path: str | Path) -> Any:
    """A run (id, directory or results.jsonl) as a pandas DataFrame, one row per record."""
    import pandas as pd

    run = resolve_run(path)
    return pd.DataFrame([flatten(r) for r in run.records()])
