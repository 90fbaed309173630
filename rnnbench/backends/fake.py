"""A numpy stand-in backend for testing the harness (runner, store, reports) fast.

It trains a logistic regression on bag-of-words counts, so losses and accuracies move like
a real model's, but it is no recurrent network and its numbers are not a benchmark:
reports label it "fake".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import numpy as np

if TYPE_CHECKING:
    from rnnbench.suite import CellSettings


class FakeBackend:
    framework = "fake"

    def __init__(self, settings: "CellSettings") -> None:
        self.s = settings
        self.rng = np.random.RandomState(settings.seed)

    def build(self, vocab_size: int) -> None:
        self.vocab = vocab_size
        self.w = np.zeros(vocab_size, dtype=np.float64)
        self.b = 0.0

    def param_counts(self) -> dict[str, int]:
        return {"embedding": 0, "recurrent": 0, "head": self.vocab + 1, "total": self.vocab + 1}

    def _features(self, x: np.ndarray) -> np.ndarray:
        feats = np.zeros((len(x), self.vocab))
        rows = np.repeat(np.arange(len(x)), x.shape[1])
        np.add.at(feats, (rows, x.ravel()), 1.0)
        feats[:, 0] = 0.0
        return feats / np.maximum(feats.sum(1, keepdims=True), 1.0)

    def _forward(self, f: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(f @ self.w + self.b)))

    def train_epoch(self, x: np.ndarray, y: np.ndarray, batch_size: int,
                    on_step: Callable[[], None], max_steps: int | None) -> float:
        total, seen = 0.0, 0
        lr = self.s.learning_rate * 1000
        for step, i in enumerate(range(0, len(x), batch_size)):
            if max_steps is not None and step >= max_steps:
                break
            f, yb = self._features(x[i:i + batch_size]), y[i:i + batch_size]
            p = self._forward(f)
            eps = 1e-7
            loss = float(-np.mean(yb * np.log(p + eps) + (1 - yb) * np.log(1 - p + eps)))
            g = p - yb
            self.w -= lr * f.T @ g / len(yb)
            self.b -= lr * float(g.mean())
            total += loss * len(yb)
            seen += len(yb)
            on_step()
        return total / max(seen, 1)

    def get_weights(self) -> tuple[np.ndarray, float]:
        return self.w.copy(), self.b

    def set_weights(self, weights: tuple[np.ndarray, float]) -> None:
        self.w, self.b = weights[0].copy(), weights[1]

    def evaluate(self, x: np.ndarray, y: np.ndarray, batch_size: int) -> tuple[float, float]:
        p = self._forward(self._features(x))
        eps = 1e-7
        loss = float(-np.mean(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps)))
        return loss, float(np.mean((p > 0.5) == (y > 0.5)))

    def describe(self) -> dict[str, Any]:
        return {"framework": "fake", "kernel": "numpy logistic regression (not an RNN)", "threads": 1}
