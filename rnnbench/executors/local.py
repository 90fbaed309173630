"""Run one cell in its own child process and turn whatever happens into a record.

The child is ``python -m rnnbench.worker`` with the cell's environment set before any
framework import, pinned to ``threads`` cores, its own session (so a timeout kills its whole process group), output
captured to ``logs/<key>.log``, and — on Linux — a parent-death signal, so a SIGKILLed
parent leaves no orphan training in the background. Exit, crash (signal), timeout and
exception all come back as a record with a status; nothing here raises for a bad cell.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rnnbench.cellenv import cell_cpus, cell_environment
from rnnbench.results import SCHEMA_VERSION
from rnnbench.suite import Cell

LOG_TAIL_LINES = 40
KILL_GRACE_S = 5.0
POLL_S = 0.05

EventSink = Callable[[Cell, dict[str, Any]], None]


# Run by the cell's own interpreter before it execs the worker: pin to the cores, ask for
# SIGKILL when the parent dies (PR_SET_PDEATHSIG; kept across exec), with a limit cap the
# address space (RLIMIT_AS), and with aslr = false turn layout randomization off for the
# image exec starts (personality ADDR_NO_RANDOMIZE). Stdlib only, so any side's Python (an
# A/B base's included) can run it.
_SETUP_THEN_EXEC = """
import os, sys
cpus, limit, aslr = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
if limit:
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
try:
    os.sched_setaffinity(0, [int(c) for c in cpus.split(",")])
except OSError:
    pass
try:
    import ctypes
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, 9)
    if not aslr:
        libc.personality(libc.personality(0xFFFFFFFF) | 0x0040000)
except OSError:
    pass
os.execv(sys.argv[4], sys.argv[4:])
"""


def _setup_then_exec(python: str, cpus: list[int], memory_limit_mb: float | None, aslr: bool = True) -> list[str]:
    """The command that sets the child up and then becomes ``python``'s worker (same pid).

    This is an exec'd step, not a ``preexec_fn``: Python code run between fork and exec
    belongs to the parent's process group until ``setsid``, so a Ctrl-C landing then raised
    KeyboardInterrupt inside the forked copy and printed its traceback into the run's
    terminal. Now the forked child runs only C until exec, and exec happens in the cell's
    own session. An allocation past the limit fails inside the worker, which records
    ``out_of_memory``; the pinning makes every framework size its thread pools alike
    (:mod:`rnnbench.cellenv`).
    """
    limit = int(memory_limit_mb * 2**20) if memory_limit_mb else 0
    return [python, "-I", "-S", "-c", _SETUP_THEN_EXEC, ",".join(map(str, cpus)), str(limit), str(int(aslr))]


def _says_out_of_memory(log: Path) -> bool:
    from rnnbench.worker import OUT_OF_MEMORY_SIGNS

    tail = log_tail(log).lower()
    return any(sign in tail for sign in OUT_OF_MEMORY_SIGNS)


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(KILL_GRACE_S)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


class _EventReader:
    """Reads the JSON lines the worker appends, tolerating a half-written last line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.buf = b""

    def read(self) -> list[dict[str, Any]]:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                chunk = f.read()
        except FileNotFoundError:
            return []
        self.offset += len(chunk)
        self.buf += chunk
        *lines, self.buf = self.buf.split(b"\n")
        out = []
        for line in lines:
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return out


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class Worker:
    """A started worker process and the files it writes."""

    cell: Cell
    run_dir: Path
    name: str  # file stem under cells/ and logs/
    proc: subprocess.Popen[bytes]
    out: Path
    events: Path
    log: Path
    started: str
    t0: float
    reader: _EventReader

    def record(self, run_id: str, timed_out: bool) -> dict[str, Any]:
        """The record of a finished (or killed) worker: whatever happened, as data."""
        return _record(self, run_id, timed_out)


def start_worker(
    cell: Cell,
    run_dir: Path,
    python: str = sys.executable,
    name: str | None = None,
    gate: tuple[int, int] | None = None,
    env_extra: dict[str, str] | None = None,
    cpus: Sequence[int] | None = None,
    drop_settings: Sequence[str] = (),
    gpu: int | None = None,
) -> Worker:
    """Start ``python -m rnnbench.worker`` for ``cell`` (pinned, own session, output to its log).

    ``gate`` (the worker's ends of two pipes) makes it take turns with another worker
    (:mod:`rnnbench.turns`); ``env_extra`` is added to the cell's environment; ``cpus``: the
    cores to pin it to (default: the first ``threads`` of this process's own); ``drop_settings``
    are left out of the cell it is given (settings an older rnnbench on an A/B side lacks);
    ``gpu``: the GPU a ``device = "cuda…"`` cell was handed (the only one it will see).
    """
    name = name or cell.key
    work = run_dir / "cells"
    logs = run_dir / "logs"
    work.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    spec = work / f"{name}.json"
    out = work / f"{name}.result.json"
    events = work / f"{name}.events.jsonl"
    log = logs / f"{name}.log"
    for stale in (out, events):
        stale.unlink(missing_ok=True)
    cell_json = cell.to_json()
    for k in drop_settings:
        cell_json["settings"].pop(k, None)
    spec.write_text(json.dumps(cell_json), encoding="utf-8")
    args = [python, "-m", "rnnbench.worker", "--cell", str(spec), "--out", str(out), "--events", str(events)]
    if gate:
        args += ["--gate", str(gate[0]), str(gate[1])]
    if sys.platform.startswith("linux"):
        args = _setup_then_exec(python, cell_cpus(cell.settings, set(cpus) if cpus else None),
                                cell.settings.memory_limit_mb, cell.settings.aslr) + args
    env = cell_environment(cell.settings, gpu=gpu)
    env.update(env_extra or {})
    started, t0 = now_iso(), time.monotonic()
    with open(log, "wb") as logf:
        proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=logf,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
            pass_fds=gate or (),
        )
    return Worker(cell, run_dir, name, proc, out, events, log, started, t0, _EventReader(events))


def kill(worker: Worker) -> None:
    """Kill the worker's whole process group (TERM, then KILL after a grace period)."""
    _kill_group(worker.proc)


def run_cell_process(
    cell: Cell,
    run_dir: Path,
    run_id: str,
    on_event: EventSink | None = None,
    python: str = sys.executable,
    cpus: Sequence[int] | None = None,
    started: Callable[[Worker], None] | None = None,
    gpu: int | None = None,
) -> dict[str, Any]:
    """Run ``cell`` in a child process; return its record (never raises for a bad cell).

    ``cpus``: the cores to pin it to (``run --jobs``: each concurrent cell its own);
    ``started`` is told the worker (to kill it from another thread); ``gpu``: the GPU a GPU
    cell was handed.
    KeyboardInterrupt kills the child and propagates: an interrupted cell is not recorded.
    """
    w = start_worker(cell, run_dir, python, cpus=cpus, gpu=gpu)
    if started:
        started(w)
    timeout = cell.settings.timeout
    timed_out = False
    try:
        while True:
            try:
                w.proc.wait(POLL_S)
                break
            except subprocess.TimeoutExpired:
                pass
            if on_event:
                for ev in w.reader.read():
                    on_event(cell, ev)
            if time.monotonic() - w.t0 > timeout:
                timed_out = True
                _kill_group(w.proc)
                break
    except BaseException:
        _kill_group(w.proc)
        raise
    if on_event:
        for ev in w.reader.read():
            on_event(cell, ev)
    return w.record(run_id, timed_out)


def _record(w: Worker, run_id: str, timed_out: bool) -> dict[str, Any]:
    cell, proc, out, log = w.cell, w.proc, w.out, w.log
    timeout = cell.settings.timeout
    wall = time.monotonic() - w.t0
    rc = proc.returncode
    record: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "run_id": run_id,
        **{k: v for k, v in cell.to_json().items()},
        "started": w.started,
        "finished": now_iso(),
        "wall_s": round(wall, 3),
        "exit_code": rc if rc is not None and rc >= 0 else None,
        "signal": signal.Signals(-rc).name if rc is not None and rc < 0 else None,
        "log": str(log.relative_to(w.run_dir)),
        "metrics": None,
        "env": None,
        "error": None,
        "log_tail": None,
    }
    result: dict[str, Any] | None = None
    if out.exists():
        try:
            result = json.loads(out.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            result = None
    if timed_out:
        record["status"] = "timeout"
        record["error"] = f"timed out after {timeout:g} s (killed)"
    elif result is not None and result.get("status") == "ok" and rc == 0:
        record["status"] = "ok"
        record["metrics"] = result["metrics"]
        record["env"] = result.get("worker")
    elif result is not None and result.get("status") in ("error", "diverged", "out_of_memory", "skipped"):
        record["status"] = result["status"]
        record["error"] = result.get("error")
        if result.get("diverged_epoch"):
            record["diverged_epoch"] = result["diverged_epoch"]
    elif rc is not None and rc < 0 and cell.settings.memory_limit_mb and _says_out_of_memory(log):
        record["status"] = "out_of_memory"  # a framework that aborts on a failed allocation (std::bad_alloc)
        record["error"] = (f"killed by signal {record['signal']} after an allocation failed under "
                           f"memory_limit_mb = {cell.settings.memory_limit_mb:g}")
    elif rc is not None and rc < 0:
        record["status"] = "crashed"
        record["error"] = f"killed by signal {record['signal']}"
    else:
        record["status"] = "crashed"
        record["error"] = f"worker exited with code {rc} without a result"
    if record["status"] != "ok":
        record["log_tail"] = log_tail(log)
    return record
