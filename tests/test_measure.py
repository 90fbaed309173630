"""The measurement protocol's rules (rnnbench.measure): first apart, steady after.

Pure functions on made-up clock readings, plus one run of the protocol with a stand-in
backend whose step times are scripted, so every rule is checked by exact numbers.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

from rnnbench.measure import run_protocol, steady_state, step_sizes
from rnnbench.suite import CellSettings


def test_step_sizes_count_the_partial_last_batch() -> None:
    assert step_sizes(4, 64, 200) == [64, 64, 64, 8]
    assert step_sizes(3, 64, 10_000) == [64, 64, 64]  # capped by max_steps_per_epoch


def test_one_epoch_throughput_comes_from_the_steady_steps_not_the_compiling_epoch() -> None:
    # step 1 compiles (10 s); the other steps take 0.1 s each; 2 warm-up steps
    steps = [[10.0, 0.2, 0.1, 0.1, 0.1, 0.1]]
    out = steady_state(steps, [0.5], [10.6], batch_size=32, n_train=192, warmup_steps=2)
    assert out["steady_step_s"] == pytest.approx(0.1)
    assert out["samples_per_s"] == pytest.approx(32 * 4 / 0.4)  # 320, not 192 / 10.6 = 18
    assert out["steady_epoch_s"] is None
    assert out["first_epoch_s"] == 10.6
    assert out["steady_source"] == "steps after the first 2 of epoch 1"
    assert out["warnings"] == []


def test_later_epochs_form_the_steady_state_and_partial_batches_weigh_less() -> None:
    steps = [[5.0, 1.0, 1.0], [0.9, 0.2, 0.05], [0.9, 0.2, 0.05]]
    out = steady_state(steps, [0.6, 0.1, 0.3], [7.0, 1.15, 1.15], batch_size=64, n_train=136, warmup_steps=1)
    assert out["steady_step_samples"] == [0.2, 0.05, 0.2, 0.05]
    assert out["samples_per_s"] == pytest.approx((64 + 8) * 2 / 0.5)  # last batch holds 8 samples
    assert out["steady_epoch_s"] == 1.15
    assert out["steady_source"] == "steps after the first 1 of epochs 2-3"


def test_page_faults_per_step_come_from_the_same_steps_as_the_step_time() -> None:
    steps = [[5.0, 1.0, 1.0], [0.9, 0.2, 0.05], [0.9, 0.2, 0.05]]
    faults = [[900, 500, 500], [70, 10, 20], [80, 0, 30]]  # warm-up and the first epoch left out
    out = steady_state(steps, [0.6, 0.1, 0.3], [7.0, 1.15, 1.15], 64, 136, warmup_steps=1, step_faults=faults)
    assert out["steady_page_faults_per_step"] == pytest.approx(15.0)
    assert steady_state(steps, [0.6] * 3, [7.0] * 3, 64, 136, 1)["steady_page_faults_per_step"] is None


def test_evaluation_time_keeps_the_first_one_apart() -> None:
    out = steady_state([[1.0, 1.0]] * 3, [0.616, 0.143, 0.150], [2.0] * 3, 8, 16, 0)
    assert out["eval_first_s"] == 0.616
    assert out["eval_s"] == pytest.approx(0.1465)
    one = steady_state([[1.0, 1.0]], [0.616], [2.0], 8, 16, 0)
    assert one["eval_first_s"] == 0.616 and one["eval_s"] is None


def test_no_fallback_to_warm_up_steps_when_none_are_left() -> None:
    out = steady_state([[9.0, 1.0, 1.0], [2.0, 1.0, 1.0]], [0.1, 0.1], [11.0, 4.0], 8, 24, warmup_steps=3)
    assert out["steady_step_s"] is None and out["samples_per_s"] is None
    assert out["steady_step_samples"] == []
    assert len(out["warnings"]) == 1 and "warmup_steps = 3" in out["warnings"][0]


class ScriptedBackend:
    """A stand-in backend whose steps 'take' scripted times (the clock is patched)."""

    def __init__(self, settings: CellSettings, clock: "FakeClock", step_times: list[float]) -> None:
        self.s, self.clock, self.step_times, self.profiled = settings, clock, list(step_times), 0

    def build(self, vocab_size: int) -> None:
        pass

    def param_counts(self) -> dict[str, int]:
        return {"embedding": 1, "recurrent": 2, "head": 3, "total": 6}

    def train_epoch(self, x: np.ndarray, y: np.ndarray, batch_size: int, on_step: Callable[[], None],
                    max_steps: int | None) -> float:
        n = -(-len(x) // batch_size)
        for _ in range(min(n, max_steps or n)):
            self.clock.t += self.step_times.pop(0)
            on_step()
        return 0.5

    def evaluate(self, x: np.ndarray, y: np.ndarray, batch_size: int) -> tuple[float, float]:
        self.clock.t += 0.25
        return 0.4, 0.75

    def profile_step(self, x: np.ndarray, y: np.ndarray) -> list[str]:
        self.profiled += 1
        self.clock.t += 100.0  # must not land in any timed figure
        return ["aten::gru"]


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


class _Data:
    def __init__(self, n: int) -> None:
        self.x_train = np.zeros((n, 4), dtype=np.int32)
        self.y_train = np.zeros(n, dtype=np.float32)
        self.x_test, self.y_test = self.x_train[:8], self.y_train[:8]
        self.x_val, self.y_val = None, None
        self.vocab_size, self.source, self.source_sha256 = 10, "test", "0"


class ScriptedAccuracy(ScriptedBackend):
    """Evaluates to scripted accuracies: per call, by which split it is handed (size tells)."""

    def __init__(self, settings: CellSettings, clock: "FakeClock", accs: dict[int, list[float]]) -> None:
        super().__init__(settings, clock, [0.1] * 1000)
        self.accs = {n: list(v) for n, v in accs.items()}
        self.calls: list[int] = []

    def evaluate(self, x: np.ndarray, y: np.ndarray, batch_size: int) -> tuple[float, float]:
        self.calls.append(len(x))
        return 0.3, self.accs[len(x)].pop(0)


def test_the_result_is_the_test_accuracy_at_the_best_validation_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    monkeypatch.setattr("rnnbench.measure.time.perf_counter", clock)
    s = CellSettings(backend="fake", epochs=4, batch_size=4, warmup_steps=1, train_eval_size=5, target_accuracy=0.8)
    data = _Data(12)
    data.x_val, data.y_val = np.zeros((3, 4), np.int32), np.zeros(3, np.float32)
    # test (8 reviews), validation (3), training subset (5) after each epoch
    backend = ScriptedAccuracy(s, clock, {8: [0.70, 0.80, 0.95, 0.78], 3: [0.71, 0.83, 0.82, 0.80],
                                          5: [0.72, 0.90, 0.97, 0.99]})
    m = run_protocol(s, backend, data)
    assert backend.calls[:3] == [8, 3, 5]  # test, validation, the fixed training subset
    assert m["selected_epoch"] == 2 and m["selected_by"] == "best validation accuracy"
    assert m["test_acc"] == 0.80  # not the best test accuracy (0.95), nor the last (0.78)
    assert m["final_test_acc"] == 0.78 and "best_test_acc" not in m
    assert m["val_acc"] == 0.83 and m["train_acc"] == 0.90
    assert m["generalization_gap"] == pytest.approx(0.07)
    assert m["epochs_to_target"] == 2 and m["target_on"] == "validation"  # validation 0.83 ≥ 0.8, test 0.80 too
    assert m["validation_size"] == 3
    assert [e["val_acc"] for e in m["epochs"]] == [0.71, 0.83, 0.82, 0.80]
    last = run_protocol(s.model_copy(update={"select_epoch": "last"}), ScriptedAccuracy(
        s, clock, {8: [0.70, 0.80, 0.95, 0.78], 3: [0.71, 0.83, 0.82, 0.80], 5: [0.72, 0.90, 0.97, 0.99]}), data)
    assert last["selected_epoch"] == 4 and last["test_acc"] == 0.78


def test_a_test_subset_per_epoch_and_the_selected_weights_on_the_whole_test_set(
        monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    monkeypatch.setattr("rnnbench.measure.time.perf_counter", clock)
    s = CellSettings(backend="fake", epochs=3, batch_size=4, warmup_steps=1, epoch_test_size=2)
    data = _Data(12)
    data.x_val, data.y_val = np.zeros((3, 4), np.int32), np.zeros(3, np.float32)

    class Weighted(ScriptedAccuracy):
        w = 0
        def train_epoch(self, *a: Any) -> float:  # noqa: E301
            self.w += 1  # the "weights" are the epoch count
            return super().train_epoch(*a)
        def get_weights(self) -> int:  # noqa: E301
            return self.w
        def set_weights(self, w: int) -> None:  # noqa: E301
            self.restored = w
            self.w = w

    b = Weighted(s, clock, {2: [0.6, 0.7, 0.8], 3: [0.70, 0.90, 0.85], 8: [0.88]})
    m = run_protocol(s, b, data)
    assert b.calls == [2, 3, 2, 3, 2, 3, 8]  # subset + validation per epoch, the whole test set once
    assert b.restored == 2  # epoch 2 had the best validation accuracy: its weights were tested
    assert m["selected_epoch"] == 2 and m["test_acc"] == 0.88
    assert [e.get("test_subset") for e in m["epochs"]] == [2, None, 2]
    assert m["final_test_acc"] is None  # the last epoch saw only the subset


def test_without_validation_the_last_epoch_is_the_result_and_the_target_is_on_test(
        monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    monkeypatch.setattr("rnnbench.measure.time.perf_counter", clock)
    s = CellSettings(backend="fake", epochs=3, batch_size=4, warmup_steps=1, target_accuracy=0.9)
    m = run_protocol(s, ScriptedAccuracy(s, clock, {8: [0.7, 0.95, 0.8]}), _Data(12))
    assert m["selected_epoch"] == 3 and m["selected_by"] == "last epoch" and m["test_acc"] == 0.8
    assert m["val_acc"] is None and m["generalization_gap"] is None
    assert m["epochs_to_target"] == 2 and m["target_on"] == "test"


def test_protocol_times_steps_and_keeps_the_profiled_step_out(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    monkeypatch.setattr("rnnbench.measure.time.perf_counter", clock)
    s = CellSettings(backend="fake", epochs=2, batch_size=4, warmup_steps=1)
    backend = ScriptedBackend(s, clock, [3.0, 0.5, 0.5, 0.4, 0.2, 0.2])
    events: list[dict[str, Any]] = []
    m = run_protocol(s, backend, _Data(12), events.append)
    assert backend.profiled == 1
    assert m["step_times_s"] == [[3.0, 0.5, 0.5], [0.4, 0.2, 0.2]]
    assert m["steady_step_samples"] == [0.2, 0.2]
    assert m["samples_per_s"] == pytest.approx(8 / 0.4)
    assert m["first_epoch_s"] == pytest.approx(4.0) and m["steady_epoch_s"] == pytest.approx(0.8)
    assert m["eval_first_s"] == pytest.approx(0.25) and m["eval_s"] == pytest.approx(0.25)
    assert [e["epoch"] for e in events if e["event"] == "epoch"] == [1, 2]


def test_protocol_emits_the_no_steady_state_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    monkeypatch.setattr("rnnbench.measure.time.perf_counter", clock)
    s = CellSettings(backend="fake", epochs=1, batch_size=4, warmup_steps=5)
    events: list[dict[str, Any]] = []
    m = run_protocol(s, ScriptedBackend(s, clock, [1.0, 1.0, 1.0]), _Data(12), events.append)
    assert m["steady_step_s"] is None
    assert any(e["event"] == "warning" and "no steady-state steps" in e["message"] for e in events)


def test_suite_rejects_warm_up_that_leaves_no_steady_step() -> None:
    with pytest.raises(ValueError, match="warmup_steps = 5 leaves no steady-state step"):
        CellSettings(max_steps_per_epoch=5, warmup_steps=5)
    CellSettings(max_steps_per_epoch=6, warmup_steps=5)
