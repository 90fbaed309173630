"""``rnnbench data import``: aclImdb tarball/folder -> normalized copy under data_dir()/imdb/."""

from __future__ import annotations

import json
import os
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rnnbench.errors import UserError
from rnnbench.paths import data_dir

from .sources import (
    WORD_INDEX_NAME,
    file_sha256,
    find_aclimdb_root,
    imdb_dir,
    read_raw,
    read_word_index,
    word_index_path,
)
from .spec import ImportInfo
from .store import Reviews, write_reviews

#: (train, test) labelled reviews in the official split, half pos and half neg each
OFFICIAL_COUNTS = (25000, 25000)


def _validate(reviews: Reviews, path: Path, expect_counts: tuple[int, int] | None) -> None:
    n_train, n_test = len(reviews.train), len(reviews.test)
    hint = "expected the official aclImdb_v1.tar.gz, a tarball with its layout, or the extracted aclImdb/ folder"
    if n_train + n_test == 0:
        raise UserError(f"data: no labelled reviews ({{train,test}}/{{pos,neg}}/*.txt) in {path}", hint=hint)
    counts = reviews.counts()
    if expect_counts is not None:
        if (n_train, n_test) != tuple(expect_counts):
            raise UserError(
                f"data: {path} holds {n_train:,} train + {n_test:,} test labelled reviews, "
                f"expected {expect_counts[0]:,} + {expect_counts[1]:,}",
                hint="is the archive complete? " + hint,
            )
        for split, want in zip(("train", "test"), expect_counts):
            c = counts[split]
            if c["pos"] != want // 2 or c["neg"] != want - want // 2:
                raise UserError(
                    f"data: {path}: {split} has {c['pos']:,} pos / {c['neg']:,} neg reviews, "
                    f"expected {want // 2:,} each",
                    hint=hint,
                )
    else:
        for split in ("train", "test"):
            c = counts[split]
            if c["pos"] == 0 or c["neg"] == 0:
                raise UserError(f"data: {path}: {split} needs pos and neg reviews, found {c}", hint=hint)


def _find_word_index(path: Path) -> Path | None:
    cands = [path.parent / WORD_INDEX_NAME]
    if path.is_dir():
        root = find_aclimdb_root(path)
        cands = [path / WORD_INDEX_NAME] + ([root / WORD_INDEX_NAME] if root else []) + cands
    for c in cands:
        if c.is_file():
            return c
    return None


def _make_dir(base: Path, prefix: str) -> Path:
    """A fresh folder in ``base`` created with the usual umask (mkdtemp would force 0700)."""
    for _ in range(100):
        p = base / f"{prefix}{os.getpid()}-{os.urandom(4).hex()}"
        try:
            p.mkdir()
            return p
        except FileExistsError:
            continue
    raise OSError(f"cannot create a temporary folder in {base}")


def _write_json_atomic(path: Path, obj: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _copy_word_index(src: Path, dest_dir: Path) -> dict[str, Any]:
    wi = read_word_index(src)  # validates
    dest = dest_dir / WORD_INDEX_NAME
    tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dest)
    return {"file": WORD_INDEX_NAME, "words": len(wi), "sha256": file_sha256(dest), "origin": str(src)}


def import_word_index(path: str | Path) -> Path:
    """Install Keras's ``imdb_word_index.json`` (needed by the keras encoding) under data_dir()."""
    src = Path(path).expanduser().resolve()
    d = imdb_dir()
    d.mkdir(parents=True, exist_ok=True)
    info = _copy_word_index(src, d)
    meta_p = d / "meta.json"
    if meta_p.exists():
        try:
            meta = json.loads(meta_p.read_text(encoding="utf-8"))
            meta["word_index"] = info
            _write_json_atomic(meta_p, meta)
        except (OSError, ValueError):
            pass
    return word_index_path()


def import_imdb(
    path: str | Path,
    word_index: Path | None = None,
    *,
    progress: bool = True,
    expect_counts: tuple[int, int] | None = OFFICIAL_COUNTS,
    origin_label: str | None = None,
) -> ImportInfo:
    """Read an aclImdb tarball or folder and store it normalized under ``data_dir()/imdb/``.

    ``imdb_word_index.json`` next to ``path`` (or ``word_index``) is copied too. An earlier
    import is replaced atomically; its word index is kept when this import brings none.
    ``expect_counts`` (train, test) is checked; None only requires both labels in both splits
    (for tests and custom sets). ``origin_label`` is recorded as the origin instead of the
    path (fetch records the URL).
    """
    t0 = time.perf_counter()
    src = Path(path).expanduser().resolve()
    if word_index is not None:
        wi_src: Path | None = Path(word_index).expanduser().resolve()
        if not wi_src.is_file():
            raise UserError(f"data: word index {wi_src} does not exist")
    else:
        wi_src = _find_word_index(src) if src.exists() else None

    raw = read_raw(src, progress=progress)
    _validate(raw.reviews, src, expect_counts)

    base = data_dir()
    base.mkdir(parents=True, exist_ok=True)
    tmp_dir = _make_dir(base, ".imdb-import-")
    try:
        # level 1: 30 MB instead of 26 MB at level 6, but 0.7 s instead of 3.7 s
        sha = write_reviews(tmp_dir / "reviews.tsv.gz", raw.reviews, compresslevel=1)
        st = src.stat()
        meta: dict[str, Any] = {
            "format": 1,
            "dataset": "imdb",
            "origin": origin_label or str(src),
            "origin_kind": raw.kind,
            "origin_size": st.st_size,
            "origin_mtime_ns": st.st_mtime_ns,
            "origin_sha256": raw.origin_sha256,
            "imported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "file": "reviews.tsv.gz",
            "bytes": (tmp_dir / "reviews.tsv.gz").stat().st_size,
            "sha256": sha,
            "counts": raw.reviews.counts(),
            "n_train": len(raw.reviews.train),
            "n_test": len(raw.reviews.test),
            "word_index": None,
        }
        old = imdb_dir()
        if wi_src is not None:
            meta["word_index"] = _copy_word_index(wi_src, tmp_dir)
        elif (old / WORD_INDEX_NAME).is_file():
            meta["word_index"] = _copy_word_index(old / WORD_INDEX_NAME, tmp_dir)
        _write_json_atomic(tmp_dir / "meta.json", meta)

        trash = None
        if old.exists():
            trash = _make_dir(base, ".imdb-old-")
            os.replace(old, trash / "imdb")
        os.replace(tmp_dir, old)
        if trash is not None:
            shutil.rmtree(trash, ignore_errors=True)
    finally:
        if tmp_dir.exists():
            shutil.rmtree(tmp_dir, ignore_errors=True)

    return ImportInfo(
        path=old,
        origin=origin_label or str(src),
        n_train=meta["n_train"],
        n_test=meta["n_test"],
        counts=meta["counts"],
        sha256=sha,
        origin_sha256=raw.origin_sha256,
        word_index=(old / WORD_INDEX_NAME) if meta["word_index"] else None,
        seconds=time.perf_counter() - t0,
    )
