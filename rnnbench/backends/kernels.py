"""What kernel actually ran: op names from one profiled training step, not a guess.

A backend's ``describe()`` used to name its kernel from what the code asks for; what runs
can differ (PyTorch's CPU LSTM dispatches to oneDNN, its GRU and RNN to ATen's own loop —
the reason GRU trains slower than LSTM on PyTorch CPU). The protocol calls a backend's
``profile_step`` once after training, outside every timed window; it records the op names
of one forward + backward, and :func:`torch_kernel` turns PyTorch's into words.

Framework imports happen inside the functions only (this module is imported by adapters).
"""

from __future__ import annotations

from typing import Callable

# Op names that say which recurrent kernel ran (lower-case substrings).
_RECURRENT_WORDS = ("rnn", "gru", "lstm", "mkldnn", "cudnn", "while", "scan")
_NOT_KERNELS = ("cudnn_is_acceptable", "autograd::engine::evaluate_function")


def recurrent_ops(names: set[str] | list[str]) -> list[str]:
    """The op names among ``names`` that belong to the recurrent layer's kernel, sorted."""
    return sorted(n for n in set(names) if any(w in n.lower() for w in _RECURRENT_WORDS)
                  and not any(x in n for x in _NOT_KERNELS))


def profile_torch(step: Callable[[], None]) -> list[str]:
    """Every op name torch's profiler saw while ``step()`` ran (CPU activities), sorted."""
    import torch

    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        step()
    return sorted({e.key for e in prof.key_averages()})


def torch_kernel(ops: list[str], arch: str) -> str:
    """PyTorch's recurrent kernel in words, from the profiled op names."""
    names = set(ops)
    if any("mkldnn_rnn" in n for n in names):
        return "oneDNN RNN kernel (aten::mkldnn_rnn_layer, MkldnnRnnLayerBackward0)"
    if any("_cudnn_rnn" in n for n in names):  # not aten::cudnn_is_acceptable, a mere check
        return "cuDNN RNN kernel (aten::_cudnn_rnn)"
    aten = {"gru": "aten::gru", "lstm": "aten::lstm", "rnn": "aten::rnn_tanh"}.get(arch, "")
    if aten in names:
        return f"ATen's own CPU loop ({aten}: one matmul per step, autograd through each op)"
    if any(n.startswith("aten::") for n in names):
        return "torch ops step by step (no fused recurrent op seen)"
    return "unknown (no torch ops profiled)"


def torch_flushes_denormals() -> bool:
    """Whether this process's torch really flushes denormals: a subnormal times one comes out 0."""
    import torch

    tiny = torch.tensor([1e-40], dtype=torch.float32)  # below float32's smallest normal (1.2e-38)
    return bool((tiny * 1.0).item() == 0.0)
