"""Explicit recurrent cells for PyTorch, written step by step from the gate equations.

:class:`ExplicitRNN` is a drop-in for ``nn.GRU`` / ``nn.LSTM`` / ``nn.RNN`` with
``batch_first=True``: same call signature, same return value (``(output, h_n)``, or
``(output, (h_n, c_n))`` for LSTM, ``h_n`` shaped ``[layers * directions, batch, units]``)
and the same parameter names and shapes (``weight_ih_l0``, ``weight_hh_l0``,
``bias_ih_l0``, ``bias_hh_l0``, ``…_reverse``), so a ``state_dict`` copies 1:1 between the
fused layer and this one. Gate order is PyTorch's: GRU (r, z, n), LSTM (i, f, g, o).

Equations (x: the step's input, h: the previous state; W_i· x + b_i· and W_h· h + b_h·):

* GRU, reset after (PyTorch / cuDNN / Keras ``reset_after=True``)::

      r = σ(W_ir x + b_ir + W_hr h + b_hr)
      z = σ(W_iz x + b_iz + W_hz h + b_hz)
      n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
      h' = z ⊙ h + (1 − z) ⊙ n

* GRU, reset before (Cho et al. 2014, Keras ``reset_after=False``)::

      n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn)

* LSTM::

      i, f, g, o = σ(·), σ(·), tanh(·), σ(·)   of W_i· x + b_i· + W_h· h + b_h·
      c' = f ⊙ c + i ⊙ g;  h' = o ⊙ tanh(c')

* SimpleRNN (Elman, tanh): ``h' = tanh(W_ih x + b_ih + W_hh h + b_hh)``.

The input projections of all time steps are one matmul per layer and direction (as cuDNN
and Keras's fast paths do); only the recurrent matmul runs inside the Python time loop.
Dropout between stacked layers (``settings.dropout``) is applied to every layer's output
but the last, in training mode only, exactly where ``nn.GRU(dropout=…)`` applies it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
from torch import nn
from torch.nn import functional as F

if TYPE_CHECKING:
    from rnnbench.suite import CellSettings

GATES = {"gru": 3, "lstm": 4, "rnn": 1}


class ExplicitRNN(nn.Module):
    """A GRU / LSTM / SimpleRNN stack, batch first, written from the equations."""

    def __init__(
        self,
        settings: "CellSettings | None" = None,
        *,
        arch: str | None = None,
        input_size: int | None = None,
        hidden_size: int | None = None,
        num_layers: int | None = None,
        bidirectional: bool | None = None,
        dropout: float | None = None,
        reset_after: bool | None = None,
    ) -> None:
        super().__init__()
        s = settings
        self.arch = arch if arch is not None else s.arch  # type: ignore[union-attr]
        if self.arch not in GATES:
            raise ValueError(f"unknown arch {self.arch!r}; expected one of {', '.join(GATES)}")
        self.input_size = input_size if input_size is not None else s.embedding_dim  # type: ignore[union-attr]
        self.hidden_size = hidden_size if hidden_size is not None else s.units  # type: ignore[union-attr]
        self.num_layers = num_layers if num_layers is not None else s.layers  # type: ignore[union-attr]
        self.bidirectional = bidirectional if bidirectional is not None else s.bidirectional  # type: ignore[union-attr]
        if dropout is None:
            dropout = s.dropout if self.num_layers > 1 else 0.0  # type: ignore[union-attr]
        self.dropout = float(dropout)
        if reset_after is None:
            reset_after = (s.gru_reset == "after") if s is not None else True
        self.reset_after = bool(reset_after)
        self.batch_first = True
        self.num_directions = 2 if self.bidirectional else 1
        g, h = GATES[self.arch], self.hidden_size
        for layer in range(self.num_layers):
            in_size = self.input_size if layer == 0 else h * self.num_directions
            for sfx in self._suffixes():
                self.register_parameter(f"weight_ih_l{layer}{sfx}", nn.Parameter(torch.empty(g * h, in_size)))
                self.register_parameter(f"weight_hh_l{layer}{sfx}", nn.Parameter(torch.empty(g * h, h)))
                self.register_parameter(f"bias_ih_l{layer}{sfx}", nn.Parameter(torch.empty(g * h)))
                self.register_parameter(f"bias_hh_l{layer}{sfx}", nn.Parameter(torch.empty(g * h)))
        self.reset_parameters()

    def _suffixes(self) -> tuple[str, ...]:
        return ("", "_reverse") if self.bidirectional else ("",)

    def reset_parameters(self) -> None:
        """PyTorch's default for its recurrent layers: every weight and bias U(±1/√units)."""
        k = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -k, k)

    def extra_repr(self) -> str:
        s = f"{self.arch}, {self.input_size}, {self.hidden_size}, num_layers={self.num_layers}"
        if self.bidirectional:
            s += ", bidirectional=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.arch == "gru" and not self.reset_after:
            s += ", reset_after=False"
        return s

    # -- one layer, one direction ---------------------------------------------------------

    def _direction(
        self,
        x: torch.Tensor,
        layer: int,
        sfx: str,
        h: torch.Tensor,
        c: torch.Tensor | None,
        reverse: bool,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        w_ih = getattr(self, f"weight_ih_l{layer}{sfx}")
        w_hh = getattr(self, f"weight_hh_l{layer}{sfx}")
        b_ih = getattr(self, f"bias_ih_l{layer}{sfx}")
        b_hh = getattr(self, f"bias_hh_l{layer}{sfx}")
        units = self.hidden_size
        xw = F.linear(x, w_ih, b_ih)  # [batch, time, gates * units]: all input projections at once
        steps = range(x.shape[1] - 1, -1, -1) if reverse else range(x.shape[1])
        outputs: list[torch.Tensor] = [None] * x.shape[1]  # type: ignore[list-item]
        arch = self.arch
        if arch == "gru" and not self.reset_after:
            w_hrz, b_hrz = w_hh[: 2 * units], b_hh[: 2 * units]
            w_hn, b_hn = w_hh[2 * units :], b_hh[2 * units :]
        for t in steps:
            xt = xw[:, t]
            if arch == "gru":
                x_r, x_z, x_n = xt.chunk(3, dim=1)
                if self.reset_after:
                    h_r, h_z, h_n = F.linear(h, w_hh, b_hh).chunk(3, dim=1)
                    r = torch.sigmoid(x_r + h_r)
                    z = torch.sigmoid(x_z + h_z)
                    n = torch.tanh(x_n + r * h_n)
                else:
                    h_r, h_z = F.linear(h, w_hrz, b_hrz).chunk(2, dim=1)
                    r = torch.sigmoid(x_r + h_r)
                    z = torch.sigmoid(x_z + h_z)
                    n = torch.tanh(x_n + F.linear(r * h, w_hn, b_hn))
                h = z * h + (1.0 - z) * n
            elif arch == "lstm":
                gates = xt + F.linear(h, w_hh, b_hh)
                i, f, g, o = gates.chunk(4, dim=1)
                i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
                c = f * c + i * g  # type: ignore[operator]
                h = o * torch.tanh(c)
            else:
                h = torch.tanh(xt + F.linear(h, w_hh, b_hh))
            outputs[t] = h
        return torch.stack(outputs, dim=1), h, c

    # -- the stack ------------------------------------------------------------------------

    def forward(
        self,
        input: torch.Tensor,  # noqa: A002 - nn.GRU's argument name
        hx: torch.Tensor | tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | tuple[torch.Tensor, torch.Tensor]]:
        if input.dim() != 3:
            raise ValueError(f"ExplicitRNN expects [batch, time, features], got shape {tuple(input.shape)}")
        batch = input.shape[0]
        n_states = self.num_layers * self.num_directions
        zeros = input.new_zeros(n_states, batch, self.hidden_size)
        if self.arch == "lstm":
            h0, c0 = hx if hx is not None else (zeros, zeros)  # type: ignore[misc]
        else:
            h0, c0 = (hx if hx is not None else zeros), None  # type: ignore[assignment]
        h_out: list[torch.Tensor] = []
        c_out: list[torch.Tensor] = []
        x = input
        for layer in range(self.num_layers):
            outs = []
            for d, sfx in enumerate(self._suffixes()):
                idx = layer * self.num_directions + d
                out, h, c = self._direction(
                    x, layer, sfx, h0[idx], c0[idx] if c0 is not None else None, reverse=d == 1
                )
                outs.append(out)
                h_out.append(h)
                if c is not None:
                    c_out.append(c)
            x = outs[0] if len(outs) == 1 else torch.cat(outs, dim=2)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, p=self.dropout, training=True)
        h_n = torch.stack(h_out, dim=0)
        if self.arch == "lstm":
            return x, (h_n, torch.stack(c_out, dim=0))
        return x, h_n
