"""``rnnbench baseline save|list|show``: named baselines in reports/baselines/ (meant to be committed)."""

from __future__ import annotations

from typing import Optional

import typer

from rnnbench.cli.group import Group

app = typer.Typer(help="Save, list and show named baselines (reports/baselines/NAME.json) for rnnbench compare.",
                  no_args_is_help=True, cls=Group, rich_markup_mode=None)


@app.command("save")
def save(
    name: str = typer.Argument(..., help="baseline name (letters, digits, '_', '.', '-'), e.g. ci"),
    run: Optional[str] = typer.Argument(None, help="run id, run directory or results.jsonl (default: latest run)"),
    force: bool = typer.Option(False, "--force", "-f", help="replace an existing baseline of that name"),
) -> None:
    """Save a run as a named baseline: compare against it with baseline:NAME."""
    from rnnbench.baseline import save_baseline

    path, data, replaced = save_baseline(name, run, force=force)
    recs = data["records"]
    failed = sum(r.get("status") != "ok" for r in recs)
    typer.echo(f"{'replaced' if replaced else 'saved'} baseline '{name}' from run {data['run_id']} "
               f"({len(recs)} records{f', {failed} failed' if failed else ''}) → {path}")
    if failed:
        typer.echo(f"warning: the baseline holds {failed} failed records; those cells compare as failing",
                   err=True)


@app.command("list")
def list_cmd() -> None:
    """List saved baselines."""
    from rich.console import Console
    from rich.table import Table

    from rnnbench.baseline import baselines_dir, list_baselines

    items = list_baselines()
    if not items:
        typer.echo(f"no baselines in {baselines_dir()} (save one: rnnbench baseline save NAME [RUN])")
        return
    t = Table(title=f"baselines in {baselines_dir()}")
    for col in ("name", "suite", "run", "saved", "records", "failed", "machine", "commit"):
        t.add_column(col)
    for b in items:
        if "error" in b:
            t.add_row(b["name"], f"[red]{b['error']}[/red]", "", "", "", "", "", "")
            continue
        t.add_row(b["name"], str(b["suite"]), str(b["run_id"]), str(b["saved"]), str(b["records"]),
                  str(b["failed"]), f"{b['cpu_model']} ({b['fingerprint']})", (b["git_commit"] or "")[:12])
    console = Console()
    if not console.is_terminal:
        console = Console(width=200)
    console.print(t)


@app.command("show")
def show(
    name: str = typer.Argument(..., help="baseline name or path to its .json"),
    as_json: bool = typer.Option(False, "--json", help="print the stored file"),
) -> None:
    """Show a baseline: suite, machine and a summary of each cell."""
    from rich.console import Console
    from rich.table import Table

    from rnnbench.baseline import cell_summary, dumps, load_baseline

    data = load_baseline(name)
    if as_json:
        data.pop("_path", None)
        typer.echo(dumps(data), nl=False)
        return
    suite = data.get("suite") or {}
    m = data.get("machine") or {}
    versions = ", ".join(f"{k} {v}" for k, v in (m.get("versions") or {}).items()) or "—"
    console = Console()
    if not console.is_terminal:
        console = Console(width=200)
    info = Table(show_header=False, title=f"baseline {data['name']}")
    for k, v in (("file", data.get("_path")), ("saved", data.get("saved")), ("run", data.get("run_id")),
                 ("suite", f"{suite.get('name')} (cells {suite.get('fingerprint')})"),
                 ("regression", ", ".join(f"{k}={v}" for k, v in (suite.get("regression") or {}).items())
                  or "defaults"),
                 ("machine", f"{m.get('cpu_model')}, {m.get('cpu_count')} cores, Python {m.get('python')}"),
                 ("fingerprint", data.get("fingerprint")), ("frameworks", versions),
                 ("git commit", m.get("git_commit"))):
        info.add_row(k, str(v))
    console.print(info)
    t = Table(title="cells")
    for col in ("cell", "processes", "failed", "step ms", "steps", "peak RSS MB", "test acc"):
        t.add_column(col, justify="left" if col == "cell" else "right")
    for c in cell_summary(data["records"]):
        t.add_row(c["cell"], str(c["processes"]), str(c["failed"]),
                  f"{c['step_ms']:.3f}" if c["step_ms"] is not None else "—", str(c["step_samples"]),
                  f"{c['peak_rss_mb']:,.0f}" if c["peak_rss_mb"] is not None else "—",
                  f"{c['test_acc']:.4f}" if c["test_acc"] is not None else "—")
    console.print(t)


def register(main: typer.Typer) -> None:
    main.add_typer(app, name="baseline")
