"""``data_status``: what data is here (``rnnbench data status`` prints it as a table)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from . import cache
from .sources import ENV_IMDB_PATH, KERAS_WORD_INDEX_SHA256, file_sha256, imdb_dir, read_imdb_meta, word_index_path


def _size(p: Path) -> int | None:
    try:
        if p.is_dir():
            return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
        return p.stat().st_size
    except OSError:
        return None


def _row(item: str, present: bool, path: Path | str | None, size: int | None, detail: str, **extra: Any) -> dict[str, Any]:
    return {"item": item, "present": present, "path": str(path) if path else None, "size_bytes": size, "detail": detail, **extra}


def _spec_summary(spec: dict[str, Any]) -> str:
    parts = [f"{spec.get('encoding')}", f"num_words={spec.get('num_words')}", f"maxlen={spec.get('maxlen')}"]
    if spec.get("padding") != "pre" or spec.get("truncating") != "pre":
        parts.append(f"pad={spec.get('padding')}/trunc={spec.get('truncating')}")
    if spec.get("skip_top"):
        parts.append(f"skip_top={spec['skip_top']}")
    for k in ("train_size", "test_size"):
        if spec.get(k) is not None:
            parts.append(f"{k}={spec[k]}")
    if spec.get("seed") != 113:
        parts.append(f"seed={spec.get('seed')}")
    return " ".join(parts)


def data_status() -> list[dict[str, Any]]:
    """One dict per thing: ``item``, ``present``, ``path``, ``size_bytes``, ``detail`` (+ extras).

    Items: ``sample``, ``imdb`` (the imported full set), ``word index``, ``$RNNBENCH_IMDB_PATH``
    (when set), then one ``cache`` row per encoded or tokenized cache file.
    """
    from .embedded import SAMPLE_FILE, SAMPLE_MANIFEST

    rows: list[dict[str, Any]] = []

    try:
        m = json.loads(SAMPLE_MANIFEST.read_text(encoding="utf-8"))
        c = m["counts"]
        detail = (
            f"{sum(c['train'].values()):,} train / {sum(c['test'].values()):,} test, "
            f"seed {m['selection_seed']}, sha256 {m['sha256'][:12]}"
        )
        rows.append(_row("sample", SAMPLE_FILE.exists(), SAMPLE_FILE, _size(SAMPLE_FILE), detail, sha256=m["sha256"], counts=c))
    except (OSError, ValueError, KeyError):
        rows.append(_row("sample", False, SAMPLE_FILE, None, "missing (python scripts/make_sample.py rebuilds it)"))

    meta = read_imdb_meta()
    if meta:
        c = meta.get("counts", {})
        detail = (
            f"{meta.get('n_train', 0):,} train / {meta.get('n_test', 0):,} test, sha256 {str(meta.get('sha256'))[:12]}, "
            f"from {meta.get('origin')}"
        )
        rows.append(_row("imdb", True, imdb_dir(), _size(imdb_dir()), detail, sha256=meta.get("sha256"), counts=c))
    else:
        rows.append(_row("imdb", False, imdb_dir(), None, "not imported: rnnbench data import PATH | rnnbench data fetch imdb"))

    wi = word_index_path()
    if wi.exists():
        sha = file_sha256(wi)
        official = "Keras's official file" if sha == KERAS_WORD_INDEX_SHA256 else "not Keras's official file"
        words = (meta or {}).get("word_index") or {}
        n = f"{words['words']:,} words, " if words.get("sha256") == sha and "words" in words else ""
        rows.append(_row("word index", True, wi, _size(wi), f"{n}{official}, sha256 {sha[:12]}", sha256=sha))
    else:
        rows.append(_row("word index", False, wi, None, "needed for --encoding keras: rnnbench data fetch word-index"))

    env = os.environ.get(ENV_IMDB_PATH)
    if env:
        p = Path(env).expanduser()
        rows.append(_row(f"${ENV_IMDB_PATH}", p.exists(), p, _size(p) if p.is_file() else None, "imported automatically when used"))

    for p in cache.list_cache_files():
        m = cache.read_meta(p) or {}
        kind = m.get("kind", "?")
        if kind == "encoded":
            detail = f"{m.get('dataset')}: {_spec_summary(m.get('spec', {}))}"
        elif kind == "tokens":
            detail = f"{m.get('dataset')}: tokens ({m.get('encoding')})"
        else:
            detail = "unreadable"
        rows.append(_row("cache", True, p, _size(p), detail, kind=kind, source_sha256=m.get("source_sha256")))
    return rows
