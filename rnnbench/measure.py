"""The measurement protocol every backend is timed by, so numbers are comparable.

For each epoch: a seeded permutation of the training set (the same order for every
backend), ``train_epoch`` with a clock tick after each completed step, then evaluation on
the test set (timed apart). Reported:

* epoch wall times — the first epoch (graph building, allocator warm-up, compilation)
  apart from the steady state (median of the later epochs);
* per-step times; the steady-state sample is every step after ``warmup_steps`` of each
  epoch after the first (of the first epoch when there is only one);
* samples/s of steady epochs (training only, evaluation excluded);
* train loss per epoch, test loss and accuracy after every epoch, time to target accuracy;
* peak RSS of the process (``ru_maxrss``: everything the process held, framework and data
  included) and the RSS right after the framework import, so the model's share can be read.
"""

from __future__ import annotations

import resource
import statistics
import time
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    import numpy as np

    from rnnbench.backends.base import Backend
    from rnnbench.data import EncodedData
    from rnnbench.suite import CellSettings

Event = Callable[[dict[str, Any]], None]


def rss_mb() -> float:
    """Current resident set size in MB (Linux /proc; falls back to the peak)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * resource.getpagesize() / 2**20
    except OSError:
        return peak_rss_mb()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def busy_wait(seconds: float) -> None:
    """Spin (not sleep) so the added time is CPU work, like a real slowdown."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def run_protocol(
    settings: "CellSettings",
    backend: "Backend",
    data: "EncodedData",
    emit: Event = lambda e: None,
) -> dict[str, Any]:
    import numpy as np

    rng = np.random.RandomState(settings.seed)
    n_train = len(data.x_train)
    steps_per_epoch = -(-n_train // settings.batch_size)
    if settings.max_steps_per_epoch:
        steps_per_epoch = min(steps_per_epoch, settings.max_steps_per_epoch)

    t_build = time.perf_counter()
    backend.build(data.vocab_size)
    build_s = time.perf_counter() - t_build
    params = backend.param_counts()
    emit({"event": "built", "params": params, "steps_per_epoch": steps_per_epoch, "epochs": settings.epochs})

    epochs: list[dict[str, Any]] = []
    all_steps: list[list[float]] = []
    elapsed_train = 0.0
    time_to_target: float | None = None
    for epoch in range(settings.epochs):
        perm = rng.permutation(n_train)
        x, y = data.x_train[perm], data.y_train[perm]
        steps: list[float] = []
        extra = settings.extra_work
        last = time.perf_counter()
        start = last

        def on_step() -> None:
            nonlocal last
            if extra:
                busy_wait((time.perf_counter() - last) * extra)
            now = time.perf_counter()
            steps.append(now - last)
            last = now
            if len(steps) % 10 == 0 or len(steps) == steps_per_epoch:
                emit({"event": "step", "epoch": epoch + 1, "step": len(steps), "of": steps_per_epoch})

        train_loss = backend.train_epoch(x, y, settings.batch_size, on_step, settings.max_steps_per_epoch)
        wall = time.perf_counter() - start
        elapsed_train += wall
        t_eval = time.perf_counter()
        test_loss, test_acc = backend.evaluate(data.x_test, data.y_test, settings.eval_batch_size)
        eval_s = time.perf_counter() - t_eval
        n_samples = min(n_train, len(steps) * settings.batch_size)
        rec = {
            "epoch": epoch + 1,
            "wall_s": wall,
            "steps": len(steps),
            "samples": n_samples,
            "samples_per_s": n_samples / wall if wall > 0 else None,
            "train_loss": float(train_loss),
            "test_loss": float(test_loss),
            "test_acc": float(test_acc),
            "eval_s": eval_s,
            "elapsed_train_s": elapsed_train,
        }
        if time_to_target is None and test_acc >= settings.target_accuracy:
            time_to_target = elapsed_train
        epochs.append(rec)
        all_steps.append(steps)
        emit({"event": "epoch", **rec})

    w = settings.warmup_steps
    steady_steps = [s for ep in (all_steps[1:] or all_steps[:1]) for s in ep[w:]] or all_steps[0]
    steady_epochs = [e["wall_s"] for e in epochs[1:]]
    steady_sps = [e["samples_per_s"] for e in epochs[1:] if e["samples_per_s"]]
    last_ep = epochs[-1]
    return {
        "params": params,
        "params_total": params.get("total"),
        "build_s": build_s,
        "epochs": epochs,
        "first_epoch_s": epochs[0]["wall_s"],
        "steady_epoch_s": statistics.median(steady_epochs) if steady_epochs else None,
        "step_times_s": [[round(s, 6) for s in ep] for ep in all_steps],
        "steady_step_s": statistics.median(steady_steps),
        "steady_step_mean_s": statistics.fmean(steady_steps),
        "steady_step_samples": [round(s, 6) for s in steady_steps],
        "samples_per_s": statistics.median(steady_sps) if steady_sps else epochs[0]["samples_per_s"],
        "eval_s": statistics.median(e["eval_s"] for e in epochs),
        "train_loss": last_ep["train_loss"],
        "test_loss": last_ep["test_loss"],
        "test_acc": last_ep["test_acc"],
        "best_test_acc": max(e["test_acc"] for e in epochs),
        "time_to_target_s": time_to_target,
        "target_accuracy": settings.target_accuracy,
        "train_size": n_train,
        "test_size": len(data.x_test),
        "vocab_size": data.vocab_size,
        "data_source": data.source,
        "data_sha256": data.source_sha256,
    }
