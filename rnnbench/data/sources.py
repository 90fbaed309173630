"""Where reviews come from: raw aclImdb inputs (tarball or folder) and the stored copies.

Layout under :func:`rnnbench.paths.data_dir`::

    imdb/reviews.tsv.gz         the imported full set, normalized (see :mod:`.store`)
    imdb/meta.json              counts, sha256 of the normalized content, origin
    imdb/imdb_word_index.json   Keras's word index, when one was imported or fetched
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from rnnbench.errors import UserError
from rnnbench.paths import data_dir

from .store import SPLITS, Reviews, read_reviews, split_from_groups

WORD_INDEX_NAME = "imdb_word_index.json"
KERAS_WORD_INDEX_SHA256 = "027313fe9a320280f3bf0fac5baf58c4a683cf39a7ed9c3d3d3912bde4284cf6"
ENV_IMDB_PATH = "RNNBENCH_IMDB_PATH"

HOW_TO_GET = "run `rnnbench data import PATH` (aclImdb_v1.tar.gz or an aclImdb/ folder) or `rnnbench data fetch imdb`"


def imdb_dir() -> Path:
    return data_dir() / "imdb"


def imdb_meta_path() -> Path:
    return imdb_dir() / "meta.json"


def imdb_reviews_path() -> Path:
    return imdb_dir() / "reviews.tsv.gz"


def word_index_path() -> Path:
    return imdb_dir() / WORD_INDEX_NAME


def read_imdb_meta() -> dict[str, Any] | None:
    """The imported copy's metadata, or None when there is no (complete) imported copy."""
    p = imdb_meta_path()
    try:
        meta = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return None
    if not imdb_reviews_path().exists():
        return None
    return meta


def load_imported_reviews(meta: dict[str, Any]) -> Reviews:
    return read_reviews(imdb_reviews_path(), expected_sha256=meta.get("sha256"))


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------------------- word index


def validate_word_index(obj: Any, where: Path) -> dict[str, int]:
    if not isinstance(obj, dict) or not obj:
        raise UserError(f"data: {where} is not a word index (expected a JSON object word -> index)")
    for k, v in obj.items():
        if not isinstance(k, str) or isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise UserError(
                f"data: {where} is not a word index (entry {k!r}: {v!r}; expected word -> index >= 1)"
            )
    return obj


def read_word_index(path: Path) -> dict[str, int]:
    try:
        obj = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"data: word index {path} does not exist") from None
    except (OSError, ValueError, UnicodeDecodeError) as e:
        raise UserError(f"data: cannot read word index {path}: {e}") from None
    return validate_word_index(obj, Path(path))


def require_word_index() -> Path:
    p = word_index_path()
    if not p.exists():
        raise UserError(
            "data: the keras encoding needs Keras's IMDB word index, which is not installed",
            hint=f"run `rnnbench data import {WORD_INDEX_NAME}` or `rnnbench data fetch word-index`",
        )
    return p


# ------------------------------------------------------------------- reading raw aclImdb


def _classify(parts: list[str]) -> tuple[str, str, str] | None:
    """``(split, label, name)`` for ``.../{train,test}/{pos,neg}/NAME.txt``, else None."""
    if len(parts) < 3:
        return None
    split, label, name = parts[-3], parts[-2], parts[-1]
    if split in SPLITS and label in ("pos", "neg") and name.endswith(".txt"):
        return split, label, name
    return None


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


class _ProgressReader:
    """A file wrapper that hashes what is read and reports progress in bytes."""

    def __init__(self, f, advance: Callable[[int], None] | None) -> None:  # noqa: ANN001
        self._f = f
        self._advance = advance
        self._pending = 0
        self.sha = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        data = self._f.read(n)
        self.sha.update(data)
        if self._advance is not None:
            self._pending += len(data)
            if self._pending >= (1 << 20) or not data:
                self._advance(self._pending)
                self._pending = 0
        return data

    def flush_progress(self) -> None:
        if self._advance is not None and self._pending:
            self._advance(self._pending)
            self._pending = 0


@dataclass
class RawRead:
    reviews: Reviews
    kind: str  # "tarball" | "directory"
    origin_sha256: str | None
    aclimdb_root: Path | None  # for folders


def make_progress(enabled: bool, kind: str = "bytes"):  # noqa: ANN201 - rich is imported lazily
    """A rich progress bar on stderr (``kind`` "bytes" or "count"), or None when disabled."""
    if not enabled:
        return None
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TransferSpeedColumn,
    )

    amount = (DownloadColumn(), TransferSpeedColumn()) if kind == "bytes" else (MofNCompleteColumn(),)
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        *amount,
        TimeElapsedColumn(),
        console=Console(stderr=True),
    )


def read_tarball(path: Path, progress: bool = True) -> RawRead:
    """Stream ``path`` (a .tar.gz/.tar/.tar.bz2 ...) once; keep train/test pos/neg reviews.

    ``train/unsup``, ``*.feat`` and everything else are read past, not kept. The whole file
    is hashed on the way (``origin_sha256``).
    """
    groups: dict[str, dict[str, dict[str, str]]] = {s: {"pos": {}, "neg": {}} for s in SPLITS}
    size = path.stat().st_size
    bar = make_progress(progress, "bytes")
    task = bar.add_task(f"reading {path.name}", total=size) if bar else None
    try:
        with open(path, "rb") as raw:
            reader = _ProgressReader(raw, (lambda n: bar.update(task, advance=n)) if bar else None)
            if bar:
                bar.start()
            try:
                with tarfile.open(fileobj=reader, mode="r|*") as tf:
                    for member in tf:
                        if not member.isfile():
                            continue
                        c = _classify(member.name.split("/"))
                        if c is None:
                            continue
                        f = tf.extractfile(member)
                        if f is None:
                            continue
                        groups[c[0]][c[1]][c[2]] = _decode(f.read())
                # drain the rest so the whole file is hashed
                while reader.read(1 << 20):
                    pass
                reader.flush_progress()
            finally:
                if bar:
                    bar.stop()
    except (tarfile.TarError, EOFError, zlib.error, OSError) as e:
        raise UserError(
            f"data: cannot read {path} as a tar archive: {e}",
            hint="expected aclImdb_v1.tar.gz (or a tarball / folder with the aclImdb layout)",
        ) from None
    reviews = Reviews(split_from_groups(groups["train"]), split_from_groups(groups["test"]))
    return RawRead(reviews, "tarball", reader.sha.hexdigest(), None)


def find_aclimdb_root(path: Path) -> Path | None:
    """``path`` itself when it has train/ and test/, or its ``aclImdb`` child when that has."""
    for cand in (path, path / "aclImdb"):
        if (cand / "train").is_dir() and (cand / "test").is_dir():
            return cand
    return None


def read_directory(path: Path, progress: bool = True) -> RawRead:
    root = find_aclimdb_root(path)
    if root is None:
        raise UserError(
            f"data: {path} is not an aclImdb folder (no train/ and test/ inside)",
            hint="give the aclImdb/ folder, its parent, or the aclImdb_v1.tar.gz tarball",
        )
    files: list[tuple[str, str, str, str]] = []
    for split in SPLITS:
        for label in ("pos", "neg"):
            d = root / split / label
            if not d.is_dir():
                continue
            with os.scandir(d) as it:
                for e in it:
                    if e.name.endswith(".txt") and e.is_file():
                        files.append((split, label, e.name, e.path))
    groups: dict[str, dict[str, dict[str, str]]] = {s: {"pos": {}, "neg": {}} for s in SPLITS}
    bar = make_progress(progress, "count")
    if bar:
        task = bar.add_task(f"reading {root.name}/", total=len(files))
        bar.start()
    try:
        for i, (split, label, name, fp) in enumerate(files, 1):
            with open(fp, "rb") as f:
                groups[split][label][name] = _decode(f.read())
            if bar and (i % 500 == 0 or i == len(files)):
                bar.update(task, completed=i)
    except OSError as e:
        raise UserError(f"data: cannot read {e.filename}: {e.strerror}") from None
    finally:
        if bar:
            bar.stop()
    reviews = Reviews(split_from_groups(groups["train"]), split_from_groups(groups["test"]))
    return RawRead(reviews, "directory", None, root)


def read_raw(path: Path, progress: bool = True) -> RawRead:
    """Read an aclImdb tarball or folder; a missing or wrong path is a UserError."""
    path = Path(path).expanduser()
    if not path.exists():
        raise UserError(
            f"data: {path} does not exist",
            hint="give aclImdb_v1.tar.gz (or `rnnbench data fetch imdb` downloads it) or an extracted aclImdb/ folder",
        )
    if path.is_dir():
        return read_directory(path, progress)
    try:
        is_tar = tarfile.is_tarfile(path)
    except (EOFError, OSError, zlib.error) as e:  # a truncated .gz ends inside its first member
        raise UserError(f"data: cannot read {path} as a tar archive: {e}",
                        hint="the file looks cut short: download it again (`rnnbench data fetch imdb`)") from None
    if not is_tar:
        raise UserError(
            f"data: {path} is neither a tar archive nor an aclImdb folder",
            hint="expected aclImdb_v1.tar.gz, a tarball with the aclImdb layout, or the extracted aclImdb/ folder",
        )
    return read_tarball(path, progress)
