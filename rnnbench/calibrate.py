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

``rnnbench env --calibrate --device cuda`` does the same on the GPU with PyTorch (the device
synchronized after each batch of calls), cached per GPU model: GPU cells' % of peak is then
of the GPU's float32 peak, never of the CPU's.
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


def _write(path: Path, calibration: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
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
    return {"schema": SCHEMA, "created": datetime.now().astimezone().isoformat(timespec="seconds"),
            "device": "cuda", "gpu_name": torch.cuda.get_device_name(dev), "dtype": "float32", "results": results,
            "peak_gflops": results[0]["gflops"], "peak_library": "torch", "peak_shape": results[0]["shape"],
            "recurrent_gflops": results[1]["gflops"], "recurrent_library": "torch",
            "recurrent_shape": results[1]["shape"]}


def save_gpu(calibration: dict[str, Any]) -> Path:
    return _write(gpu_cache_path(calibration["gpu_name"]), calibration)


def load_gpu(gpu_name: str) -> dict[str, Any] | None:
    """The cached calibration of a GPU model, or None."""
    return _read(gpu_cache_path(gpu_name), "gpu_name", gpu_name)
