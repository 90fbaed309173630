"""The measurement protocol every backend is timed by, so numbers are comparable.

For each epoch: a seeded permutation of the training set (the same order for every
backend), ``train_epoch`` with a clock tick after each completed step, then evaluation on
the test set (timed apart). One rule everywhere — *the first apart, steady after*:

* epoch wall times: the first epoch (graph building, allocator warm-up, compilation)
  apart from the steady state (median of the later epochs; ``None`` with one epoch);
* step times: the steady-state sample is every step after ``warmup_steps`` of each epoch
  after the first — of the first epoch when there is only one. It never falls back to the
  warm-up steps: when no step is left after warm-up the steady figures are ``None`` and
  the record carries a warning saying why;
* samples/s: the samples of the steady steps over their summed time (training only, the
  first epoch's compilation and evaluation excluded), so it agrees with the steady step
  whatever the number of epochs;
* evaluation time: the first evaluation (Keras compiles ``predict`` there) apart
  (``eval_first_s``) from the median of the later ones (``eval_s``; ``None`` with one epoch);
* train loss per epoch (the mean over its batches, as Keras reports it), test loss and
  accuracy after every epoch; with ``validation_split``, validation loss and accuracy after
  every epoch; with ``train_eval_size``, the training accuracy after every epoch, measured on
  a fixed subset of the training reviews in evaluation mode (not the running mean over the
  epoch's batches Keras prints, which mixes weights from the whole epoch) — all evaluations
  outside the timed steps;
* with ``epoch_test_size``, the per-epoch test figures come from the first N test reviews
  (``test_subset`` in the epoch's record) and the selected epoch's weights, kept aside, are
  evaluated on the whole test set once at the end — what Keras's
  ``restore_best_weights`` gives — which replaces that epoch's test figures;
* the result (``test_acc``) is the test accuracy at the *selected* epoch: the one with the
  best validation accuracy (``select_epoch = "best_val"``, with a validation split) or the
  last; the generalization gap is training minus validation accuracy at that epoch. No
  figure is chosen by looking at the test set;
* time and epochs to the target accuracy: on validation accuracy when there is a validation
  split (test accuracy otherwise), training time only.

Two checks against a second clock, whose warnings go into the record (and the report marks
the figures they put in doubt):

* **epoch wall against summed steps** (:mod:`rnnbench.epoch_gap`);
* **a busy machine** (:mod:`rnnbench.machine_load`): other processes' CPU time, steal and
  load over the timed windows.

Memory (peak RSS, RSS after the framework import) is the worker's: see :mod:`rnnbench.worker`.
"""

from __future__ import annotations

import math
import resource
import statistics
import time
from typing import TYPE_CHECKING, Any, Callable

from rnnbench.epoch_gap import epoch_gaps
from rnnbench.machine_load import LoadMeter, busy_warning

if TYPE_CHECKING:
    from rnnbench.backends.base import Backend
    from rnnbench.data import EncodedData
    from rnnbench.suite import CellSettings
    from rnnbench.turns import Gate

Event = Callable[[dict[str, Any]], None]


class Diverged(Exception):
    """Training loss became NaN or infinite: the cell's result is ``diverged``, not a crash."""

    def __init__(self, epoch: int, loss: float) -> None:
        super().__init__(f"training loss became {loss} in epoch {epoch}")
        self.epoch = epoch

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


def minor_faults() -> int:
    """This process's minor page faults so far (pages first touched: fresh memory the kernel maps)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def busy_wait(seconds: float) -> None:
    """Spin (not sleep) so the added time is CPU work, like a real slowdown."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def step_sizes(n_steps: int, batch_size: int, n_train: int) -> list[int]:
    """Samples in each step of an epoch: full batches, the last one possibly partial."""
    return [max(0, min(batch_size, n_train - i * batch_size)) for i in range(n_steps)]


def steady_state(
    step_times: list[list[float]],
    eval_times: list[float],
    epoch_walls: list[float],
    batch_size: int,
    n_train: int,
    warmup_steps: int,
    step_faults: list[list[int]] | None = None,
) -> dict[str, Any]:
    """The steady-state figures of a cell from its raw clock readings (see the module doc).

    ``step_times`` holds each epoch's step durations. Returns ``steady_step_s`` (median),
    ``steady_step_mean_s``, ``steady_step_samples`` (the sample itself, for ``compare``),
    ``samples_per_s``, ``steady_source`` (which steps the sample holds, in words),
    ``first_epoch_s``, ``steady_epoch_s``, ``eval_first_s``, ``eval_s`` and ``warnings``;
    with ``step_faults`` (each step's minor page faults), ``steady_page_faults_per_step`` over the
    same steps: memory the allocator maps afresh each step is paid for in faults, inside the step.
    """
    warnings: list[str] = []
    source_epochs = list(range(1, len(step_times))) or [0]
    times: list[float] = []
    faults: list[int] = []
    samples = 0
    for e in source_epochs:
        ep = step_times[e]
        sizes = step_sizes(len(ep), batch_size, n_train)
        times += ep[warmup_steps:]
        faults += step_faults[e][warmup_steps:] if step_faults and e < len(step_faults) else []
        samples += sum(sizes[warmup_steps:])
    first = source_epochs[0] + 1
    span = f"epoch {first}" if len(source_epochs) == 1 else f"epochs {first}-{source_epochs[-1] + 1}"
    source = f"steps after the first {warmup_steps} of {span}"
    if not times:
        longest = max((len(step_times[e]) for e in source_epochs), default=0)
        warnings.append(
            f"no steady-state steps: warmup_steps = {warmup_steps} leaves none of the {longest} steps "
            f"per epoch of {span}; steady step time and samples/s are not reported "
            "(lower warmup_steps or train more steps per epoch)"
        )
    total = sum(times)
    return {
        "first_epoch_s": epoch_walls[0] if epoch_walls else None,
        "steady_epoch_s": statistics.median(epoch_walls[1:]) if len(epoch_walls) > 1 else None,
        "steady_step_s": statistics.median(times) if times else None,
        "steady_step_mean_s": statistics.fmean(times) if times else None,
        "steady_step_samples": [round(t, 6) for t in times],
        "steady_source": source,
        "samples_per_s": samples / total if times and total > 0 else None,
        "eval_first_s": eval_times[0] if eval_times else None,
        "eval_s": statistics.median(eval_times[1:]) if len(eval_times) > 1 else None,
        "steady_page_faults_per_step": statistics.fmean(faults) if faults else None,
        "warnings": warnings,
    }


def steady_phases(per_epoch: list[dict[str, list[float]]], warmup_steps: int,
                  note: str | None = None) -> dict[str, Any]:
    """The forward / backward / optimizer split of the steady step: each phase's median over the
    same steps as the steady step (after ``warmup_steps`` of the epochs after the first, or of
    the only one). ``{"phase_note": note}`` when the backend gives no split."""
    if not per_epoch:
        return {"steady_phases_s": None, "phase_note": note or "not split by this backend"}
    source = per_epoch[1:] or per_epoch[:1]
    out = {}
    for phase in per_epoch[0]:
        times = [t for ep in source for t in ep[phase][warmup_steps:]]
        out[phase] = statistics.median(times) if times else None
    return {"steady_phases_s": out}


def select_epoch(epochs: list[dict[str, Any]], rule: str) -> tuple[int, str]:
    """Index of the epoch whose test figures are the result, and how it was chosen.

    ``best_val``: the first epoch with the highest validation accuracy (as Keras's
    ``EarlyStopping(restore_best_weights=True)`` keeps); without validation figures, and for
    ``last``, the last epoch.
    """
    if rule == "best_val" and epochs and all("val_acc" in e for e in epochs):
        best = max(range(len(epochs)), key=lambda i: (epochs[i]["val_acc"], -i))
        return best, "best validation accuracy"
    return len(epochs) - 1, "last epoch"


def selected_figures(epochs: list[dict[str, Any]], sel: tuple[int, str]) -> dict[str, Any]:
    """The record's result figures, taken at the selected epoch (see :func:`select_epoch`)."""
    i, how = sel
    e = epochs[i]
    gap = e["train_acc"] - e["val_acc"] if "train_acc" in e and "val_acc" in e else None
    return {
        "selected_epoch": i + 1,
        "selected_by": how,
        "test_loss": e["test_loss"],
        "test_acc": e["test_acc"],
        "final_test_acc": epochs[-1]["test_acc"] if "test_subset" not in epochs[-1] else None,
        "val_acc": e.get("val_acc"),
        "val_loss": e.get("val_loss"),
        "train_acc": e.get("train_acc"),
        "generalization_gap": gap,
    }


def declared_figures(settings: "CellSettings", framework: str, params: dict[str, Any]) -> dict[str, Any]:
    """What the cell's architecture declares of itself (:mod:`rnnbench.architectures.base`):
    its recurrent parameter count, recorded beside the framework's count (``params_note`` says
    when they differ), and the training
    FLOPs of one step (forward ×3 for the backward pass), which the report turns into GFLOP/s.
    The fake backend has no architecture."""
    if framework not in ("torch", "keras"):
        return {}
    from rnnbench.architectures import load
    from rnnbench.flops import TRAIN_FACTOR

    arch = load(settings.arch)
    out: dict[str, Any] = {}
    n = arch.recurrent_params(settings, framework)
    if n is not None:
        out["params_declared_recurrent"] = n
        counted = params.get("recurrent")
        if counted is not None and counted != n:
            out["params_note"] = (f"{arch.label} declares {n:,} recurrent parameters; {framework} counts "
                                  f"{counted:,}")
    f = arch.forward_flops_per_timestep(settings)
    if f is not None:
        head = 2.0 * arch.features(settings)
        out["train_flops_per_step"] = TRAIN_FACTOR * (f * settings.maxlen + head) * settings.batch_size
    return out


def run_protocol(
    settings: "CellSettings",
    backend: "Backend",
    data: "EncodedData",
    emit: Event = lambda e: None,
    gate: "Gate | None" = None,
) -> dict[str, Any]:
    """Run the cell's epochs and return its metrics.

    With a ``gate`` (``rnnbench ab``, see :mod:`rnnbench.turns`) the worker takes a turn
    before each epoch's first step and after every step; step clocks restart after each turn,
    so step times hold no waiting (epoch wall times then do, and mean little).
    """
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
    declared = declared_figures(settings, getattr(backend, "framework", ""), params)
    emit({"event": "built", "params": params, "steps_per_epoch": steps_per_epoch, "epochs": settings.epochs})

    epochs: list[dict[str, Any]] = []
    all_steps: list[list[float]] = []
    all_faults: list[list[int]] = []
    all_phases: list[dict[str, list[float]]] = []  # per epoch: each step's forward/backward/optimizer time
    elapsed_train = 0.0
    time_to_target: float | None = None
    epochs_to_target: int | None = None
    subset = settings.epoch_test_size is not None and settings.epoch_test_size < len(data.x_test)
    kept: Any = None
    meter = LoadMeter()
    for epoch in range(settings.epochs):
        perm = rng.permutation(n_train)
        x, y = data.x_train[perm], data.y_train[perm]
        steps: list[float] = []
        faults: list[int] = []
        extra = settings.extra_work
        if gate:
            gate.turn()
        meter.start()  # without a gate, the window is the epoch's training; with one, each step
        last, last_faults = time.perf_counter(), minor_faults()
        start = last

        def on_step() -> None:
            nonlocal last, last_faults
            if extra:
                busy_wait((time.perf_counter() - last) * extra)
            now = time.perf_counter()
            steps.append(now - last)
            now_faults = minor_faults()
            faults.append(now_faults - last_faults)
            last, last_faults = now, now_faults
            if gate:
                meter.stop()
                gate.turn()
                meter.start()
                last, last_faults = time.perf_counter(), minor_faults()
            if len(steps) % 10 == 0 or len(steps) == steps_per_epoch:
                emit({"event": "step", "epoch": epoch + 1, "step": len(steps), "of": steps_per_epoch})

        train_loss = backend.train_epoch(x, y, settings.batch_size, on_step, settings.max_steps_per_epoch)
        if getattr(backend, "epoch_phases", None):
            all_phases.append(backend.epoch_phases)
        if not math.isfinite(train_loss):
            raise Diverged(epoch + 1, train_loss)
        wall = time.perf_counter() - start
        meter.stop()
        elapsed_train += wall
        t_eval = time.perf_counter()
        n_test = min(settings.epoch_test_size or len(data.x_test), len(data.x_test))
        test_loss, test_acc = backend.evaluate(data.x_test[:n_test], data.y_test[:n_test], settings.eval_batch_size)
        eval_s = time.perf_counter() - t_eval
        extra_evals: dict[str, Any] = {}
        if data.x_val is not None:
            t_val = time.perf_counter()
            val_loss, val_acc = backend.evaluate(data.x_val, data.y_val, settings.eval_batch_size)
            extra_evals.update(val_loss=float(val_loss), val_acc=float(val_acc), val_eval_s=time.perf_counter() - t_val)
        if settings.train_eval_size:
            n_fit = min(settings.train_eval_size, n_train)
            tr_loss, tr_acc = backend.evaluate(data.x_train[:n_fit], data.y_train[:n_fit],
                                               settings.eval_batch_size)
            extra_evals.update(train_eval_loss=float(tr_loss), train_acc=float(tr_acc))
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
            **({"test_subset": n_test} if n_test < len(data.x_test) else {}),
            **extra_evals,
            "elapsed_train_s": elapsed_train,
        }
        watched = rec.get("val_acc", rec["test_acc"])
        if time_to_target is None and watched >= settings.target_accuracy:
            time_to_target, epochs_to_target = elapsed_train, epoch + 1
        epochs.append(rec)
        all_steps.append(steps)
        all_faults.append(faults)
        if subset and select_epoch(epochs, settings.select_epoch)[0] == epoch:
            kept = backend.get_weights()  # the selected epoch so far: its model is tested at the end
        emit({"event": "epoch", **rec})

    profile = getattr(backend, "profile_step", None)
    profile_warning = None
    if profile is not None:  # one profiled step, outside every timed window: which kernel ran
        n = min(settings.batch_size, n_train)
        try:
            profile(data.x_train[:n], data.y_train[:n])
        except Exception as e:  # noqa: BLE001 - the kernel record is a fact, not the measurement
            profile_warning = f"kernel profiling failed ({type(e).__name__}: {e}); kernel inferred from settings"
    steady = steady_state(all_steps, [e["eval_s"] for e in epochs], [e["wall_s"] for e in epochs],
                          settings.batch_size, n_train, settings.warmup_steps, all_faults)
    steady.update(steady_phases(all_phases, settings.warmup_steps, getattr(backend, "phase_note", None)))
    gaps = epoch_gaps(all_steps, [e["wall_s"] for e in epochs], gated=gate is not None)
    steady["epoch_gap"] = gaps["epoch_gap"]
    steady["warnings"] += gaps["warnings"]
    steady["machine_load"] = meter.figures()
    busy = busy_warning(steady["machine_load"])
    if busy:
        steady["warnings"].append(busy)
    if profile_warning:
        steady["warnings"].append(profile_warning)
    for warning in steady["warnings"]:
        emit({"event": "warning", "message": warning})
    last_ep = epochs[-1]
    sel = select_epoch(epochs, settings.select_epoch)
    if subset:  # the selected epoch's model on the whole test set, once
        backend.set_weights(kept)
        t_eval = time.perf_counter()
        loss, acc = backend.evaluate(data.x_test, data.y_test, settings.eval_batch_size)
        epochs[sel[0]].update(test_loss=float(loss), test_acc=float(acc), test_full_eval_s=time.perf_counter() - t_eval)
        epochs[sel[0]].pop("test_subset", None)
    return {
        "params": params,
        "params_total": params.get("total"),
        **declared,
        "build_s": build_s,
        "epochs": epochs,
        "step_times_s": [[round(s, 6) for s in ep] for ep in all_steps],
        **steady,
        "train_loss": last_ep["train_loss"],
        **selected_figures(epochs, sel),
        "time_to_target_s": time_to_target,
        "epochs_to_target": epochs_to_target,
        "target_accuracy": settings.target_accuracy,
        "target_on": "validation" if data.x_val is not None else "test",
        "train_size": n_train,
        "validation_size": 0 if data.x_val is None else len(data.x_val),
        "test_size": len(data.x_test),
        "vocab_size": data.vocab_size,
        "data_source": data.source,
        "data_sha256": data.source_sha256,
    }


# -- inference ---------------------------------------------------------------------------------


def latency_summary(times_s: list[float], batch: int) -> dict[str, Any]:
    """Percentiles (ms) of request latencies, and the throughput they add up to."""
    import numpy as np

    t = np.asarray(times_s, dtype=np.float64) * 1e3
    return {"n": len(times_s), "p50_ms": float(np.percentile(t, 50)), "p90_ms": float(np.percentile(t, 90)),
            "p99_ms": float(np.percentile(t, 99)), "mean_ms": float(t.mean()), "min_ms": float(t.min()),
            "samples_per_s": batch * len(times_s) / float(np.sum(times_s))}


def run_inference(settings: "CellSettings", backend: Any, data: Any, emit: Callable[[dict[str, Any]], None],
                  built: bool = False) -> dict[str, Any]:
    """``task = "infer"``: serve the model (built here unless ``built``: it was just trained).

    * **requests**: forward only (evaluation mode, no gradients), one request = a batch of
      test reviews padded to ``maxlen``; at batch 1 and at ``batch_size``: ``warmup_steps``
      untimed requests, then ``infer_requests`` timed ones, each until its output is on the host;
    * **streaming**: reviews fed one token at a time (their real tokens, the padding skipped) with
      the recurrent state carried between tokens and reset at each review, each token's
      probability read back — per-token latency, as an RNN is served online. The first review
      is a warm-up. Architectures with no step form (or bidirectional ones) record why not.
    """
    import numpy as np

    out: dict[str, Any] = {}
    if not built:
        t0 = time.perf_counter()
        backend.build(data.vocab_size)
        out["build_s"] = time.perf_counter() - t0
        params = backend.param_counts()
        out.update({"params": params, "params_total": params.get("total"),
                    **declared_figures(settings, getattr(backend, "framework", ""), params)})
        emit({"event": "built", "params": params, "steps_per_epoch": 0, "epochs": 0})
    x = np.ascontiguousarray(data.x_test)
    n = len(x)
    serve = backend.infer_function()
    batches: dict[str, Any] = {}
    for b in sorted({1, settings.batch_size}):
        if b > n:
            batches[str(b)] = {"note": f"not measured: a batch of {b} needs {b} test reviews, there are {n}"}
            continue
        times = []
        for i in range(settings.warmup_steps + settings.infer_requests):
            start = (i * b) % (n - b + 1)
            xb = x[start:start + b]
            t0 = time.perf_counter()
            serve(xb)
            dt = time.perf_counter() - t0
            if i >= settings.warmup_steps:
                times.append(dt)
        batches[str(b)] = latency_summary(times, b)
        emit({"event": "inference", "batch": b, **batches[str(b)]})
    inference: dict[str, Any] = {"batches": batches, "how": getattr(backend, "infer_note", "")}
    if settings.stream_tokens:
        stream = backend.stream_functions()
        if isinstance(stream, str):
            inference["stream"] = {"note": stream}
        else:
            init, step = stream
            times: list[float] = []
            review = 0
            while len(times) < settings.stream_tokens and review < 10 * n:
                tokens = x[review % n]
                tokens = tokens[tokens != 0] if np.any(tokens != 0) else tokens
                state = init()
                for tok in tokens:
                    t0 = time.perf_counter()
                    _, state = step(int(tok), state)
                    dt = time.perf_counter() - t0
                    if review > 0:
                        times.append(dt)
                        if len(times) >= settings.stream_tokens:
                            break
                review += 1
            inference["stream"] = {**latency_summary(times, 1), "reviews": review - 1}
            emit({"event": "inference", "stream": True, **inference["stream"]})
    out["inference"] = inference
    b1, bn = batches.get("1", {}), batches.get(str(settings.batch_size), {})
    st = inference.get("stream", {})
    out.update({"infer_b1_p50_ms": b1.get("p50_ms"), "infer_b1_p99_ms": b1.get("p99_ms"),
                "infer_bn_p50_ms": bn.get("p50_ms"), "infer_bn_p99_ms": bn.get("p99_ms"),
                "infer_bn_samples_per_s": bn.get("samples_per_s"),
                "stream_p50_ms": st.get("p50_ms"), "stream_p99_ms": st.get("p99_ms")})
    return out
