"""Weight transfer torch ⇄ Keras and fused ⇄ cell: every case passes, a wrong mapping fails
(in the outputs or only in the gradients), the tolerances are the ones rnnbench.verify
states, the Adam step agrees only with Keras's update rule, and the command prints the
table and sets the exit code."""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pytest
import typer
from helpers import require_module
from rich.console import Console
from typer.testing import CliRunner

from rnnbench import verify as V

require_module("torch")
require_module("keras")  # on TensorFlow: conftest pins KERAS_BACKEND before collection
require_module("tensorflow")

ADAM = "adam step (torch→keras)"
RMSPROP = "rmsprop step (torch→keras)"
STEPS = (ADAM, RMSPROP)


@pytest.mark.slow  # every verify case, both frameworks: ~17 s
def test_every_case_passes_both_directions_and_fused_vs_cell() -> None:
    rows = V.run_verify(V.VerifyConfig())
    # 4 variants × 2 × 2 shapes; cross pairs fused/cell × 2 directions + fused↔cell per framework
    # (no fused reset-before GRU in PyTorch: one row fewer for those 4 cases); one Adam and one
    # RMSprop step per variant
    assert len(rows) == 16 * 6 - 4 + 4 + 4
    failed = [r for r in rows if not r.passed]
    assert not failed, failed
    checks = {r.check for r in rows}
    assert checks == {"torch→keras", "keras→torch", "fused↔cell (torch)", "fused↔cell (keras)", ADAM, RMSPROP}
    assert {r.case for r in rows} >= {"gru x1", "gru-before bi x2", "lstm bi x1", "rnn x2"}
    assert sorted(r.case for r in rows if r.check == ADAM) == ["gru x1", "gru-before x1", "lstm x1", "rnn x1"]
    assert sorted(r.case for r in rows if r.check == RMSPROP) == ["gru x1", "gru-before x1", "lstm x1", "rnn x1"]
    s = V.summary([r for r in rows if r.check not in STEPS])
    print(f"verify: max |Δ out| {s['max_abs_out_diff']:.2e}, max |Δ grad| {s['max_abs_grad_diff']:.2e}, "
          f"max rel {s['max_rel_grad_diff']:.2e}")
    # the gradient checks passed, so outputs were within OUT_TOL (the Adam rows' outputs after a
    # step may differ by design: PyTorch's two biases each take the step)
    assert s["max_abs_out_diff"] <= V.OUT_TOL


def test_a_wrong_gate_order_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(V._TORCH_TO_KERAS_GATES, "gru", (0, 1, 2))  # forget that r and z swap
    cfg = V.VerifyConfig(cross_impls=("fused",), fused_vs_cell=False)
    rows = V.verify_case("gru", False, 1, cfg)
    assert rows and not any(r.passed for r in rows)
    assert min(r.max_abs_out_diff for r in rows) > V.OUT_TOL  # caught in the outputs


def test_a_gradient_only_mapping_error_fails_the_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """Outputs equal, gradients not: map Keras's single LSTM bias gradient as a weight (b_hh's
    gradient 0) instead of against both of PyTorch's biases. Only the gradients can see it."""
    real = V.keras_arrays_to_torch
    monkeypatch.setattr(V, "keras_arrays_to_torch",
                        lambda emb, cells, head, arch, for_grad=False: real(emb, cells, head, arch, False))
    cfg = V.VerifyConfig(cross_impls=("fused",), fused_vs_cell=False)
    rows = V.verify_case("lstm", False, 1, cfg)
    assert [r.check for r in rows] == ["torch→keras", "keras→torch"]
    for r in rows:
        assert r.max_abs_out_diff <= V.OUT_TOL  # the outputs agree …
        assert not r.passed and r.worst == "recurrent.bias_hh_l0"  # … the gradients do not


def _grads() -> dict[str, np.ndarray]:
    rng = np.random.RandomState(3)
    return {"recurrent.weight_ih_l0": rng.randn(6, 4), "recurrent.bias_hh_l0": rng.randn(6), "head.bias": rng.randn(1)}


def test_row_fails_on_one_gradient_with_equal_outputs() -> None:
    out = np.array([0.25, 0.5, 0.75])
    g = _grads()
    assert V._row("c", "torch→keras", "fused/fused", out, out.copy(), g, dict(g), 0.0).passed
    bad = {**g, "recurrent.bias_hh_l0": g["recurrent.bias_hh_l0"] + np.eye(6)[2] * 1e-3}
    row = V._row("c", "torch→keras", "fused/fused", out, out.copy(), g, bad, 0.0)
    assert row.max_abs_out_diff == 0.0 and not row.passed
    assert row.worst == "recurrent.bias_hh_l0" and row.max_abs_grad_diff == pytest.approx(1e-3)


def test_tolerances_are_the_modules() -> None:
    """The pass/fail boundaries sit at rnnbench.verify's OUT_TOL, GRAD_ATOL and GRAD_RTOL."""
    g = _grads()
    out = np.array([0.25, 0.5, 0.75])

    def passes(out_shift: float = 0.0, grad_shift: float = 0.0, name: str = "head.bias") -> bool:
        other = {**g, name: g[name] + grad_shift}
        return V._row("c", "torch→keras", "fused/fused", out, out + out_shift, g, other, 0.0).passed

    assert passes(out_shift=V.OUT_TOL * 0.99) and not passes(out_shift=V.OUT_TOL * 1.01)
    # per weight: |Δ| ≤ GRAD_ATOL + GRAD_RTOL · max|grad of that weight|
    for name in g:
        bound = V.GRAD_ATOL + V.GRAD_RTOL * float(np.max(np.abs(g[name])))
        assert passes(grad_shift=bound * 0.99, name=name), name
        assert not passes(grad_shift=bound * 1.01, name=name), name
    # the relative part scales with the weight's own gradients (a 1000× larger gradient, 1000× the rtol room)
    big = {"w": np.full(3, 1000.0)}
    room = V.GRAD_ATOL + V.GRAD_RTOL * 1000.0
    assert V._compare_grads(big, {"w": big["w"] + room * 0.99})[2]
    assert not V._compare_grads(big, {"w": big["w"] + room * 1.01})[2]
    assert room * 0.99 > V.GRAD_ATOL + V.GRAD_RTOL  # more than a unit-scale weight would be allowed


@pytest.mark.parametrize("variant", ["gru", "lstm", "rnn"])
def test_adam_step_matches_keras_with_keras_update_only(variant: str) -> None:
    cfg = V.VerifyConfig()
    assert cfg.adam_update == "keras"
    row = V.verify_adam(variant, cfg)
    assert row.check == ADAM and row.passed, row
    # PyTorch's own Adam adds epsilon after bias correction: with the same epsilon the updates differ
    own = V.verify_adam(variant, dataclasses.replace(cfg, adam_update="framework"))
    assert not own.passed and own.max_rel_grad_diff > 10 * V.UPDATE_RTOL, own


@pytest.mark.parametrize("variant", ["gru", "lstm"])
def test_rmsprop_step_matches_keras_with_keras_update_only(variant: str) -> None:
    cfg = V.VerifyConfig()
    row = V.verify_adam(variant, cfg, "rmsprop")
    assert row.check == RMSPROP and row.passed, row
    # PyTorch's own RMSprop (alpha 0.99, epsilon outside the square root) is another step
    own = V.verify_adam(variant, dataclasses.replace(cfg, adam_update="framework"), "rmsprop")
    assert not own.passed and own.max_rel_grad_diff > 10 * V.UPDATE_RTOL, own


def test_mapping_round_trips() -> None:
    rng = np.random.RandomState(0)
    h, i = 3, 2
    for arch, g in (("gru", 3), ("lstm", 4), ("rnn", 1)):
        w_ih, w_hh = rng.randn(g * h, i), rng.randn(g * h, h)
        b_ih, b_hh = rng.randn(g * h), rng.randn(g * h)
        k, rk, b = V.torch_to_keras_cell(w_ih, w_hh, b_ih, b_hh, arch, reset_after=True)
        assert k.shape == (i, g * h) and rk.shape == (h, g * h)
        back = V.keras_to_torch_cell(k, rk, b, arch)
        assert np.allclose(back[0], w_ih) and np.allclose(back[1], w_hh)
        if arch == "gru":  # (2, 3h) bias: both vectors survive
            assert b.shape == (2, 3 * h) and np.allclose(back[2], b_ih) and np.allclose(back[3], b_hh)
            # Keras z block = PyTorch's second (z) block
            assert np.allclose(k[:, :h], w_ih[h:2 * h].T)
        else:  # one bias: the sum goes to b_ih, b_hh is zero
            assert np.allclose(back[2], b_ih + b_hh) and not back[3].any()
            assert np.allclose(V.keras_to_torch_cell(k, rk, b, arch, for_grad=True)[3], b)  # grads: both


def test_table_renders() -> None:
    rows = [V.VerifyRow("gru x1", "torch→keras", "fused/fused", 3e-8, 6e-8, 3e-7, True, "head.bias"),
            V.VerifyRow("gru x1", "keras→torch", "fused/fused", 2e-3, 6e-8, 3e-7, False, "head.bias")]
    buf = io.StringIO()
    Console(file=buf, width=160, color_system=None).print(V.render_table(rows))
    text = buf.getvalue()
    assert "torch→keras" in text and "3.0e-08" in text and "✗" in text and "1 failed" in text


def _app() -> typer.Typer:
    from rnnbench.cli.verify import register

    app = typer.Typer()

    @app.callback()
    def main() -> None:  # a group, so "verify" is a subcommand as in rnnbench's CLI
        pass

    register(app)
    return app


def test_cli_quick_prints_and_exits_0() -> None:
    res = CliRunner().invoke(_app(), ["verify", "--quick", "--arch", "rnn"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())  # the console wraps at 80 columns here
    assert "torch→keras" in text and "0 of 10 checks failed" in text  # 2 cases × 4 checks + the Adam and RMSprop steps


def test_cli_exits_1_on_a_failed_check(monkeypatch: pytest.MonkeyPatch) -> None:
    bad = V.VerifyRow("lstm x1", "torch→keras", "fused/fused", 1.0, 1.0, 1.0, False, "head.bias")
    monkeypatch.setattr(V, "run_verify", lambda cfg: [bad])
    res = CliRunner().invoke(_app(), ["verify", "--arch", "lstm"])
    assert res.exit_code == 1 and "1 of 1 checks failed" in " ".join(res.output.split())


def test_unknown_arch_is_a_user_error() -> None:
    from rnnbench.errors import UserError

    with pytest.raises(UserError):
        V.config_for(["tcn"])
    assert V.config_for(["gru"]).variants == ("gru", "gru-before")


def test_torch_cell_dropout_sits_between_layers_in_training_only() -> None:
    import torch

    from rnnbench.backends.torch_cells import ExplicitRNN
    from rnnbench.suite import CellSettings

    s = CellSettings(arch="lstm", impl="cell", layers=2, dropout=0.5, units=4, embedding_dim=3)
    cell = ExplicitRNN(s)
    fused = torch.nn.LSTM(3, 4, num_layers=2, batch_first=True, dropout=0.5)
    cell.load_state_dict(fused.state_dict())  # same names and shapes
    x = torch.randn(2, 5, 3)
    cell.eval()
    fused.eval()
    with torch.no_grad():
        out_c, (h_c, c_c) = cell(x)
        out_f, (h_f, c_f) = fused(x)
        assert out_c.shape == out_f.shape and h_c.shape == h_f.shape == (2, 2, 4)
        assert torch.allclose(out_c, out_f, atol=1e-6) and torch.allclose(c_c, c_f, atol=1e-6)
        cell.train()
        torch.manual_seed(0)
        assert not torch.allclose(cell(x)[0], out_c)  # dropout between the two layers
    assert ExplicitRNN(s.model_copy(update={"layers": 1})).dropout == 0.0  # as nn.LSTM: none after the last


def test_the_device_check_compares_pytorch_on_two_devices_and_catches_a_difference(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``verify --device cuda``'s comparison, run here with the CPU on both sides: identical
    weights agree exactly; weights nudged on one side (as a wrong copy to the GPU would) fail."""
    from rnnbench import verify

    cfg = verify.VerifyConfig()
    rows = verify.verify_device_case("gru", True, 2, cfg, "cpu")
    assert [r.impl for r in rows] == ["fused/fused", "cell/cell"] and all(r.passed for r in rows)
    assert all(r.max_abs_out_diff == 0.0 for r in rows)
    assert [r.impl for r in verify.verify_device_case("gru-before", False, 1, cfg, "cpu")] == ["cell/cell"]
    load = verify._TorchSide.load
    monkeypatch.setattr(verify._TorchSide, "load",
                        lambda self, arrays: load(self, {k: v + 1e-3 for k, v in arrays.items()}))
    assert not any(r.passed for r in verify.verify_device_case("lstm", False, 1, cfg, "cpu"))
