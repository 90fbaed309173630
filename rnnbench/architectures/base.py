"""The plugin interface: what an architecture supplies, and what rnnbench builds around it.

An architecture is the recurrent part of the model only. rnnbench builds the rest the same
way for every architecture — the embedding before it, dropout and the one-logit head after
it, the loss, the optimizer, the data and the timing protocol — so a plugin cell is measured
exactly as the built-in GRU is.

The contract, per framework the architecture supports (``frameworks``):

* ``torch_layer(settings)`` → a ``torch.nn.Module`` that maps the embedded batch
  ``[batch, time, settings.embedding_dim]`` (float32) to features ``[batch, features(settings)]``
  (for a recurrent layer: its final state);
* ``keras_layer(settings)`` → a Keras 3 layer with the same mapping.

Everything else is optional and makes the records and checks richer:

* ``check(settings)`` raises ``ValueError`` for settings it does not support (say
  ``bidirectional``); the cell is then a recorded failure with that message;
* ``recurrent_params(settings, framework)``: the parameter count it expects, recorded beside
  the count the framework reports (a mismatch is recorded, not hidden);
* ``forward_flops_per_timestep(settings)``: forward FLOPs per sample and time step over all
  layers and directions; the record gets training FLOPs per step (×3 for the backward pass)
  and the report GFLOP/s;
* ``torch_sequential(settings)`` / ``keras_sequential(settings)``: a layer with the same
  weights that computes the same function step by step (the definition), checked against the
  trained layer by ``rnnbench verify``;
* ``torch_to_keras(state, settings)``: the torch layer's ``state_dict`` (numpy arrays) as the
  Keras layer's ``get_weights()`` list; with it ``verify`` checks the two frameworks agree
  (it maps the gradients with the same function, so it must rearrange — transpose, reorder,
  split — and not add tensors together);
* on the layer itself, ``step(x_t, state)`` → ``(features, state)`` for one token ``[batch,
  embedding_dim]``, and ``init_state(batch, device)`` (PyTorch) or ``init_state(batch)`` (Keras)
  → the state before the first token: with them ``task = "infer"`` streams one token at a time
  with the state carried (the built-ins stream through their fused layers without them; see
  :mod:`rnnbench.architectures.minimal_torch` for an example).

A plugin is named in a suite as ``arch = "package.module:Name"`` (``Name`` an
:class:`Architecture` subclass or instance), or by a short name registered in the
``rnnbench.architectures`` entry-point group of its distribution::

    [project.entry-points."rnnbench.architectures"]
    mycell = "mypackage.cells:MyCell"

No framework is imported here: a plugin imports torch or keras inside its ``*_layer`` methods.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from rnnbench.suite import CellSettings


class Architecture:
    """Base class of every architecture, the built-in ones included (see the module docstring)."""

    name: str = ""  # filled in by the registry: the name the suite used
    label: str = ""  # shown in tables; the registry defaults it to the name
    frameworks: tuple[str, ...] = ()  # "torch", "keras"

    def check(self, settings: "CellSettings") -> None:
        """Raise ValueError when ``settings`` ask for something this architecture does not do."""

    def features(self, settings: "CellSettings") -> int:
        """Width of the features handed to the head."""
        return settings.units * (2 if settings.bidirectional else 1)

    def torch_layer(self, settings: "CellSettings") -> Any:
        raise NotImplementedError(f"{self.label or type(self).__name__} has no PyTorch layer")

    def keras_layer(self, settings: "CellSettings") -> Any:
        raise NotImplementedError(f"{self.label or type(self).__name__} has no Keras layer")

    def torch_sequential(self, settings: "CellSettings") -> Any:
        return None

    def keras_sequential(self, settings: "CellSettings") -> Any:
        return None

    def torch_to_keras(self, state: dict[str, "np.ndarray"], settings: "CellSettings") -> list["np.ndarray"] | None:
        return None

    def recurrent_params(self, settings: "CellSettings", framework: str) -> int | None:
        return None

    def forward_flops_per_timestep(self, settings: "CellSettings") -> float | None:
        return None

    def kernel(self, settings: "CellSettings", framework: str) -> str:
        """What runs, in words, for the record."""
        return f"plugin layer {self.label} ({type(self).__module__}.{type(self).__qualname__})"

    def supports(self, framework: str) -> bool:
        return framework in self.frameworks
