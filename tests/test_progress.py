"""Live progress: plain log lines off a terminal, the rich display on one, silence with -q."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest

from rnnbench.progress import PlainProgress, QuietProgress, RichProgress, SuiteState, make_progress
from rnnbench.suite import parse_suite

SUITE = parse_suite('''name = "p"
[defaults]
backend = "fake"
epochs = 2
[matrix]
arch = ["gru", "lstm", "rnn"]
''', "p.toml")
CELLS = list(SUITE.cells)
ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]")


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _ok(cell: Any, wall: float) -> dict[str, Any]:
    return {"status": "ok", "wall_s": wall, "metrics": {"test_acc": 0.8123, "steady_step_s": 0.0421}}


def _drive(p: Any, clock: Clock) -> None:
    """A 3-cell run: cell 1 ok (10 s), cell 2 fails, cell 3 half-way when we look."""
    p.start("run-1", CELLS, 0)
    for i, cell in enumerate(CELLS):
        p.cell_start(cell)
        p.event(cell, {"event": "data", "train": 512, "test": 256, "load_s": 0.1})
        p.event(cell, {"event": "built", "params": {"total": 12345}, "steps_per_epoch": 10, "epochs": 2})
        if i == 1:
            clock.t += 2
            p.cell_done(cell, {"status": "error", "wall_s": 2.0, "error": "RuntimeError: <boom> [red]x[/red]"})
            continue
        for epoch in (1, 2):
            for step in (5, 10):
                clock.t += 2.5
                p.event(cell, {"event": "step", "epoch": epoch, "step": step, "of": 10})
                if i == 2 and epoch == 1 and step == 10:
                    return  # the third cell is half-way: look at the display now
            p.event(cell, {"event": "epoch", "epoch": epoch, "wall_s": 5.0, "train_loss": 0.6931,
                           "test_loss": 0.65, "test_acc": 0.61 + 0.1 * epoch, "steps": 10})
        p.cell_done(cell, _ok(cell, 10.0))


def test_eta_from_finished_cells_and_current_pace() -> None:
    clock = Clock()
    st = SuiteState(clock)
    st.start(CELLS, 0)
    assert st.eta() is None  # nothing to go by yet
    st.cell_start(CELLS[0])
    clock.t += 5
    st.step({"epoch": 1, "step": 10, "of": 10})  # half of 2 epochs × 10 steps in 5 s
    assert st.eta() == pytest.approx(5 + 2 * 10)  # own pace: 5 s left, then 2 cells of ~10 s
    clock.t += 5
    st.cell_done({"status": "ok"})
    assert st.remaining == 2 and st.eta() == pytest.approx(20)
    st.cell_start(CELLS[1])
    clock.t += 4
    assert st.eta() == pytest.approx(6 + 10)
    assert st.counts() == "1/3 done, 2 remaining, ETA 0:16"


def test_plain_mode_lines() -> None:
    clock = Clock()
    buf = io.StringIO()
    p = PlainProgress(buf, clock=clock)
    _drive(p, clock)
    p.stop()
    out = buf.getvalue()
    assert "\x1b" not in out  # no control codes in logs
    lines = [ln.split("] ", 1)[1] for ln in out.splitlines()]
    assert lines[0] == "run run-1: 3 cells, 0 already done"
    assert lines[1] == "cell 1/3 GRU / fake (repeat 0, seed 0) ..."
    assert "  GRU / fake epoch 1/2: 5.0 s, train loss 0.6931, test loss 0.6500, test acc 0.7100" in lines
    assert "  GRU / fake ok: acc 0.8123, steady step 42.1 ms, 10 s · 1/3 done, 2 remaining, ETA 0:20" in lines
    assert any(ln.startswith("  LSTM / fake ERROR: RuntimeError: <boom>") and "1 failed" in ln for ln in lines)
    assert lines[-1].startswith("finished 2 cells, 1 failed in ")
    assert not any("step" in ln and "/10" in ln for ln in lines)  # no per-step noise


def test_rich_mode_renders_suite_cell_and_epochs() -> None:
    clock = Clock()
    buf = io.StringIO()
    from rich.console import Console

    console = Console(file=buf, force_terminal=True, width=120)
    p = RichProgress(console=console, clock=clock, auto_refresh=False)
    _drive(p, clock)
    p.refresh()
    live = ANSI.sub("", buf.getvalue())  # as shown while the third cell runs
    p.stop()  # (restores stdout/stderr, which the live display redirects)
    # the epoch and cell lines printed above the bars
    assert "GRU / fake epoch 2/2: 5.0 s, train loss 0.6931, test loss 0.6500, test acc 0.8100" in live
    assert "GRU / fake ok: acc 0.8123, steady step 42.1 ms, 10 s" in live
    assert "LSTM / fake ERROR: RuntimeError: <boom> [red]x[/red]" in live  # markup in a reason is text
    # the live bars: suite counts with failures and an ETA, the current cell's epoch and step
    assert "suite" in live and "2/3" in live and "1 failed" in live and "1 remaining" in live
    assert re.search(r"ETA 0:\d\d", live)
    assert "SimpleRNN / fake (cell 3/3, repeat 0)" in live and "epoch 1/2 · step 10/10" in live
    assert "10/20" in live  # cell progress in steps


def test_quiet_and_choice_of_display(monkeypatch: pytest.MonkeyPatch) -> None:
    class Stream(io.StringIO):
        def __init__(self, tty: bool) -> None:
            super().__init__()
            self.tty = tty

        def isatty(self) -> bool:
            return self.tty

    assert type(make_progress(quiet=True, stream=Stream(True))) is QuietProgress
    assert isinstance(make_progress(stream=Stream(False)), PlainProgress)
    assert isinstance(make_progress(stream=Stream(True)), RichProgress)
    quiet = Stream(False)
    monkeypatch.setattr("sys.stderr", quiet)
    monkeypatch.setattr("sys.stdout", quiet)
    q = make_progress(quiet=True)
    _drive(q, Clock())
    q.stop()
    assert quiet.getvalue() == ""


def test_progress_lines_name_what_sets_matrix_cells_apart() -> None:
    """A units × learning-rate matrix gives four cells labelled "GRU / fake": each start line
    names its units and learning rate, so the four can be told apart (issue 31)."""
    suite = parse_suite('''name = "m"
[defaults]
backend = "fake"
arch = "gru"
[matrix]
units = [64, 72]
learning_rate = [0.001, 0.003]
''', "m.toml")
    buf = io.StringIO()
    p = PlainProgress(buf, clock=Clock())
    p.start("run-2", list(suite.cells), 0)
    for cell in suite.cells:
        p.cell_start(cell)
    starts = [ln.split("] ", 1)[1] for ln in buf.getvalue().splitlines()[1:]]
    assert len(set(starts)) == 4, starts
    assert starts[0] == "cell 1/4 GRU / fake [units=64, learning_rate=0.001] (repeat 0, seed 0) ..."
    one = parse_suite('name = "o"\n[defaults]\nbackend = "fake"\n[matrix]\narch = ["gru", "lstm"]\n', "o.toml")
    q = PlainProgress(io.StringIO(), clock=Clock())
    q.start("run-3", list(one.cells), 0)
    assert q.state.name(one.cells[0]) == "GRU / fake"  # labels alone tell these apart: nothing added
