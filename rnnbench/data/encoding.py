"""Reviews -> integer ids -> padded matrices, in numpy (no framework import).

Sequences are held as :class:`Ragged` (one flat value array plus row offsets) so that the
Keras steps run vectorized; they are step for step those of ``keras.datasets.imdb.load_data``
(see :func:`keras_load_data`) and ``keras.utils.pad_sequences`` (see :func:`pad_sequences`).

The two encodings
-----------------
* ``keras``: each word's id is its value in Keras's word index (1 = most frequent in Keras's
  training split) plus ``index_from``; words missing from the index are dropped (as in
  ``imdb.npz``). ``skip_top`` and ``num_words`` then act on the ids exactly as Keras does:
  ids outside ``[skip_top, num_words)`` become ``oov_char`` (so, like Keras, ``skip_top >= 2``
  also turns the start char 1 into 2).
* ``rnnbench``: the vocabulary is every word of the source's *training* split, ranked by
  count (descending), ties broken alphabetically (by code point), so rank 1 = most frequent;
  a word's id is ``rank + index_from``. Test words never seen in training become
  ``oov_char`` (Keras would drop them). ``skip_top=K`` turns the K most frequent *words*
  (ids ``index_from .. index_from+K-1``) into ``oov_char``; the start char is kept.
  ``num_words`` keeps ids < num_words, others become ``oov_char``.
"""

from __future__ import annotations

from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import count, repeat

import numpy as np

from .spec import INDEX_FROM, OOV_CHAR, START_CHAR
from .tokenize import raw_split

_DROP = -1  # sentinel id: the word is dropped (empty strings; unknown words in keras mode)


@dataclass
class Ragged:
    """Variable-length integer rows: row i is ``values[offsets[i]:offsets[i+1]]``."""

    values: np.ndarray
    offsets: np.ndarray  # int64, len n + 1, offsets[0] == 0

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @classmethod
    def from_lengths(cls, values: np.ndarray, lengths: np.ndarray) -> Ragged:
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return cls(values, offsets)

    @classmethod
    def from_lists(cls, rows: Iterable[Sequence[int]], dtype=np.int32) -> Ragged:  # noqa: ANN001
        rows = [list(r) for r in rows]
        lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
        flat = np.fromiter((v for r in rows for v in r), dtype=dtype, count=int(lengths.sum()))
        return cls.from_lengths(flat, lengths)

    def row(self, i: int) -> np.ndarray:
        return self.values[self.offsets[i] : self.offsets[i + 1]]

    def to_lists(self) -> list[list[int]]:
        return [a.tolist() for a in np.split(self.values, self.offsets[1:-1])] if len(self) else []

    def take(self, idx: np.ndarray) -> Ragged:
        idx = np.asarray(idx, dtype=np.int64)
        lens = self.lengths[idx]
        out = Ragged.from_lengths(np.empty(0, self.values.dtype), lens)
        total = int(out.offsets[-1])
        shift = np.repeat(self.offsets[:-1][idx] - out.offsets[:-1], lens)
        src = np.arange(total, dtype=np.int64) + shift
        out.values = self.values[src]
        return out

    def filter_values(self, keep: np.ndarray) -> Ragged:
        """Drop the values where ``keep`` is False, keeping the rows."""
        ck = np.zeros(len(keep) + 1, dtype=np.int64)
        np.cumsum(keep, out=ck[1:])
        return Ragged(self.values[keep], ck[self.offsets])

    def prepend(self, value: int) -> Ragged:
        n = len(self)
        out = Ragged.from_lengths(np.empty(0, self.values.dtype), self.lengths + 1)
        vals = np.empty(len(self.values) + n, dtype=self.values.dtype)
        is_start = np.zeros(len(vals), dtype=bool)
        is_start[out.offsets[:-1]] = True
        vals[is_start] = value
        vals[~is_start] = self.values
        out.values = vals
        return out

    def concat(self, other: Ragged) -> Ragged:
        return Ragged(
            np.concatenate([self.values, other.values]),
            np.concatenate([self.offsets, other.offsets[1:] + self.offsets[-1]]),
        )

    def split_at(self, n: int) -> tuple[Ragged, Ragged]:
        a = Ragged(self.values[: self.offsets[n]], self.offsets[: n + 1].copy())
        b = Ragged(self.values[self.offsets[n] :], self.offsets[n:] - self.offsets[n])
        return a, b


# --------------------------------------------------------------------------- tokens -> ids


def texts_to_ids(texts: Sequence[str], lookup: dict[str, int], unknown: int = _DROP) -> Ragged:
    """Map each text's words through ``lookup``; unknown words get ``unknown`` (-1 = drop)."""
    lookup = dict(lookup)
    lookup[""] = _DROP
    get = lookup.get
    flat = array("i")
    lengths = np.empty(len(texts), dtype=np.int64)
    for i, text in enumerate(texts):
        before = len(flat)
        flat.extend(map(get, raw_split(text), repeat(unknown)))
        lengths[i] = len(flat) - before
    r = Ragged.from_lengths(np.frombuffer(flat, dtype=np.int32).copy(), lengths)
    keep = r.values != _DROP
    return r if keep.all() else r.filter_values(keep)


def rank_ids(texts: Sequence[str]) -> tuple[Ragged, list[str]]:
    """Vocabulary ranks of ``texts``' words (1 = most frequent, ties alphabetical) in one pass.

    Same result as ``rank_vocabulary(count_words(texts))`` + ``texts_to_ids``, but each text is
    split once: words get provisional ids in order of first occurrence (a defaultdict fed by
    a counter, at C speed), ``np.bincount`` counts them, and a permutation maps them to ranks.
    """
    provisional: defaultdict[str, int] = defaultdict(count().__next__)
    provisional[""]  # id 0: the empty strings between double spaces, dropped below
    getitem = provisional.__getitem__
    flat = array("i")
    lengths = np.empty(len(texts), dtype=np.int64)
    for i, text in enumerate(texts):
        before = len(flat)
        flat.extend(map(getitem, raw_split(text)))
        lengths[i] = len(flat) - before
    words = list(provisional)  # insertion order == provisional id
    prov = np.frombuffer(flat, dtype=np.int32)
    counts = np.bincount(prov, minlength=len(words)).tolist()
    order = sorted(range(1, len(words)), key=lambda i: (-counts[i], words[i]))
    rank_of = np.zeros(len(words), dtype=np.int32)
    rank_of[order] = np.arange(1, len(order) + 1, dtype=np.int32)
    r = Ragged.from_lengths(rank_of[prov], lengths)
    return r.filter_values(prov != 0), [words[i] for i in order]


def count_words(texts: Iterable[str]) -> Counter:
    c: Counter = Counter()
    for text in texts:
        c.update(raw_split(text))
    c.pop("", None)
    return c


def rank_vocabulary(counts: Counter) -> list[str]:
    """Words by count (descending), ties alphabetically: element 0 has rank 1."""
    return [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def shuffle_indices(n: int, rng: np.random.RandomState) -> np.ndarray:
    idx = np.arange(n)
    rng.shuffle(idx)
    return idx


# ------------------------------------------------------------------------------ padding


def pad_ragged(
    seqs: Ragged,
    maxlen: int | None = None,
    dtype=np.int32,  # noqa: ANN001
    padding: str = "pre",
    truncating: str = "pre",
    value: int = 0,
) -> np.ndarray:
    """``keras.utils.pad_sequences`` for a :class:`Ragged`, vectorized."""
    if padding not in ("pre", "post"):
        raise ValueError(f'Padding type "{padding}" not understood')
    if truncating not in ("pre", "post"):
        raise ValueError(f'Truncating type "{truncating}" not understood')
    n = len(seqs)
    lens = seqs.lengths
    if maxlen is None:
        maxlen = int(lens.max()) if n else 0
    if maxlen < 0:
        raise ValueError(f"maxlen must be >= 0, got {maxlen}")
    out = np.full((n, maxlen), value, dtype=dtype)
    if maxlen == 0 or n == 0:
        return out
    kept = np.minimum(lens, maxlen)
    if truncating == "pre":
        src_start = seqs.offsets[1:] - kept
    else:
        src_start = seqs.offsets[:-1]
    dst_col = (maxlen - kept) if padding == "pre" else np.zeros(n, dtype=np.int64)
    total = int(kept.sum())
    row_start = np.zeros(n, dtype=np.int64)
    np.cumsum(kept[:-1], out=row_start[1:])
    within = np.arange(total, dtype=np.int64) - np.repeat(row_start, kept)
    rows = np.repeat(np.arange(n, dtype=np.int64), kept)
    out[rows, np.repeat(dst_col, kept) + within] = seqs.values[np.repeat(src_start, kept) + within]
    return out


def pad_sequences(
    sequences: Sequence[Sequence[int]],
    maxlen: int | None = None,
    dtype="int32",  # noqa: ANN001
    padding: str = "pre",
    truncating: str = "pre",
    value: int = 0,
) -> np.ndarray:
    """Same contract as ``keras.utils.pad_sequences`` for integer sequences."""
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
    if maxlen == 0:
        # Keras slices s[-0:] (the whole row) and then fails to fit it; be explicit instead
        raise ValueError("maxlen must be >= 1 (or None)")
    r = sequences if isinstance(sequences, Ragged) else Ragged.from_lists(sequences, dtype=np.int64)
    return pad_ragged(r, maxlen, np.dtype(dtype), padding, truncating, value)


# ------------------------------------------------------------------------- keras load_data


def keras_load_data(
    x_train: Ragged,
    labels_train: np.ndarray,
    x_test: Ragged,
    labels_test: np.ndarray,
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    seed: int = 113,
    start_char: int | None = START_CHAR,
    oov_char: int | None = OOV_CHAR,
    index_from: int = INDEX_FROM,
) -> tuple[tuple[Ragged, np.ndarray], tuple[Ragged, np.ndarray]]:
    """``keras.datasets.imdb.load_data`` on the contents of ``imdb.npz``, step for step.

    ``x_*`` hold raw word-index values (as in ``imdb.npz``), in file order. Raises
    ValueError, as Keras does, when the maxlen filter leaves a split empty.
    """
    rng = np.random.RandomState(seed)
    indices = shuffle_indices(len(x_train), rng)
    x_train = x_train.take(indices)
    labels_train = np.asarray(labels_train)[indices]

    indices = shuffle_indices(len(x_test), rng)
    x_test = x_test.take(indices)
    labels_test = np.asarray(labels_test)[indices]

    def offset(r: Ragged) -> Ragged:
        return Ragged(r.values + index_from, r.offsets) if index_from else r

    if start_char is not None:
        x_train = offset(x_train).prepend(start_char)
        x_test = offset(x_test).prepend(start_char)
    else:
        x_train = offset(x_train)
        x_test = offset(x_test)

    if maxlen:
        keep = np.nonzero(x_train.lengths < maxlen)[0]
        x_train, labels_train = x_train.take(keep), labels_train[keep]
        keep = np.nonzero(x_test.lengths < maxlen)[0]
        x_test, labels_test = x_test.take(keep), labels_test[keep]
        if not len(x_train) or not len(x_test):
            raise ValueError(
                "After filtering for sequences shorter than maxlen="
                f"{maxlen}, no sequence was kept. Increase maxlen."
            )

    xs = x_train.concat(x_test)
    labels = np.concatenate([labels_train, labels_test])

    if not num_words:
        num_words = int(xs.values.max())

    in_range = (xs.values >= skip_top) & (xs.values < num_words)
    if oov_char is not None:
        xs = Ragged(np.where(in_range, xs.values, oov_char).astype(xs.values.dtype), xs.offsets)
    else:
        xs = xs.filter_values(in_range)

    idx = len(x_train)
    x_train, x_test = xs.split_at(idx)
    return (x_train, labels[:idx]), (x_test, labels[idx:])


# ------------------------------------------------------------------------- rnnbench ids


def rnnbench_ids(
    ranks: Ragged,
    num_words: int | None,
    skip_top: int,
    start_char: int = START_CHAR,
    oov_char: int = OOV_CHAR,
    index_from: int = INDEX_FROM,
) -> Ragged:
    """Vocabulary ranks (1 = most frequent, 0 = unseen in training) -> final ids with start char."""
    v = ranks.values.astype(np.int32)
    ids = v + index_from
    oov = (v == 0) | (v <= skip_top)
    if num_words:
        oov |= ids >= num_words
    ids = np.where(oov, oov_char, ids).astype(np.int32)
    return Ragged(ids, ranks.offsets).prepend(start_char)
