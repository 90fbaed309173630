"""``load_dataset`` (what training cells call) and ``export_keras`` (``rnnbench data export``).

Lookup for ``dataset="imdb"``: the imported copy's content hash gives the cache key; a cache
hit is returned at once (np.load of an uncompressed npz). Without an imported copy, an
encoded cache made with the same :class:`DataSpec` is still used. ``$RNNBENCH_IMDB_PATH``
(a tarball or aclImdb folder), when set, is imported automatically if the imported copy is
missing or came from elsewhere. Otherwise: UserError telling how to get the data.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnnbench.errors import UserError

from . import cache
from .encoding import Ragged, keras_load_data, pad_ragged, rank_ids, rnnbench_ids, shuffle_indices, texts_to_ids
from .sources import (
    ENV_IMDB_PATH,
    HOW_TO_GET,
    file_sha256,
    load_imported_reviews,
    read_imdb_meta,
    read_word_index,
    require_word_index,
    word_index_path,
)
from .spec import INDEX_FROM, DataSpec, EncodedData
from .store import Reviews


@dataclass
class _Source:
    dataset: str
    description: str
    sha256: str
    load: Callable[[], Reviews]


def _same_origin(meta: dict[str, Any], p: Path) -> bool:
    if meta.get("origin") != str(p):
        return False
    try:
        st = p.stat()
    except OSError:
        return False
    return meta.get("origin_size") == st.st_size and meta.get("origin_mtime_ns") == st.st_mtime_ns


def _resolve_source(dataset: str) -> _Source | None:
    if dataset == "sample":
        from .embedded import load_sample_reviews, sample_manifest

        m = sample_manifest()
        return _Source("sample", "sample (embedded)", m["sha256"], load_sample_reviews)

    meta = read_imdb_meta()
    env = os.environ.get(ENV_IMDB_PATH)
    if env:
        p = Path(env).expanduser().resolve()
        if not p.exists():
            raise UserError(f"data: ${ENV_IMDB_PATH} points to {p}, which does not exist")
        if meta is None or not _same_origin(meta, p):
            from .importer import import_imdb

            import_imdb(p)
            meta = read_imdb_meta()
    if meta is None:
        return None
    return _Source("imdb", f"imdb (imported from {meta.get('origin')})", meta["sha256"], lambda: load_imported_reviews(meta))


def _need_source(dataset: str) -> _Source:
    src = _resolve_source(dataset)
    if src is None:
        raise UserError(f"data: the full IMDB data set is not here ({dataset!r})", hint=HOW_TO_GET)
    return src


# --------------------------------------------------------------------------------- tokens

_TOKEN_ARRAYS = ("train_values", "train_offsets", "y_train", "test_values", "test_offsets", "y_test")


@dataclass
class _Tokens:
    train: Ragged
    y_train: np.ndarray  # int8 0/1, file order
    test: Ragged
    y_test: np.ndarray
    n_vocab: int  # rnnbench: words in the vocabulary; keras: words in the word index


def _tokens(src: _Source, encoding: str, wi_sha: str | None) -> _Tokens:
    key = cache.make_key(
        {"kind": "tokens", "dataset": src.dataset, "encoding": encoding, "source_sha256": src.sha256, "word_index_sha256": wi_sha}
    )
    path = cache.tokens_path(src.dataset, encoding, key)
    got = cache.load_npz(path, _TOKEN_ARRAYS)
    if got is not None:
        a, meta = got
        return _Tokens(
            Ragged(a["train_values"], a["train_offsets"]),
            a["y_train"],
            Ragged(a["test_values"], a["test_offsets"]),
            a["y_test"],
            int(meta["n_vocab"]),
        )
    reviews = src.load()
    if encoding == "keras":
        lookup = read_word_index(word_index_path())
        tr = texts_to_ids(reviews.train.texts, lookup)
        te = texts_to_ids(reviews.test.texts, lookup)
        n_vocab = len(lookup)
    else:
        tr, vocab = rank_ids(reviews.train.texts)
        lookup = {w: i for i, w in enumerate(vocab, start=1)}
        te = texts_to_ids(reviews.test.texts, lookup, unknown=0)
        n_vocab = len(vocab)
    toks = _Tokens(tr, reviews.train.labels, te, reviews.test.labels, n_vocab)
    cache.save_npz(
        path,
        {
            "train_values": tr.values,
            "train_offsets": tr.offsets,
            "y_train": toks.y_train,
            "test_values": te.values,
            "test_offsets": te.offsets,
            "y_test": toks.y_test,
        },
        {
            "kind": "tokens",
            "dataset": src.dataset,
            "encoding": encoding,
            "source": src.description,
            "source_sha256": src.sha256,
            "word_index_sha256": wi_sha,
            "n_vocab": n_vocab,
        },
    )
    return toks


# ------------------------------------------------------------------------------- encoding


def _check_size(n: int | None, available: int, what: str, dataset: str) -> None:
    if n is not None and n > available:
        raise UserError(
            f"data: {what}={n:,} but {dataset!r} has only {available:,} reviews in that split",
            hint="use a smaller size" + (", or dataset imdb" if dataset == "sample" else ""),
        )


def _head(r: Ragged, y: np.ndarray, n: int | None, what: str, dataset: str) -> tuple[Ragged, np.ndarray]:
    if n is None:
        return r, y
    _check_size(n, len(r), what, dataset)
    return r.split_at(n)[0], y[:n]


def _encode(t: _Tokens, spec: DataSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    if spec.encoding == "keras":
        (xtr, ytr), (xte, yte) = keras_load_data(
            t.train, t.y_train, t.test, t.y_test, num_words=spec.num_words, skip_top=spec.skip_top, maxlen=None, seed=spec.seed
        )
        xtr, ytr = _head(xtr, ytr, spec.train_size, "train_size", spec.dataset)
        xte, yte = _head(xte, yte, spec.test_size, "test_size", spec.dataset)
        vocab_size = spec.num_words or int(max(xtr.values.max(initial=0), xte.values.max(initial=0))) + 1
    else:
        rng = np.random.RandomState(spec.seed)
        itr = shuffle_indices(len(t.train), rng)
        ite = shuffle_indices(len(t.test), rng)
        _check_size(spec.train_size, len(itr), "train_size", spec.dataset)
        _check_size(spec.test_size, len(ite), "test_size", spec.dataset)
        itr = itr[: spec.train_size] if spec.train_size else itr
        ite = ite[: spec.test_size] if spec.test_size else ite
        xtr = rnnbench_ids(t.train.take(itr), spec.num_words, spec.skip_top)
        xte = rnnbench_ids(t.test.take(ite), spec.num_words, spec.skip_top)
        ytr, yte = t.y_train[itr], t.y_test[ite]
        vocab_size = spec.num_words or t.n_vocab + INDEX_FROM + 1  # ranks 1..V -> ids up to V + 3
    maxlen = spec.maxlen
    if maxlen is None:
        maxlen = int(max(xtr.lengths.max(initial=0), xte.lengths.max(initial=0)))
    x_train = pad_ragged(xtr, maxlen, np.int32, spec.padding, spec.truncating)
    x_test = pad_ragged(xte, maxlen, np.int32, spec.padding, spec.truncating)
    return x_train, ytr.astype(np.float32), x_test, yte.astype(np.float32), int(vocab_size)


_ENCODED_ARRAYS = ("x_train", "y_train", "x_test", "y_test")


def _from_cache(path: Path) -> EncodedData | None:
    got = cache.load_npz(path, _ENCODED_ARRAYS)
    if got is None:
        return None
    a, meta = got
    return EncodedData(
        a["x_train"], a["y_train"], a["x_test"], a["y_test"],
        vocab_size=int(meta["vocab_size"]),
        source=meta["source"],
        source_sha256=meta["source_sha256"],
        cache_path=str(path),
    )


def _cached_without_source(spec: DataSpec, source_sha256: str | None = None) -> EncodedData | None:
    """An encoded cache for ``spec`` (newest first) when the source or word index is not here."""
    want = spec.to_dict()
    hits = []
    for p in cache.list_cache_files():
        if not p.name.startswith(f"{spec.dataset}-") or p.name.startswith(f"{spec.dataset}-tokens-"):
            continue
        meta = cache.read_meta(p)
        if not meta or meta.get("kind") != "encoded" or meta.get("spec") != want:
            continue
        if source_sha256 is None or meta.get("source_sha256") == source_sha256:
            hits.append((p.stat().st_mtime_ns, p))
    for _, p in sorted(hits, reverse=True):
        got = _from_cache(p)
        if got is not None:
            return got
    return None


def cache_key(spec: DataSpec, source_sha256: str, word_index_sha256: str | None) -> str:
    return cache.make_key(
        {
            "kind": "encoded",
            "source_sha256": source_sha256,
            "word_index_sha256": word_index_sha256 if spec.encoding == "keras" else None,
            "spec": spec.to_dict(),
        }
    )


MISSING_DATA, MISSING_WORD_INDEX = "imdb", "word-index"  # what `rnnbench data fetch` (and run --fetch) get


def missing_items(spec: DataSpec) -> list[str]:
    """What keeps ``spec`` from loading here — :data:`MISSING_DATA` and/or
    :data:`MISSING_WORD_INDEX` — without reading or encoding anything."""
    if spec.dataset == "sample":
        return []
    src = _resolve_source(spec.dataset)
    if src is None:
        return [] if _cached_without_source(spec) is not None else [MISSING_DATA]
    if spec.encoding == "keras" and not word_index_path().exists() and _cached_without_source(spec, src.sha256) is None:
        return [MISSING_WORD_INDEX]
    return []


def missing_for(spec: DataSpec) -> list[str]:
    """What keeps ``spec`` from loading here (empty when it can), each with the command that
    fixes it, so a run can check every cell up front."""
    say = {MISSING_DATA: f"the full IMDB data set is not here: {HOW_TO_GET}",
           MISSING_WORD_INDEX: "the keras encoding needs Keras's IMDB word index, which is not installed: run "
                               "`rnnbench data import imdb_word_index.json` or `rnnbench data fetch word-index`"}
    return [say[m] for m in missing_items(spec)]


def load_dataset(spec: DataSpec) -> EncodedData:
    """Encoded, padded arrays for ``spec``, from the cache when possible (see module doc)."""
    if not isinstance(spec, DataSpec):
        raise TypeError(f"load_dataset expects a DataSpec, got {type(spec).__name__}")
    src = _resolve_source(spec.dataset)
    wi_sha = None
    if src is not None and spec.encoding == "keras":
        if not word_index_path().exists():
            hit = _cached_without_source(spec, src.sha256)
            if hit is not None:
                return hit
        wi_sha = file_sha256(require_word_index())
    if src is None:
        hit = _cached_without_source(spec)
        if hit is not None:
            return hit
        raise UserError("data: the full IMDB data set is not here", hint=HOW_TO_GET)

    path = cache.encoded_path(spec.dataset, cache_key(spec, src.sha256, wi_sha))
    hit = _from_cache(path)
    if hit is not None:
        return hit
    toks = _tokens(src, spec.encoding, wi_sha)
    x_train, y_train, x_test, y_test, vocab_size = _encode(toks, spec)
    saved = cache.save_npz(
        path,
        {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test},
        {
            "kind": "encoded",
            "dataset": spec.dataset,
            "spec": spec.to_dict(),
            "source": src.description,
            "source_sha256": src.sha256,
            "word_index_sha256": wi_sha,
            "vocab_size": vocab_size,
        },
    )
    return EncodedData(
        x_train, y_train, x_test, y_test, vocab_size, src.description, src.sha256, str(saved) if saved else None
    )


# -------------------------------------------------------------------------------- export


def _object_array(r: Ragged) -> np.ndarray:
    out = np.empty(len(r), dtype=object)
    for i, row in enumerate(r.to_lists()):
        out[i] = row
    return out


def keras_arrays(
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    *,
    dataset: str = "imdb",
    seed: int = 113,
) -> tuple[tuple[Ragged, np.ndarray], tuple[Ragged, np.ndarray]]:
    """What ``keras.datasets.imdb.load_data(num_words, skip_top, maxlen, seed)`` returns, as Ragged."""
    DataSpec(dataset=dataset, encoding="keras", num_words=num_words, maxlen=maxlen, skip_top=skip_top, seed=seed)
    src = _need_source(dataset)
    wi_sha = file_sha256(require_word_index())
    t = _tokens(src, "keras", wi_sha)
    try:
        (xtr, ytr), (xte, yte) = keras_load_data(
            t.train, t.y_train.astype(np.int64), t.test, t.y_test.astype(np.int64),
            num_words=num_words, skip_top=skip_top, maxlen=maxlen, seed=seed,
        )
    except ValueError as e:
        raise UserError(f"data: {e}") from None
    return (xtr, ytr), (xte, yte)


def export_keras(
    out: Path,
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    pad: bool = False,
    *,
    dataset: str = "imdb",
    seed: int = 113,
) -> Path:
    """Write x_train, y_train, x_test, y_test as ``keras.datasets.imdb.load_data`` returns them.

    Without ``pad``: object arrays of int lists (load with ``allow_pickle=True``), labels int64.
    With ``pad``: int32 matrices pre-padded to ``maxlen`` (or to the longest review of both
    splits when maxlen is None); nothing is truncated, since Keras's maxlen filter keeps only
    reviews shorter than maxlen.
    """
    out = Path(out).expanduser()
    if out.suffix != ".npz":
        raise UserError(f"data: export file must end in .npz, got {out}")
    (xtr, ytr), (xte, yte) = keras_arrays(num_words, skip_top, maxlen, dataset=dataset, seed=seed)
    if pad:
        width = maxlen or int(max(xtr.lengths.max(initial=0), xte.lengths.max(initial=0)))
        x_train, x_test = pad_ragged(xtr, width, np.int32), pad_ragged(xte, width, np.int32)
    else:
        x_train, x_test = _object_array(xtr), _object_array(xte)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            np.savez(f, x_train=x_train, y_train=ytr.astype(np.int64), x_test=x_test, y_test=yte.astype(np.int64))
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return out
