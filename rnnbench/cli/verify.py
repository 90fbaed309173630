"""``rnnbench verify``: the PyTorch and Keras models compute the same thing.

Copies weights both ways between PyTorch and Keras (on TensorFlow), and between each
framework's fused layer and rnnbench's explicit cell, then compares one batch's outputs
and one training step's gradients. Exit 1 when any check is past its tolerance.
"""

from __future__ import annotations

from typing import Optional

import typer


def verify(
    arch: Optional[list[str]] = typer.Option(  # noqa: UP007 - typer needs Optional here
        None, "--arch", help="gru (both reset conventions), lstm, rnn, mingru, minlstm, an installed plugin's "
        "name or package.module:Name (importable from the current folder); repeat for several (default: all built-ins)"
    ),
    quick: bool = typer.Option(
        False, "--quick", help="cross-framework pairs of fused layers only (fused↔cell kept), "
        "on the 1-layer and the 2-layer bidirectional cases"
    ),
    device: str = typer.Option(
        "cpu", "--device", help="cpu (PyTorch against Keras); cuda or cuda:N: PyTorch on the CPU against "
        "PyTorch on that GPU (cuDNN's fused layers and the cell), every case, no Keras needed"
    ),
) -> None:
    """Check weight transfer torch ⇄ Keras and fused ⇄ cell: outputs and gradients."""
    from rnnbench.backends.base import ensure_available
    from rnnbench.errors import UserError
    from rnnbench.verify import config_for, render_table, run_verify, run_verify_device, summary

    if device != "cpu" and not device.startswith("cuda"):
        raise UserError(f"verify --device: expected cpu, cuda or cuda:N, got {device!r}")
    ensure_available("torch")
    cfg = config_for(arch, quick)
    if device == "cpu":
        ensure_available("keras-tensorflow")
        rows = run_verify(cfg)
    else:
        rows = run_verify_device(cfg, device)
    from rich.console import Console

    console = Console()
    console.print(render_table(rows))
    s = summary(rows)
    console.print(
        f"max |Δ out| {s['max_abs_out_diff']:.2e}, max |Δ grad| {s['max_abs_grad_diff']:.2e}, "
        f"max relative Δ grad {s['max_rel_grad_diff']:.2e}"
        + (f"; optimizer update (Adam, RMSprop): max relative Δ {s['max_rel_update_diff']:.2e} over {s['adam_checks']} checks"
           if s["adam_checks"] else "")
        + f"; {s['failed']} of {s['checks']} checks failed"
    )
    if s["failed"]:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("verify")(verify)
