"""Weight initialization schemes for the Keras model (``init`` setting).

``init = "keras"`` (and ``"framework"``) keep Keras's defaults (Glorot-uniform kernels,
orthogonal recurrent kernels, zero biases with LSTM forget bias 1, Embedding U(±0.05),
Dense Glorot-uniform / zero). ``init = "torch"`` gives the Keras model PyTorch's defaults:

* every recurrent weight U(±1/√units) — kernels and recurrent kernels;
* biases: PyTorch has two vectors per layer, b_ih and b_hh, each U(±1/√units). Keras's
  GRU with ``reset_after=True`` keeps both (its (2, 3·units) bias: row 0 = b_ih, row 1 =
  b_hh), drawn the same way. Where Keras has one bias (LSTM, SimpleRNN, GRU reset-before)
  the equations only see b_ih + b_hh, so that single bias is drawn as the sum of two
  U(±1/√units) draws (a triangular distribution on ±2/√units), not one uniform;
* Embedding N(0, 1);
* head Dense: PyTorch ``nn.Linear``'s kaiming-uniform(a = √5) = U(±1/√fan_in) for the
  kernel and U(±1/√fan_in) for the bias.

Values are drawn with numpy from ``seed`` and assigned after the model is built, so the
scheme works identically on every Keras backend.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

SCHEMES = ("framework", "keras", "torch")


def apply_torch_init(
    embedding: Any, cells: Iterable[Any], head: Any, units: int, seed: int
) -> None:
    """PyTorch's defaults on a built Keras model's embedding, recurrent cells and head."""
    rng = np.random.RandomState(seed + 1_000_003)
    k = 1.0 / math.sqrt(units)

    def uni(shape: tuple[int, ...], bound: float) -> np.ndarray:
        return rng.uniform(-bound, bound, size=shape).astype("float32")

    emb = embedding.embeddings
    emb.assign(rng.standard_normal(tuple(emb.shape)).astype("float32"))
    for cell in cells:
        cell.kernel.assign(uni(tuple(cell.kernel.shape), k))
        cell.recurrent_kernel.assign(uni(tuple(cell.recurrent_kernel.shape), k))
        bias = cell.bias
        shape = tuple(bias.shape)
        if len(shape) == 2:  # GRU reset_after: [b_ih; b_hh]
            bias.assign(uni(shape, k))
        else:  # one bias standing for b_ih + b_hh
            bias.assign(uni(shape, k) + uni(shape, k))
    fan_in = int(head.kernel.shape[0])
    bound = 1.0 / math.sqrt(fan_in)
    head.kernel.assign(uni(tuple(head.kernel.shape), bound))
    head.bias.assign(uni(tuple(head.bias.shape), bound))
