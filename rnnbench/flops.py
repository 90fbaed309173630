"""Floating-point work of one training step, from a cell's settings alone.

Counted: the multiply-adds of the matrix products, 2 FLOPs each (one multiply, one add).
For a batch of ``B`` sequences of ``T`` steps, ``h`` units, layer input width ``i``:

* **embedding lookup**: a gather, ~0 FLOPs.
* **recurrent layer**, per timestep, per layer, per direction, per sample — the input and
  the recurrent product of every gate::

      GRU        2 · 3h · (i + h)     (3 gates: reset, update, candidate)
      LSTM       2 · 4h · (i + h)     (4 gates: input, forget, cell, output)
      SimpleRNN  2 ·  h · (i + h)

  ``i`` is ``embedding_dim`` for the first layer and ``h · directions`` above it.
  GRU's ``gru_reset`` does not change the count: reset-after (PyTorch, cuDNN, Keras
  ``reset_after=True``) multiplies ``r ⊙ (W_hn·h + b_hn)`` after the same product that
  reset-before computes as ``W_hn·(r ⊙ h)``; its extras (one more bias add and the ``r ⊙``
  product, ~2h per timestep) are elementwise work, like the gate nonlinearities.
* **head**: a dense layer from the last hidden state (``d = h · directions``) to one
  logit: ``2 · d`` per sample.
* **training step** ≈ 3 × forward: the backward pass computes two products per forward
  product (gradient with respect to the input and to the weights).

Not counted (each well under 1 % at i = h = 128): elementwise gate math (sigmoid, tanh,
the ⊙ products, bias adds: O(h) per timestep against O(h(i+h))), the loss, and Adam's
update (~10 FLOPs per parameter per step: ~26 MFLOP for the 2.6 M parameters of the IMDB
model, memory-bound). The result is a lower bound on the arithmetic actually done and the
same convention as the figures in ``shared/design/measured-facts.md``: at vocabulary
20,000, maxlen 200, embedding 128, 128 units, batch 64 it gives GRU 7.55 G, LSTM 10.07 G,
SimpleRNN 2.52 G per training step (tests/test_flops.py checks this).

The ``fake`` backend (a numpy logistic regression standing in for a model) does none of
this work: :func:`train_flops_per_step` returns ``None`` for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

GATES = {"gru": 3, "lstm": 4, "rnn": 1}
TRAIN_FACTOR = 3.0  # forward + backward (two products per forward product)


def recurrent_flops_per_timestep(arch: str, inputs: int, units: int) -> float:
    """Forward FLOPs of one layer, one direction, one timestep, one sample."""
    return 2.0 * GATES[arch] * units * (inputs + units)


def forward_flops_per_sample(
    arch: str,
    *,
    units: int = 128,
    layers: int = 1,
    bidirectional: bool = False,
    embedding_dim: int = 128,
    maxlen: int = 200,
) -> float:
    """Forward FLOPs for one sequence: every layer, direction and timestep, plus the head."""
    if arch not in GATES:
        raise ValueError(f"unknown architecture {arch!r}; expected one of {', '.join(GATES)}")
    dirs = 2 if bidirectional else 1
    total = 0.0
    inputs = embedding_dim
    for _ in range(layers):
        total += dirs * maxlen * recurrent_flops_per_timestep(arch, inputs, units)
        inputs = units * dirs
    total += 2.0 * units * dirs  # head: d → 1
    return total


def train_flops_per_step(settings: Mapping[str, Any] | Any) -> float | None:
    """Training FLOPs of one step (one batch) for a cell's settings (a dict or CellSettings).

    ``None`` when the settings describe no recurrent network (the ``fake`` backend) or lack
    a needed field.
    """
    s = settings.model_dump() if hasattr(settings, "model_dump") else dict(settings)
    if s.get("backend") == "fake" or s.get("arch") not in GATES:
        return None
    try:
        fwd = forward_flops_per_sample(
            s["arch"],
            units=int(s.get("units", 128)),
            layers=int(s.get("layers", 1)),
            bidirectional=bool(s.get("bidirectional", False)),
            embedding_dim=int(s.get("embedding_dim", 128)),
            maxlen=int(s.get("maxlen", 200)),
        )
        return TRAIN_FACTOR * fwd * int(s.get("batch_size", 64))
    except (TypeError, ValueError):
        return None


def achieved_gflops(flops_per_step: float | None, step_s: float | None) -> float | None:
    """GFLOP/s reached: FLOPs per step over the steady step time."""
    if not flops_per_step or not step_s or step_s <= 0:
        return None
    return flops_per_step / step_s / 1e9
