"""GRU, LSTM and SimpleRNN as architectures: each framework's own layer (or rnnbench's explicit
cell with ``impl = "cell"``), stacked ``layers`` deep and optionally bidirectional.

They go through the same interface as any plugin for what they are (names, checks, parameter
formulas, FLOPs); their layers are the backends' own (``classic_layer`` in
:mod:`rnnbench.backends.torch_backend`, ``classic_stack`` in :mod:`rnnbench.backends.keras_backend`,
with the explicit cells and init schemes beside them), which build them directly: so the
architectures never import a backend, and imports run one way (backends → architectures).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rnnbench.architectures.base import Architecture

if TYPE_CHECKING:
    from rnnbench.suite import CellSettings


class Classic(Architecture):
    """A built-in gated (or Elman) recurrent layer; ``arch`` is its short name."""

    arch = ""
    frameworks = ("torch", "keras")

    def recurrent_params(self, settings: "CellSettings", framework: str) -> int | None:
        from rnnbench.models import expected_params

        return expected_params(settings, 1, framework)["recurrent"]

    def forward_flops_per_timestep(self, settings: "CellSettings") -> float | None:
        from rnnbench.flops import forward_flops_per_sample

        s = settings
        per_seq = forward_flops_per_sample(s.arch, units=s.units, layers=s.layers, bidirectional=s.bidirectional,
                                           embedding_dim=s.embedding_dim, maxlen=1)
        return per_seq - 2.0 * s.units * (2 if s.bidirectional else 1)  # less the head

    def kernel(self, settings: "CellSettings", framework: str) -> str:
        return "built-in (see the backend's kernel facts)"


class GRU(Classic):
    arch, label = "gru", "GRU"


class LSTM(Classic):
    arch, label = "lstm", "LSTM"


class SimpleRNN(Classic):
    arch, label = "rnn", "SimpleRNN"
