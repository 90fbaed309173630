"""The data-set request (:class:`DataSpec`) and what comes back (:class:`EncodedData`, :class:`ImportInfo`).

Id conventions (both encodings, as in ``keras.datasets.imdb``): 0 = padding, 1 = start of a
review, 2 = out of vocabulary; words get ``rank + INDEX_FROM`` (the most frequent word is 4).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rnnbench.errors import UserError

PAD_CHAR = 0
START_CHAR = 1
OOV_CHAR = 2
INDEX_FROM = 3

DATASETS = ("sample", "imdb")
ENCODINGS = ("rnnbench", "keras")
SIDES = ("pre", "post")


def _check_opt_int(name: str, value: Any, minimum: int) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise UserError(f"data: {name} must be an integer or None, got {value!r}")
    if value < minimum:
        raise UserError(f"data: {name} must be >= {minimum}, got {value}")


@dataclass(frozen=True)
class DataSpec:
    """Which data set to load and how to encode it.

    * ``dataset``: ``"sample"`` (the 2,000 + 2,000 reviews embedded in the package) or
      ``"imdb"`` (the full 25,000 + 25,000, from an imported or fetched copy).
    * ``encoding``: ``"rnnbench"`` (vocabulary ranked by frequency over the source's training
      split, ties broken alphabetically) or ``"keras"`` (exactly ``keras.datasets.imdb``:
      Keras's word index; then padded like the classic Keras IMDB examples).
    * ``num_words`` / ``skip_top``: ids >= num_words become 2 (OOV); see :mod:`.encoding` for
      how ``skip_top`` differs between the two encodings.
    * ``maxlen`` / ``padding`` / ``truncating``: ``keras.utils.pad_sequences`` semantics;
      ``maxlen=None`` pads to the longest review of both splits.
    * ``train_size`` / ``test_size``: the first N of the shuffled split (None = all).
    * ``seed``: ``np.random.RandomState(seed)`` shuffles train, then test.
    """

    dataset: str = "sample"
    encoding: str = "rnnbench"
    num_words: int | None = 20000
    maxlen: int | None = 200
    padding: str = "pre"
    truncating: str = "pre"
    skip_top: int = 0
    train_size: int | None = None
    test_size: int | None = None
    seed: int = 113

    def __post_init__(self) -> None:
        if self.dataset not in DATASETS:
            raise UserError(
                f"data: unknown dataset {self.dataset!r}", hint=f"choose one of {', '.join(DATASETS)}"
            )
        if self.encoding not in ENCODINGS:
            raise UserError(
                f"data: unknown encoding {self.encoding!r}",
                hint=f"choose one of {', '.join(ENCODINGS)}",
            )
        for name in ("padding", "truncating"):
            if getattr(self, name) not in SIDES:
                raise UserError(f"data: {name} must be 'pre' or 'post', got {getattr(self, name)!r}")
        _check_opt_int("num_words", self.num_words, 1)
        _check_opt_int("maxlen", self.maxlen, 1)
        _check_opt_int("skip_top", self.skip_top, 0)
        if self.skip_top is None:
            raise UserError("data: skip_top must be an integer >= 0, got None")
        _check_opt_int("train_size", self.train_size, 1)
        _check_opt_int("test_size", self.test_size, 1)
        _check_opt_int("seed", self.seed, 0)
        if self.seed is None:
            raise UserError("data: seed must be an integer >= 0, got None")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, eq=False)
class EncodedData:
    """Padded int32 id matrices and float32 0/1 labels, ready for an Embedding layer."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    vocab_size: int
    source: str
    source_sha256: str
    cache_path: str | None
    x_val: np.ndarray | None = None  # held out of the training split (see :mod:`.split`)
    y_val: np.ndarray | None = None


@dataclass(frozen=True)
class ImportInfo:
    """What :func:`import_imdb` / :func:`fetch_imdb` stored."""

    path: Path  # the directory under data_dir() holding the normalized copy
    origin: str  # what it was read from
    n_train: int
    n_test: int
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # split -> {pos, neg}
    sha256: str = ""  # of the normalized content
    origin_sha256: str | None = None  # of the tarball, when the origin was one
    word_index: Path | None = None
    seconds: float = 0.0
