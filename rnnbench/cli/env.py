"""``rnnbench env``: the machine and software a run here would record, and its matmul peak."""

from __future__ import annotations

import json

import typer


def env(
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
    calibrate: bool = typer.Option(
        False, "--calibrate",
        help="time float32 matmul (numpy, and torch if installed) at 2048³ and at the recurrent shape "
        "64×128 @ 128×384 (a few seconds) and cache the result, replacing the one `rnnbench run` measured "
        "by itself (numpy only): reports show % of this peak",
    ),
    device: str = typer.Option("cpu", "--device", help="with --calibrate: cpu, or cuda (the first visible GPU, "
                               "with PyTorch; GPU cells' % of peak is then of this GPU's peak)"),
) -> None:
    """Show this machine's facts (CPU, cores, Python, framework versions, git commit, calibration)."""
    from rnnbench import calibrate as cal
    from rnnbench.envinfo import fingerprint, machine

    info = machine()
    info["fingerprint"] = fingerprint(info)
    if device not in ("cpu", "cuda"):
        from rnnbench.errors import UserError

        raise UserError(f"--device {device!r}: expected cpu or cuda")
    if calibrate and device == "cuda":
        gpu_cal = cal.measure_gpu()
        path = cal.save_gpu(gpu_cal)
        typer.echo(json.dumps(gpu_cal, indent=2) if as_json else
                   f"wrote {path}: {gpu_cal['gpu_name']} float32 matmul peak {gpu_cal['peak_gflops']:.0f} GFLOP/s "
                   f"({gpu_cal['peak_shape']}), recurrent shape {gpu_cal['recurrent_gflops']:.0f} GFLOP/s")
        return
    if calibrate:
        if not as_json:
            typer.echo("calibrating float32 matmul (a few seconds) ...", err=True)
        result = cal.measure()
        path = cal.save(result)
        if not as_json:
            typer.echo(f"wrote {path}", err=True)
    calibration = cal.load(info["cpu_model"], info["cpu_count"])
    if as_json:
        typer.echo(json.dumps({**info, "calibration": calibration}, indent=2))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    t = Table(show_header=False)
    for k, v in info.items():
        if k == "versions":
            v = ", ".join(f"{a} {b}" for a, b in v.items()) or "(no framework installed)"
        t.add_row(k, Text(str(v)))
    if calibration:
        t.add_row("matmul peak", f"{calibration['peak_gflops']:.0f} GFLOP/s float32 "
                  f"({calibration['peak_library']}, {calibration['peak_shape']}; {calibration['created']}, "
                  f"{calibration.get('how', cal.BY_ENV)})")
        t.add_row("recurrent shape", f"{calibration['recurrent_gflops']:.0f} GFLOP/s "
                  f"({calibration['recurrent_library']}, {calibration['recurrent_shape']})")
    else:
        t.add_row("matmul peak", "not calibrated (the next rnnbench run of CPU cells measures it; or "
                  "rnnbench env --calibrate)")
    console = Console()
    console.print(t)
    if calibrate and calibration:
        r = Table(title="float32 matmul")
        for h in ("library", "shape", "ms per call", "GFLOP/s"):
            r.add_column(h, justify="right" if h in ("ms per call", "GFLOP/s") else "left")
        for x in calibration["results"]:
            r.add_row(f"{x['library']} {x['version']}", x["shape"], f"{x['seconds'] * 1e3:.3f}",
                      f"{x['gflops']:.1f}")
        console.print(r)
