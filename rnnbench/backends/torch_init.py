"""Weight initialization schemes for the PyTorch model (``init`` setting).

``init = "torch"`` (and ``"framework"``) keep PyTorch's own defaults: every recurrent
weight and bias U(±1/√units), ``nn.Embedding`` N(0, 1), ``nn.Linear`` kaiming-uniform
(a = √5) ≈ U(±1/√fan_in) for the weight and U(±1/√fan_in) for the bias.

``init = "keras"`` gives the PyTorch model Keras 3's defaults (checked against
``keras/src/layers/rnn/{gru,lstm,simple_rnn}.py`` and ``initializers``):

* input kernels: Glorot-uniform, limit √(6 / (fan_in + fan_out)) with Keras's kernel shape
  (input, gates·units) → fan_in = input, fan_out = gates·units. ``nn.init.xavier_uniform_``
  on PyTorch's (gates·units, input) ``weight_ih`` uses the same two fans.
* recurrent kernels: ``Orthogonal`` applied to the WHOLE (units, gates·units) matrix, not
  per gate block: its rows are orthonormal, each (units, units) gate block on its own is
  not orthogonal (for GRU/LSTM). ``nn.init.orthogonal_`` on the whole (gates·units, units)
  ``weight_hh`` (orthonormal columns) is the same distribution: a transpose and a
  permutation of gate blocks, which an orthogonal (Haar) matrix is invariant to.
* biases zero; LSTM: Keras's ``unit_forget_bias=True`` puts 1 in the forget-gate block of
  its single bias. PyTorch adds two bias vectors (b_ih + b_hh), so the 1 goes into
  ``bias_ih``'s forget block (rows units…2·units of the (i, f, g, o) order) and ``bias_hh``
  stays zero: the effective forget bias is 1, as in Keras (not 2).
* ``Embedding``: Keras's ``"uniform"`` = U(−0.05, 0.05).
* head ``Dense``: Glorot-uniform kernel, zero bias.

Randomness comes from torch's global generator (seeded by the backend).
"""

from __future__ import annotations

import torch
from torch import nn

SCHEMES = ("framework", "torch", "keras")


@torch.no_grad()
def init_recurrent_keras(rnn: nn.Module, arch: str, hidden_size: int) -> None:
    """Keras's defaults on an ``nn.GRU/LSTM/RNN`` or :class:`ExplicitRNN` (same names)."""
    for name, p in rnn.named_parameters():
        if name.startswith("weight_ih"):
            nn.init.xavier_uniform_(p)
        elif name.startswith("weight_hh"):
            nn.init.orthogonal_(p)
        elif name.startswith("bias_ih"):
            p.zero_()
            if arch == "lstm":
                p[hidden_size : 2 * hidden_size] = 1.0  # forget gate (i, f, g, o)
        elif name.startswith("bias_hh"):
            p.zero_()
        else:  # pragma: no cover - a layer with parameters we do not know
            raise ValueError(f"unknown recurrent parameter {name!r}")


@torch.no_grad()
def apply_init(model: nn.Module, scheme: str) -> None:
    """Re-initialize a :class:`~rnnbench.backends.torch_backend.TorchRNNClassifier` in place."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown init scheme {scheme!r}; expected one of {', '.join(SCHEMES)}")
    if scheme in ("framework", "torch"):
        return  # PyTorch's own defaults, already applied at construction
    embedding: nn.Embedding = model.embedding  # type: ignore[assignment]
    head: nn.Linear = model.head  # type: ignore[assignment]
    rnn: nn.Module = model.recurrent  # type: ignore[assignment]
    nn.init.uniform_(embedding.weight, -0.05, 0.05)
    init_recurrent_keras(rnn, model.arch, rnn.hidden_size)  # type: ignore[arg-type]
    nn.init.xavier_uniform_(head.weight)
    nn.init.zeros_(head.bias)
