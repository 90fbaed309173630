"""The machine's float32 matmul rate: the peak that efficiency columns are a fraction of.

``rnnbench env --calibrate`` times float32 matrix products with numpy and, when it is
installed, torch (all cores, as cells run by default): a large square product
(2048 × 2048 @ 2048 × 2048: the practical peak) and the recurrent shape of the IMDB model
(64 × 128 @ 128 × 384: one GRU gate product for a batch of 64). Each figure is the best
per-call time over repeated calls for about ``seconds`` seconds, as GFLOP/s = 2·m·k·n / t.
The result is cached as JSON under ``rnnbench.paths.home()/calibration/``, one file per CPU
model and core count; ``rnnbench report`` reads the file matching each run's machine and,
when there is one, shows each cell's achieved GFLOP/s as a percentage of ``peak_gflops``
(the best rate over the libraries at the large shape).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from rnnbench import paths

SCHEMA = 1
PEAK_SHAPE = (2048, 2048, 2048)
RECURRENT_SHAPE = (64, 128, 384)


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
) -> dict[str, Any]:
    """Time the products (a few seconds at the default sizes) and return the calibration.

    ``libraries``: which to time, of numpy and torch (torch only when installed).
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


def save(calibration: dict[str, Any]) -> Path:
    path = cache_path(calibration["cpu_model"], calibration["cpu_count"])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(calibration, indent=2), encoding="utf-8")
    tmp.replace(path)
    return path


def load(cpu_model: str | None = None, cpu_count: int | None = None) -> dict[str, Any] | None:
    """The cached calibration for a machine (default: this one), or None."""
    if cpu_model is None or cpu_count is None:
        from rnnbench.envinfo import cpu_count as _count
        from rnnbench.envinfo import cpu_model as _model

        cpu_model = cpu_model if cpu_model is not None else _model()
        cpu_count = cpu_count if cpu_count is not None else _count()
    path = cache_path(cpu_model, int(cpu_count))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    if not isinstance(data, dict) or data.get("cpu_model") != cpu_model or not data.get("peak_gflops"):
        return None
    return data
