"""The child process that runs exactly one cell: ``python -m rnnbench.worker``.

One framework, one cell, one process: thread pools are read at import, peak RSS only goes
up, Keras fixes its backend per process, and a segfault or a hang must cost only this cell.
The worker writes its result as one JSON file (atomically) and progress events as JSON
lines to a second file the parent watches. It never writes to the run's results store.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any


def _write_json(path: Path, obj: dict[str, Any]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, default=str), encoding="utf-8")
    os.replace(tmp, path)


def _inject(fault: str) -> None:
    if fault == "crash":
        os.kill(os.getpid(), signal.SIGSEGV)
    elif fault == "hang":
        while True:
            time.sleep(60)
    elif fault == "error":
        raise RuntimeError("injected error (fault = \"error\")")
    elif fault == "exit":
        sys.exit(3)


def data_spec(settings: Any) -> Any:
    from rnnbench.data import DataSpec

    return DataSpec(
        dataset=settings.dataset,
        encoding=settings.encoding,
        num_words=settings.num_words,
        maxlen=settings.maxlen,
        padding=settings.padding,
        truncating=settings.truncating,
        train_size=None if settings.validation_split else settings.train_size,  # cut after the hold-out
        test_size=settings.test_size,
    )


def run_cell(cell_json: dict[str, Any], events: Path | None = None, gate: Any = None) -> dict[str, Any]:
    """Run one cell in this process and return its worker result (metrics + worker facts)."""
    from rnnbench.backends.base import ensure_available
    from rnnbench.data import load_dataset
    from rnnbench.measure import peak_rss_mb, rss_mb, run_inference, run_protocol
    from rnnbench.suite import Cell

    cell = Cell.from_json(cell_json)
    s = cell.settings
    ev_file = open(events, "a", encoding="utf-8", buffering=1) if events else None

    def emit(event: dict[str, Any]) -> None:
        if ev_file:
            ev_file.write(json.dumps({"t": time.time(), **event}, default=str) + "\n")

    try:
        _inject(s.fault)
        rss_start = rss_mb()
        info = ensure_available(s.backend)
        t0 = time.perf_counter()
        backend_cls = info.load()  # imports the framework
        import_s = time.perf_counter() - t0
        rss_import = rss_mb()
        t0 = time.perf_counter()
        backend = backend_cls(s)  # threads, flush-to-zero, seeds
        init_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        data = load_dataset(data_spec(s))
        if s.validation_split:
            from rnnbench.data.split import hold_out

            data = hold_out(data, s.validation_split, s.train_size)
        load_s = time.perf_counter() - t0
        emit({"event": "data", "train": len(data.x_train), "test": len(data.x_test),
              "validation": 0 if data.x_val is None else len(data.x_val), "load_s": load_s})
        if s.task == "infer":
            metrics = run_protocol(s, backend, data, emit, gate) if s.train_first else {}
            metrics.update(run_inference(s, backend, data, emit, built=s.train_first))
        else:
            metrics = run_protocol(s, backend, data, emit, gate)
        metrics.update(
            {
                "data_load_s": load_s,
                "framework_import_s": import_s,
                "framework_init_s": init_s,
                "rss_start_mb": rss_start,
                "rss_after_import_mb": rss_import,
                "peak_rss_mb": peak_rss_mb(),
                **(backend.device_memory() if hasattr(backend, "device_memory") else {}),
            }
        )
        from rnnbench import __version__
        from rnnbench.envinfo import address_space_randomized, huge_pages_mb, transparent_huge_pages

        worker = {"rnnbench": __version__, "cpu_affinity": sorted(os.sched_getaffinity(0)),
                  "environ_bytes": sum(len(k) + len(v) + 2 for k, v in os.environ.items()),  # moves the stack
                  "transparent_huge_pages": transparent_huge_pages(), "huge_pages_mb": huge_pages_mb(),
                  "aslr": address_space_randomized(), "glibc_tunables": os.environ.get("GLIBC_TUNABLES"),
                  **backend.describe()}
        return {"status": "ok", "metrics": metrics, "worker": worker}
    finally:
        if ev_file:
            ev_file.close()


# What frameworks say when an allocation fails (under memory_limit_mb's RLIMIT_AS, or a full machine).
OUT_OF_MEMORY_SIGNS = ("can't allocate memory", "cannot allocate memory", "bad_alloc", "out of memory",
                       "not enough memory", "resourceexhausted", "oom when allocating", "unable to allocate")


def failure(e: BaseException) -> dict[str, Any]:
    """The result a failed cell leaves: ``skipped`` (its GPU is not there), ``diverged`` (with its
    epoch), ``out_of_memory`` or ``error``."""
    from rnnbench.backends.base import DeviceUnavailable
    from rnnbench.measure import Diverged

    base = {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()}
    if isinstance(e, DeviceUnavailable):
        return {**base, "status": "skipped", "error": str(e)}
    if isinstance(e, Diverged):
        return {**base, "status": "diverged", "error": str(e), "diverged_epoch": e.epoch}
    text = f"{type(e).__name__}: {e}".lower()
    if isinstance(e, MemoryError) or any(sign in text for sign in OUT_OF_MEMORY_SIGNS):
        return {**base, "status": "out_of_memory"}
    return {**base, "status": "error"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m rnnbench.worker", description=__doc__)
    ap.add_argument("--cell", required=True, type=Path, help="cell JSON written by the parent")
    ap.add_argument("--out", required=True, type=Path, help="where to write the result JSON")
    ap.add_argument("--events", type=Path, help="progress events (JSON lines)")
    ap.add_argument("--gate", nargs=2, type=int, metavar=("FD_IN", "FD_OUT"),
                    help="take turns with another worker over these pipes (rnnbench ab; see rnnbench.turns)")
    args = ap.parse_args(argv)
    cell_json = json.loads(args.cell.read_text(encoding="utf-8"))
    gate = None
    if args.gate:
        from rnnbench.turns import Gate

        gate = Gate(*args.gate)
    try:
        result = run_cell(cell_json, args.events, gate)
    except Exception as e:  # noqa: BLE001 - every failure must become a record
        traceback.print_exc()
        _write_json(args.out, failure(e))
        return 1
    _write_json(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
