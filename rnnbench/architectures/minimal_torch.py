"""minGRU / minLSTM in PyTorch: the log-space parallel scan for training, the sequential
definition for checking and streaming (equations: :mod:`rnnbench.architectures.minimal`)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from rnnbench.architectures.minimal import GATES


def g(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x >= 0, x + 0.5, torch.sigmoid(x))


def log_g(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x >= 0, torch.log(F.relu(x) + 0.5), -F.softplus(-x))


def scan_log(log_a: torch.Tensor, log_b: torch.Tensor) -> torch.Tensor:
    """h_t = a_t h_{t−1} + b_t from h_0 = 0, over dim 1, given log a and log b."""
    a_star = torch.cumsum(log_a, dim=1)
    return torch.exp(a_star + torch.logcumsumexp(log_b - a_star, dim=1))


class MinRNNStack(nn.Module):
    """``layers`` minGRU or minLSTM layers, batch first; returns the last layer's final state."""

    def __init__(self, kind: str, input_size: int, hidden_size: int, num_layers: int = 1, dropout: float = 0.0,
                 sequential: bool = False) -> None:
        super().__init__()
        self.kind, self.hidden_size, self.dropout, self.sequential = kind, hidden_size, dropout, sequential
        sizes = [input_size] + [hidden_size] * (num_layers - 1)
        self.linears = nn.ModuleList(nn.Linear(i, GATES[kind] * hidden_size) for i in sizes)

    def extra_repr(self) -> str:
        return f"{self.kind}, {'sequential' if self.sequential else 'log-space parallel scan'}"

    def coefficients(self, proj: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """a and b of h_t = a_t h_{t−1} + b_t, from the projections (the definition)."""
        if self.kind == "mingru":
            k, h_tilde = proj.chunk(2, dim=-1)
            z = torch.sigmoid(k)
            return 1.0 - z, z * g(h_tilde)
        kf, ki, h_tilde = proj.chunk(3, dim=-1)
        f, i = torch.sigmoid(kf), torch.sigmoid(ki)
        return f / (f + i), i / (f + i) * g(h_tilde)

    def log_coefficients(self, proj: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.kind == "mingru":
            k, h_tilde = proj.chunk(2, dim=-1)
            return -F.softplus(k), -F.softplus(-k) + log_g(h_tilde)
        kf, ki, h_tilde = proj.chunk(3, dim=-1)
        diff = F.softplus(-kf) - F.softplus(-ki)
        return -F.softplus(diff), -F.softplus(-diff) + log_g(h_tilde)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.sequential:  # the definition, through the same step() that streaming runs (no dropout)
            state = self.init_state(x.shape[0], x.device)
            for t in range(x.shape[1]):
                h, state = self.step(x[:, t], state)
            return h
        for n, lin in enumerate(self.linears):
            if n and self.dropout and self.training:
                x = F.dropout(x, p=self.dropout, training=True)
            x = scan_log(*self.log_coefficients(lin(x)))
        return x[:, -1]

    def init_state(self, batch: int, device: torch.device | None = None) -> list[torch.Tensor]:
        return [torch.zeros(batch, self.hidden_size, device=device) for _ in self.linears]

    def step(self, x_t: torch.Tensor, state: list[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """One token ``[batch, inputs]`` with the state carried: the sequential definition."""
        new = []
        for lin, h in zip(self.linears, state):
            a, b = self.coefficients(lin(x_t))
            x_t = a * h + b
            new.append(x_t)
        return x_t, new
