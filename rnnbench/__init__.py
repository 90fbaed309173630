"""rnnbench: benchmark recurrent networks (GRU, LSTM, SimpleRNN) across frameworks.

The package root stays light: no framework, pandas or pydantic import happens here, so
``rnnbench --help`` starts fast. :func:`load_results` imports pandas when called.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "load_results"]


def load_results(path):  # noqa: ANN001 - documented in results.load_results
    """Load a run's ``results.jsonl`` (or a run directory / run id) as a pandas DataFrame."""
    from rnnbench.results import load_results as _load

    return _load(path)
