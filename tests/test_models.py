"""Parameter-count formulas against the models the frameworks really build, and the notes."""

from __future__ import annotations

import itertools

import pytest
from helpers import require_module

from rnnbench.models import expected_params, framework_of, parity_notes
from rnnbench.suite import CellSettings

VOCAB = 37
VARIANTS = [("gru", "after"), ("gru", "before"), ("lstm", "after"), ("rnn", "after")]
SHAPES = list(itertools.product((False, True), (1, 2)))


def _settings(arch: str, reset: str, bidirectional: bool, layers: int, impl: str, backend: str,
              **kw: object) -> CellSettings:
    return CellSettings(arch=arch, gru_reset=reset, bidirectional=bidirectional, layers=layers, impl=impl,
                        backend=backend, units=kw.pop("units", 5), embedding_dim=kw.pop("embedding_dim", 4),
                        **kw)


def test_measured_facts_recurrent_counts() -> None:
    """measured-facts.md: at embedding 128 / 128 units, one layer, the recurrent parts are
    LSTM 132,096 (PyTorch) vs 131,584 (Keras), SimpleRNN 33,024 vs 32,896, GRU equal."""
    def rec(arch: str, fw: str) -> int:
        s = CellSettings(arch=arch, units=128, embedding_dim=128)
        return expected_params(s, 20000, fw)["recurrent"]

    assert (rec("lstm", "torch"), rec("lstm", "keras")) == (132_096, 131_584)
    assert (rec("rnn", "torch"), rec("rnn", "keras")) == (33_024, 32_896)
    assert rec("gru", "torch") == rec("gru", "keras") == 3 * (128 * 128 + 128 * 128) + 6 * 128
    s = CellSettings(arch="gru", units=128, embedding_dim=128, gru_reset="before")
    assert expected_params(s, 20000, "keras")["recurrent"] == 3 * (128 * 256) + 3 * 128
    full = expected_params(CellSettings(arch="lstm"), 20000, "keras-jax")
    assert full == {"embedding": 2_560_000, "recurrent": 131_584, "head": 129, "total": 2_691_713}


def test_framework_names() -> None:
    assert framework_of("keras-tensorflow") == "keras" and framework_of("torch") == "torch"
    with pytest.raises(ValueError):
        framework_of("fake")


@pytest.mark.parametrize("arch,reset", VARIANTS)
def test_torch_models_match_formula(arch: str, reset: str) -> None:
    require_module("torch")
    from rnnbench.backends.torch_backend import TorchBackend

    for (bidirectional, layers), impl in itertools.product(SHAPES, ("fused", "cell")):
        if arch == "gru" and reset == "before" and impl == "fused":
            continue  # nn.GRU has no reset-before
        s = _settings(arch, reset, bidirectional, layers, impl, "torch", threads=1)
        b = TorchBackend(s)
        b.build(VOCAB)
        assert b.param_counts() == expected_params(s, VOCAB, "torch"), (arch, reset, bidirectional, layers, impl)


@pytest.mark.parametrize("arch,reset", VARIANTS)
def test_keras_models_match_formula(arch: str, reset: str) -> None:
    require_module("keras")
    require_module("tensorflow")
    from rnnbench.backends.keras_backend import build_model

    for (bidirectional, layers), impl in itertools.product(SHAPES, ("fused", "cell")):
        s = _settings(arch, reset, bidirectional, layers, impl, "keras-tensorflow")
        m = build_model(s, VOCAB)
        counts = {
            "embedding": m.get_layer("embedding").count_params(),
            "recurrent": sum(m.get_layer(f"rnn_{i}").count_params() for i in range(layers)),
            "head": m.get_layer("head").count_params(),
            "total": m.count_params(),
        }
        assert counts == expected_params(s, VOCAB, "keras"), (arch, reset, bidirectional, layers, impl)


def test_parity_notes_explain_the_differences() -> None:
    s = CellSettings(units=128, embedding_dim=128)
    lstm = " ".join(parity_notes("lstm", s))
    assert "second bias vector b_hh" in lstm and "+512 here" in lstm and "132,096 vs 131,584" in lstm
    rnn = " ".join(parity_notes("rnn", s))
    assert "+128 here" in rnn and "33,024 vs 32,896" in rnn
    gru = " ".join(parity_notes("gru", s))
    assert "equal parameter counts" in gru and "(z, r, h)" in gru
    before = " ".join(parity_notes("gru", s.model_copy(update={"gru_reset": "before"})))
    assert "+384 here" in before and 'impl = "cell"' in before
    bi2 = " ".join(parity_notes("lstm", CellSettings(units=10, layers=2, bidirectional=True)))
    assert "+160 here" in bi2  # 4h × 2 layers × 2 directions
    assert any("epsilon" in n for n in parity_notes("gru", s))
    assert not any("epsilon" in n for n in parity_notes("gru", s.model_copy(update={"adam_epsilon": 1e-8})))
    assert any("Initialization differs" in n for n in parity_notes("gru", s))
