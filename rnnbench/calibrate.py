"""The machine's float32 matmul rate: the peak that efficiency columns are a fraction of.

``rnnbench env --calibrate`` times float32 matrix products with numpy and, when it is
installed, torch (all cores, as cells run by default): a large square product
(2048 × 2048 @ 2048 × 2048: the practical peak) and the recurrent shape of the IMDB model
(64 × 128 @ 128 × 384: one GRU gate product for a batch of 64). Each figure is the best
per-call time over repeated calls for about ``seconds`` seconds, as GFLOP/s = 2·m·k·n / t.
The result is cached as JSON under ``rnnbench.paths.home()/calibration/``, one file per CPU
model and core count (the machine's key here: the peak is the hardware's, so Python and
framework versions, which ``envinfo.fingerprint`` adds, do not redo it). ``peak_gflops`` is
the best rate over the libraries at the large shape; ``how`` says who made it.

:func:`ensure` is the automatic path: ``rnnbench run`` calls it in the parent before its first
CPU cell, and when nothing is cached it measures with numpy alone (no framework import in the
parent; here numpy's 2048³ was also the faster library) and caches that, ``how = "auto"``;
``$RNNBENCH_NO_CALIBRATE=1`` turns the measuring off. The run stores the calibration in its
``run.json``; ``rnnbench report`` prefers that, then the cache, and names where the peak came
from (:func:`describe`).

``rnnbench env --calibrate --device cuda`` does the same on the GPU with PyTorch (the device
synchronized after each batch of calls), cached per GPU model: GPU cells' % of peak is then
of the GPU's float32 peak, never of the CPU's.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from rnnbench import paths

SCHEMA = 1
PEAK_SHAPE = (2048, 2048, 2048)
RECURRENT_SHAPE = (64, 128, 384)
AUTO = "auto"  # ``how`` of a calibration ``rnnbench run`` made by itself
BY_ENV = "env --calibrate"  # ``how`` of one ``rnnbench env --calibrate`` made (and of those made before ``how``)
AUTO_LIBRARIES = ("numpy",)  # the automatic path imports no framework into the parent
OPT_OUT = "RNNBENCH_NO_CALIBRATE"


def gpu_cache_path(gpu_name: str) -> Path:
    digest = hashlib.sha256(f"gpu|{gpu_name}".encode()).hexdigest()[:12]
    return paths.home() / "calibration" / f"gpu-{digest}.json"


def cache_path(cpu_model: str, cpu_count: int) -> Path:
    digest = hashlib.sha256(f"{cpu_model}|{cpu_count}".encode()).hexdigest()[:12]
    return paths.home() / "calibration" / f"{digest}.json"


def _best_call_s(fn: Callable[[], Any], seconds: float, inner: int) -> float:
    """Best mean time of ``inner`` back-to-back calls, over batches for about ``seconds``."""
    fn()  # warm-up: thread pool start, first-touch of memory
    best = float("inf")
    end = time.perf_counter() + seconds
    batches = 0
    while batches < 3 or time.perf_counter() < end:
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        best = min(best, (time.perf_counter() - t0) / inner)
        batches += 1
        if batches >= 1000:
            break
    return best


def _libraries(names: tuple[str, ...] = ("numpy", "torch"),
               ) -> list[tuple[str, str, Callable[[tuple[int, int, int]], Callable[[], Any]]]]:
    import numpy as np

    def numpy_mm(shape: tuple[int, int, int]) -> Callable[[], Any]:
        m, k, n = shape
        rng = np.random.default_rng(0)
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        out = np.empty((m, n), dtype=np.float32)
        return lambda: np.matmul(a, b, out=out)

    libs: list[tuple[str, str, Callable[[tuple[int, int, int]], Callable[[], Any]]]] = [
        ("numpy", np.__version__, numpy_mm)
    ] if "numpy" in names else []
    if "torch" not in names:
        return libs
    try:
        import torch
    except ImportError:
        return libs

    def torch_mm(shape: tuple[int, int, int]) -> Callable[[], Any]:
        m, k, n = shape
        g = torch.Generator().manual_seed(0)
        a = torch.randn(m, k, generator=g, dtype=torch.float32)
        b = torch.randn(k, n, generator=g, dtype=torch.float32)
        out = torch.empty(m, n, dtype=torch.float32)

        return lambda: torch.mm(a, b, out=out)  # no autograd: the inputs need no gradient

    libs.append(("torch", torch.__version__.split("+")[0] + (f" ({torch.get_num_threads()} threads)"), torch_mm))
    return libs


def measure(
    seconds: float = 0.5,
    peak_shape: tuple[int, int, int] = PEAK_SHAPE,
    recurrent_shape: tuple[int, int, int] = RECURRENT_SHAPE,
    libraries: tuple[str, ...] = ("numpy", "torch"),
    how: str = BY_ENV,
) -> dict[str, Any]:
    """Time the products (a few seconds at the default sizes) and return the calibration.

    ``libraries``: which to time, of numpy and torch (torch only when installed); ``how``: who
    asked (:data:`AUTO` or :data:`BY_ENV`), recorded with it.
    """
    from rnnbench.envinfo import cpu_count, cpu_model

    results: list[dict[str, Any]] = []
    for lib, version, make in _libraries(libraries):
        for kind, shape in (("peak", peak_shape), ("recurrent", recurrent_shape)):
            m, k, n = shape
            flops = 2.0 * m * k * n
            inner = max(1, min(1000, int(2e8 // flops)))  # batch small products so the clock resolves them
            best = _best_call_s(make(shape), seconds, inner)
            results.append({"library": lib, "version": version, "kind": kind, "shape": f"{m}x{k} @ {k}x{n}",
                            "m": m, "k": k, "n": n, "seconds": best, "gflops": flops / best / 1e9})

    def best_of(kind: str) -> dict[str, Any]:
        return max((r for r in results if r["kind"] == kind), key=lambda r: r["gflops"])

    peak, rec = best_of("peak"), best_of("recurrent")
    return {
        "schema": SCHEMA,
        "created": datetime.now().astimezone().isoformat(timespec="seconds"),
        "how": how,
        "cpu_model": cpu_model(),
        "cpu_count": cpu_count(),
        "dtype": "float32",
        "results": results,
        "peak_gflops": peak["gflops"],
        "peak_library": peak["library"],
        "peak_shape": peak["shape"],
        "recurrent_gflops": rec["gflops"],
        "recurrent_library": rec["library"],
        "recurrent_shape": rec["shape"],
    }


def _write(path: Path, calibration: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")  # two runs calibrating at once each write their own
    tmp.write_text(json.dumps(calibration, indent=2), encoding="utf-8")
    tmp.replace(path)
    return path


def _read(path: Path, key: str, value: Any) -> dict[str, Any] | None:
    """The calibration cached at ``path`` when it is one, for ``key == value``, with a peak."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    if not isinstance(data, dict) or data.get(key) != value or not data.get("peak_gflops"):
        return None
    return data


def save(calibration: dict[str, Any]) -> Path:
    return _write(cache_path(calibration["cpu_model"], calibration["cpu_count"]), calibration)


def load(cpu_model: str | None = None, cpu_count: int | None = None) -> dict[str, Any] | None:
    """The cached calibration for a machine (default: this one), or None."""
    if cpu_model is None or cpu_count is None:
        from rnnbench.envinfo import cpu_count as _count
        from rnnbench.envinfo import cpu_model as _model

        cpu_model = cpu_model if cpu_model is not None else _model()
        cpu_count = cpu_count if cpu_count is not None else _count()
    return _read(cache_path(cpu_model, int(cpu_count)), "cpu_model", cpu_model)


def ensure(progress: TextIO | None = None) -> dict[str, Any] | None:
    """This machine's cached calibration; when none is cached, measure one now (numpy, a few
    seconds), cache and return it, saying so on ``progress`` in one line. None only when nothing
    is cached and ``$RNNBENCH_NO_CALIBRATE`` is set (to anything but 0)."""
    cached = load()
    if cached is not None or os.environ.get(OPT_OUT, "0") not in ("", "0"):
        return cached
    if progress:
        progress.write("calibrating this machine's float32 matmul peak (once per machine, a few seconds) ...")
        progress.flush()
    from rnnbench.machine_load import LoadMeter

    t0 = time.perf_counter()
    meter = LoadMeter()
    meter.start()
    cal = measure(libraries=AUTO_LIBRARIES, how=AUTO)
    meter.stop()
    busy = meter.figures()
    if busy and busy["busy"]:  # a figure from a busy machine is the run's, never the machine's: not cached
        cal["machine_load"] = busy
        if progress:
            progress.write(f" {cal['peak_gflops']:.0f} GFLOP/s, not cached: the machine was busy "
                           f"({busy['busy_reason']})\n")
            progress.flush()
        return cal
    path = save(cal)
    if progress:
        progress.write(f" {cal['peak_gflops']:.0f} GFLOP/s ({cal['peak_library']}, {time.perf_counter() - t0:.1f} s),"
                       f" cached in {path}\n")
        progress.flush()
    return cal


def _shape_words(shape: str | None) -> str:
    """``2048x2048 @ 2048x2048`` as ``2048³``; other shapes as they are."""
    a, _, b = (shape or "?").partition(" @ ")
    dims = {*a.split("x"), *b.split("x")}
    return f"{dims.pop()}³" if len(dims) == 1 else (shape or "?")


def describe(cal: dict[str, Any], esc: Callable[[Any], str] = str,
             code: Callable[[str], str] = lambda c: f"`{c}`") -> str:
    """Where a peak came from and when, for a report: ``of 310 GFLOP/s, float32 matmul 2048³ by
    numpy, measured automatically 2026-12-04 17:40 on <CPU>`` (or ``measured by `rnnbench env
    --calibrate` …``). ``esc`` makes the recorded values literal text, ``code`` marks a command."""
    when = str(cal.get("created") or "?")[:16].replace("T", " ")
    who = "measured automatically" if cal.get("how") == AUTO else f"measured by {code('rnnbench env --calibrate')}"
    where = cal.get("gpu_name") or cal.get("cpu_model") or "?"
    return (f"of {cal.get('peak_gflops') or 0:.0f} GFLOP/s, {esc(cal.get('dtype', 'float32'))} matmul "
            f"{esc(_shape_words(cal.get('peak_shape')))} by {esc(cal.get('peak_library', '?'))}, {who} "
            f"{esc(when)} on {esc(where)}")


def sources(calibrations: dict[str, dict[str, Any]], esc: Callable[[Any], str] = str,
            code: Callable[[str], str] = lambda c: f"`{c}`") -> list[str]:
    """One line per distinct calibration of ``run_id → calibration`` (``% of peak: …``), naming
    the runs when they do not all share one; none for none."""
    runs: dict[str, list[str]] = {}
    for run_id, cal in calibrations.items():
        runs.setdefault(describe(cal, esc, code), []).append(esc(run_id))
    if len(runs) == 1:
        return [f"% of peak: {next(iter(runs))}"]
    return [f"% of peak ({', '.join(ids)}): {text}" for text, ids in runs.items()]


def measure_gpu(seconds: float = 0.5, peak_shape: tuple[int, int, int] = PEAK_SHAPE,
                recurrent_shape: tuple[int, int, int] = RECURRENT_SHAPE) -> dict[str, Any]:
    """The float32 matmul rate of this machine's first visible GPU (PyTorch); UserError without one."""
    from rnnbench.errors import UserError

    try:
        import torch
    except ImportError:
        raise UserError("--device cuda calibrates with PyTorch, which is not installed",
                        hint="pip install 'rnnbench[torch]' (a CUDA build)") from None
    if not torch.cuda.is_available():
        raise UserError(f"--device cuda: torch {torch.__version__} sees no CUDA GPU (torch.cuda.is_available() is "
                        "False)")
    dev = torch.device("cuda:0")
    torch.backends.cuda.matmul.allow_tf32 = False  # float32 as the cells train, not TF32
    results: list[dict[str, Any]] = []
    for kind, (m, k, n) in (("peak", peak_shape), ("recurrent", recurrent_shape)):
        a, b = torch.randn(m, k, device=dev), torch.randn(k, n, device=dev)
        out = torch.empty(m, n, device=dev)
        flops = 2.0 * m * k * n
        inner = max(1, min(1000, int(2e10 // flops)))

        def batch() -> None:
            for _ in range(inner):
                torch.mm(a, b, out=out)
            torch.cuda.synchronize(dev)

        best = _best_call_s(batch, seconds, 1) / inner
        results.append({"library": "torch", "version": torch.__version__, "kind": kind, "shape": f"{m}x{k} @ {k}x{n}",
                        "m": m, "k": k, "n": n, "seconds": best, "gflops": flops / best / 1e9})
    return {"schema": SCHEMA, "created": datetime.now().astimezone().isoformat(timespec="seconds"), "how": BY_ENV,
            "device": "cuda", "gpu_name": torch.cuda.get_device_name(dev), "dtype": "float32", "results": results,
            "peak_gflops": results[0]["gflops"], "peak_library": "torch", "peak_shape": results[0]["shape"],
            "recurrent_gflops": results[1]["gflops"], "recurrent_library": "torch",
            "recurrent_shape": results[1]["shape"]}


def save_gpu(calibration: dict[str, Any]) -> Path:
    return _write(gpu_cache_path(calibration["gpu_name"]), calibration)


def load_gpu(gpu_name: str) -> dict[str, Any] | None:
    """The cached calibration of a GPU model, or None."""
    return _read(gpu_cache_path(gpu_name), "gpu_name", gpu_name)
