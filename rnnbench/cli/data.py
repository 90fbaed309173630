"""``rnnbench data``: import, fetch, status, export of the IMDB data.

The data modules (numpy, rich) are imported inside each command so ``rnnbench --help`` stays
fast. A :class:`~rnnbench.errors.UserError` propagates; the main CLI prints it and exits 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from rnnbench.cli.group import Group

app = typer.Typer(
    help="IMDB data: import a local copy, fetch it, show what is here, export Keras arrays.",
    no_args_is_help=True,
    cls=Group,
    rich_markup_mode=None,
)


def _fmt_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def _print_import(info, what: str) -> None:  # noqa: ANN001 - ImportInfo, imported lazily
    typer.echo(
        f"{what} {info.n_train:,} train + {info.n_test:,} test reviews into {info.path} "
        f"in {info.seconds:.1f} s (sha256 {info.sha256[:12]})"
    )
    if info.word_index:
        typer.echo(f"word index: {info.word_index}")
    else:
        typer.echo("no word index (needed for --encoding keras): rnnbench data fetch word-index")


@app.command("import")
def import_(
    path: Path = typer.Argument(
        ..., help="aclImdb_v1.tar.gz, a tarball with its layout, an aclImdb/ folder, or imdb_word_index.json"
    ),
    word_index: Optional[Path] = typer.Option(
        None, "--word-index", help="Keras's imdb_word_index.json (default: the one next to PATH, if any)"
    ),
) -> None:
    """Import the full IMDB set (50,000 labelled reviews) from a local file or folder."""
    from rnnbench.data import import_imdb, import_word_index

    if path.suffix.lower() == ".json" and path.is_file():
        dest = import_word_index(path)
        typer.echo(f"installed word index {dest}")
        return
    _print_import(import_imdb(path, word_index=word_index), "imported")


@app.command("fetch")
def fetch(
    what: str = typer.Argument("imdb", help="imdb (the aclImdb tarball) or word-index (Keras's word index)"),
    url: Optional[str] = typer.Option(None, "--url", help="download from here instead of the canonical URL"),
    sha256: Optional[str] = typer.Option(None, "--sha256", help="expected sha256 of the download"),
) -> None:
    """Download the data (needs internet), check its sha256 and import it."""
    from rnnbench.data import fetch as f
    from rnnbench.errors import UserError

    if what == "imdb":
        info = f.fetch_imdb(url or f.CANONICAL_URL, sha256 or f.CANONICAL_SHA256)
        _print_import(info, "fetched and imported")
    elif what in ("word-index", "word_index"):
        from rnnbench.data.sources import KERAS_WORD_INDEX_SHA256

        dest = f.fetch_word_index(url or f.KERAS_WORD_INDEX_URL, sha256 or KERAS_WORD_INDEX_SHA256)
        typer.echo(f"installed word index {dest}")
    else:
        raise UserError(f"data fetch: unknown item {what!r}", hint="choose imdb or word-index")


@app.command("status")
def status(
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
) -> None:
    """Show the embedded sample, the imported set, the word index and the encoded caches."""
    from rnnbench.data import data_status

    rows = data_status()
    if as_json:
        import json

        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title="rnnbench data")
    for col in ("item", "present", "size", "detail", "path"):
        t.add_column(col, overflow="fold")
    for r in rows:
        t.add_row(
            r["item"],
            "[green]yes[/green]" if r["present"] else "[red]no[/red]",
            _fmt_bytes(r["size_bytes"]),
            r["detail"],
            r["path"] or "",
        )
    Console().print(t)


@app.command("export")
def export(
    dataset: str = typer.Argument("imdb", help="imdb or sample"),
    encoding: str = typer.Option("keras", "--encoding", help="only keras is exported"),
    num_words: Optional[int] = typer.Option(None, "--num-words", help="keep ids < N (load_data's num_words)"),
    skip_top: int = typer.Option(0, "--skip-top", help="load_data's skip_top"),
    maxlen: Optional[int] = typer.Option(None, "--maxlen", help="load_data's maxlen: drops reviews not shorter"),
    pad: bool = typer.Option(False, "--pad", help="pre-pad to maxlen as int32 (default: object arrays of lists)"),
    seed: int = typer.Option(113, "--seed", help="shuffle seed"),
    out: Path = typer.Option(..., "--out", help="the .npz file to write"),
) -> None:
    """Write what keras.datasets.imdb.load_data(...) returns, as an .npz, from the raw reviews."""
    from rnnbench.errors import UserError

    if encoding != "keras":
        raise UserError(f"data export: --encoding {encoding!r} is not exportable", hint="use --encoding keras")
    from rnnbench.data import export_keras

    p = export_keras(out, num_words=num_words, skip_top=skip_top, maxlen=maxlen, pad=pad, dataset=dataset, seed=seed)
    import numpy as np

    with np.load(p, allow_pickle=False) as z:  # the labels are plain int64: nothing to unpickle
        n_train, n_test = len(z["y_train"]), len(z["y_test"])
    typer.echo(f"wrote {p} ({n_train:,} train, {n_test:,} test{', padded' if pad else ''})")
