"""The model every backend builds, as formulas: parameter counts and how the frameworks differ.

Embedding(vocab, e) → ``layers`` recurrent layers of ``h`` units (× 2 directions when
bidirectional, concatenated) → Dense(1). Per layer and direction, with input width ``i``
(``e`` for the first layer, ``h · directions`` after) and G gates (GRU 3, LSTM 4,
SimpleRNN 1):

==========================  ====================================  ==========================
                            PyTorch                               Keras 3
==========================  ====================================  ==========================
GRU, reset after            3(h·i + h·h) + 6h  (b_ih, b_hh)       3(h·i + h·h) + 6h  (bias (2, 3h))
GRU, reset before           3(h·i + h·h) + 6h  (rnnbench's cell)  3(h·i + h·h) + 3h  (bias (3h,))
LSTM                        4(h·i + h·h) + 8h                     4(h·i + h·h) + 4h
SimpleRNN                   (h·i + h·h) + 2h                      (h·i + h·h) + h
==========================  ====================================  ==========================

Embedding ``vocab · e`` and head ``h · directions + 1`` are the same in both. No framework
is imported here.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rnnbench.suite import CellSettings

GATES = {"gru": 3, "lstm": 4, "rnn": 1}
ARCH_NAMES = {"gru": "GRU", "lstm": "LSTM", "rnn": "SimpleRNN"}
FRAMEWORKS = ("torch", "keras")


def framework_of(name: str) -> str:
    """``torch`` / ``keras`` from a framework or backend name (``keras-jax`` → ``keras``)."""
    if name == "torch":
        return "torch"
    if name == "keras" or name.startswith("keras-"):
        return "keras"
    raise ValueError(f"unknown framework {name!r}; expected torch, keras or a keras-* backend")


def recurrent_params_per_direction(arch: str, input_size: int, units: int, framework: str,
                                   reset_after: bool = True) -> int:
    """Weights and biases of one recurrent layer in one direction."""
    framework = framework_of(framework)
    g = GATES[arch]
    weights = g * units * (input_size + units)
    if framework == "torch":
        return weights + 2 * g * units  # b_ih and b_hh
    if arch == "gru" and reset_after:
        return weights + 2 * g * units  # bias (2, 3h): input and recurrent rows
    return weights + g * units  # one bias


def expected_params(settings: "CellSettings", vocab_size: int, framework: str) -> dict[str, int]:
    """``{"embedding", "recurrent", "head", "total"}`` that ``framework`` ("torch" or
    "keras", or a backend name) will count for ``settings``' model."""
    s = settings
    dirs = 2 if s.bidirectional else 1
    embedding = vocab_size * s.embedding_dim
    recurrent = 0
    for layer in range(s.layers):
        input_size = s.embedding_dim if layer == 0 else s.units * dirs
        recurrent += dirs * recurrent_params_per_direction(
            s.arch, input_size, s.units, framework, reset_after=s.gru_reset == "after"
        )
    head = s.units * dirs + 1
    return {"embedding": embedding, "recurrent": recurrent, "head": head,
            "total": embedding + recurrent + head}


def _n(x: int) -> str:
    return f"{x:,}"


def parity_notes(arch: str, settings: "CellSettings", vocab_size: int | None = None) -> list[str]:
    """How the PyTorch and Keras versions of ``settings``' model (with ``arch``) differ, in words."""
    s = settings.model_copy(update={"arch": arch}) if arch != settings.arch else settings
    h = s.units
    dirs = 2 if s.bidirectional else 1
    per = s.layers * dirs
    where = f"{s.layers} layer{'s' if s.layers > 1 else ''} × {dirs} direction{'s' if dirs > 1 else ''}"
    vocab = vocab_size if vocab_size is not None else s.num_words
    torch_p = expected_params(s, vocab, "torch")["recurrent"]
    keras_p = expected_params(s, vocab, "keras")["recurrent"]
    name = ARCH_NAMES[arch]
    notes: list[str] = []
    if arch == "gru" and s.gru_reset == "after":
        notes.append(
            f"GRU: equal parameter counts ({_n(torch_p)} recurrent): Keras's reset_after=True bias is "
            f"(2, 3h) = PyTorch's b_ih and b_hh; both are needed since b_hn sits inside r ⊙ (W_hn h + b_hn)."
        )
        notes.append("GRU gate order: PyTorch (r, z, n), Keras (z, r, h); weights are stored transposed.")
    elif arch == "gru":
        notes.append(
            f"GRU reset-before: Keras (reset_after=False) has one bias of 3h; rnnbench's PyTorch cell keeps "
            f"b_ih and b_hh: +3h per layer and direction = +{_n(3 * h * per)} here ({where}; "
            f"{_n(torch_p)} vs {_n(keras_p)} recurrent). The pair is redundant (only b_ih + b_hh enters), "
            "so the functions are the same."
        )
        notes.append('PyTorch\'s fused nn.GRU applies the reset gate after the matmul only: reset-before '
                     'runs as impl = "cell" on PyTorch.')
    elif arch == "lstm":
        notes.append(
            f"PyTorch's LSTM carries a second bias vector b_hh: +4h per layer and direction = "
            f"+{_n(4 * h * per)} here ({where}; {_n(torch_p)} vs {_n(keras_p)} recurrent). Only b_ih + b_hh "
            "enters the equations, so the functions are the same."
        )
        notes.append("LSTM gate order is the same: PyTorch (i, f, g, o) = Keras (i, f, c, o); weights transposed.")
    else:
        notes.append(
            f"PyTorch's RNN carries a second bias vector b_hh: +h per layer and direction = "
            f"+{_n(h * per)} here ({where}; {_n(torch_p)} vs {_n(keras_p)} recurrent). Only b_ih + b_hh "
            "enters the equations, so the functions are the same."
        )
    if s.adam_epsilon is None:
        notes.append("Adam epsilon differs: Keras 1e-7, PyTorch 1e-8 (set adam_epsilon to use one value).")
    if s.init == "framework":
        k = 1.0 / math.sqrt(h)
        forget = ", forget-gate bias 1" if arch == "lstm" else ""
        notes.append(
            "Initialization differs: Keras uses Glorot-uniform kernels, an orthogonal recurrent kernel, zero "
            f"biases{forget} and Embedding U(±0.05); PyTorch U(±1/√h) = U(±{k:.3f}) for every recurrent "
            'weight and bias and Embedding N(0, 1) (set init = "keras" or "torch" to use one scheme).'
        )
    if s.recurrent_dropout > 0:
        notes.append(f"recurrent_dropout = {s.recurrent_dropout} exists only in Keras (PyTorch's layers have none).")
    if s.dropout > 0:
        notes.append(f"dropout = {s.dropout} sits after each recurrent layer in both (between layers and "
                     "before the head).")
    return notes
