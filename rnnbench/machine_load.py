"""Was the machine busy while a cell was timed? Other processes' CPU time, steal and load.

A timing taken while other programs ran is not the machine's: on this 2-core kind, a PyTorch
GRU's epochs took 434, 349 and 447 s beside other work and 41, 39 and 40 s alone, with the
same losses to four digits. So every cell's timed windows are metered here, from the
kernel's own counters (Linux ``/proc``; elsewhere nothing is metered and nothing is claimed):

* **other processes' CPU time**: the machine's non-idle CPU time (``/proc/stat``: user,
  nice, system, irq, softirq) over the windows, minus this process's own CPU time (all its
  threads, ``time.process_time``, and its finished children's: on a GPU, XLA runs ``ptxas``
  as a child while it compiles — seen as 2.64 "other" cores before they were counted); divided by the windows' length it is the number of cores
  other programs kept busy (``other_cores``);
* **steal**: CPU time the hypervisor gave to other guests (``/proc/stat``'s steal), as a
  share of the windows' core-seconds;
* **load average** (1 min) at the first window's start and the last one's end.

A window is wherever the cell's clocks run: each epoch's training (or, under ``rnnbench
ab``'s lockstep, each of this side's steps, so the partner's turns are not counted as
others' work). :func:`judge` turns the figures into a verdict with the thresholds below;
the warning says which figure crossed which threshold. pyperf's ``system`` check looks at
the machine before a benchmark; this looks during it, cell by cell.
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from typing import Any

OTHER_CORES_BUSY = 0.2  # other programs kept a fifth of a core busy on average: the cell shared the CPU
STEAL_BUSY_PCT = 5.0  # the hypervisor took more than 5% of the cores' time
MIN_WINDOW_S = 0.5  # /proc/stat counts in 10 ms ticks: shorter windows are not judged
_BUSY_FIELDS = (0, 1, 2, 5, 6)  # user, nice, system, irq, softirq (idle 3, iowait 4, steal 7)
_STEAL_FIELD = 7


@dataclass(frozen=True)
class CpuCounters:
    """One reading: the machine's busy and steal CPU seconds, this process's CPU seconds."""

    machine_busy_s: float
    steal_s: float
    self_s: float
    wall: float


def read_counters() -> CpuCounters | None:
    """The counters now, or None where ``/proc/stat`` cannot be read (not Linux)."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = f.readline().split()[1:]
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    values = [int(v) for v in fields] + [0] * 8
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # e.g. XLA's ptxas, the cell's own compiler
    return CpuCounters(machine_busy_s=sum(values[i] for i in _BUSY_FIELDS) / ticks,
                       steal_s=values[_STEAL_FIELD] / ticks,
                       self_s=time.process_time() + children.ru_utime + children.ru_stime, wall=time.monotonic())


def load_average() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


class LoadMeter:
    """Sums other processes' CPU time, steal and wall time over the windows it is told of."""

    def __init__(self) -> None:
        self.window_s = self.other_s = self.steal_s = 0.0
        self.windows = 0
        self.load_start: float | None = None
        self.load_end: float | None = None
        self._open: CpuCounters | None = None
        self.available = read_counters() is not None

    def start(self) -> None:
        if not self.available:
            return
        if self.load_start is None:
            self.load_start = load_average()
        self._open = read_counters()

    def stop(self) -> None:
        begin, self._open = self._open, None
        end = read_counters() if begin else None
        if begin is None or end is None:
            return
        self.window_s += end.wall - begin.wall
        self.other_s += (end.machine_busy_s - begin.machine_busy_s) - (end.self_s - begin.self_s)
        self.steal_s += end.steal_s - begin.steal_s
        self.windows += 1
        self.load_end = load_average()

    def figures(self, cores: int | None = None) -> dict[str, Any] | None:
        """The record's ``machine_load`` (None when nothing was metered)."""
        if not self.windows or self.window_s <= 0:
            return None
        cores = cores or os.cpu_count() or 1
        other_cores = max(0.0, self.other_s) / self.window_s
        steal_pct = 100.0 * max(0.0, self.steal_s) / (self.window_s * cores)
        return {"window_s": round(self.window_s, 3), "windows": self.windows, "cores": cores,
                "other_cpu_s": round(max(0.0, self.other_s), 3), "other_cores": round(other_cores, 3),
                "steal_pct": round(steal_pct, 2), "loadavg_1m_start": self.load_start,
                "loadavg_1m_end": self.load_end,
                **(judge(other_cores, steal_pct, cores) if self.window_s >= MIN_WINDOW_S else
                   {"busy": False, "busy_reason": f"not judged: {self.window_s:.2f} s metered, under {MIN_WINDOW_S} s"})}


def judge(other_cores: float, steal_pct: float, cores: int) -> dict[str, Any]:
    """``{"busy": bool, "busy_reason": str | None}`` by the module's thresholds."""
    reasons = []
    if other_cores >= OTHER_CORES_BUSY:
        reasons.append(f"other processes kept {other_cores:.2f} of the {cores} cores busy "
                       f"(≥ {OTHER_CORES_BUSY} counts as busy)")
    if steal_pct >= STEAL_BUSY_PCT:
        reasons.append(f"the hypervisor stole {steal_pct:.1f}% of the cores' time (≥ {STEAL_BUSY_PCT:g}%)")
    return {"busy": bool(reasons), "busy_reason": "; ".join(reasons) or None}


def busy_warning(load: dict[str, Any] | None) -> str | None:
    """The record's warning when its timed windows ran on a busy machine, else None."""
    if not load or not load.get("busy"):
        return None
    avg = ""
    if load.get("loadavg_1m_start") is not None and load.get("loadavg_1m_end") is not None:
        avg = f"; load average {load['loadavg_1m_start']:.2f} → {load['loadavg_1m_end']:.2f}"
    return (f"busy machine: during this cell's timed steps {load['busy_reason']}{avg}: its timings are "
            "not this machine's own (run it again on a quiet machine)")


def before_run(seconds: float = 0.5) -> dict[str, Any] | None:
    """The machine over ``seconds`` before a run starts (this process idle meanwhile): the same
    figures as a cell's, so a run can say at once that it starts on a busy machine."""
    meter = LoadMeter()
    if not meter.available:
        return None
    meter.start()
    time.sleep(seconds)
    meter.stop()
    return meter.figures()


def busy_before_run(load: dict[str, Any] | None, consequence: str) -> str | None:
    """The warning a command prints when :func:`before_run` found the machine busy (else None);
    ``consequence`` says what that means for this command's figures."""
    if not load or not load.get("busy"):
        return None
    return f"warning: the machine is busy before the run starts: {load['busy_reason']}; {consequence}"
