"""IMDB review data for the benchmarks: sources, tokenization, encodings, cache.

* ``load_dataset(DataSpec(...))`` -> :class:`EncodedData` (padded int32 ids, float32 labels).
  ``dataset="sample"`` (2,000 + 2,000 reviews embedded in the package, always there) or
  ``"imdb"`` (the full 25,000 + 25,000, after ``import_imdb`` / ``fetch_imdb``).
  ``encoding="rnnbench"`` ranks words over the source's training split;
  ``encoding="keras"`` reproduces ``keras.datasets.imdb.load_data`` from the raw text and
  Keras's word index.
* Encoded arrays are cached under ``cache_dir()`` keyed by the source's content hash and
  every encoding parameter.

No framework is imported here; only numpy (and rich for progress bars, lazily).
"""

from __future__ import annotations

from .encoding import pad_sequences
from .fetch import CANONICAL_SHA256, CANONICAL_URL, KERAS_WORD_INDEX_URL, fetch_imdb, fetch_word_index
from .importer import import_imdb, import_word_index
from .loader import cache_key, export_keras, keras_arrays, load_dataset
from .spec import INDEX_FROM, OOV_CHAR, PAD_CHAR, START_CHAR, DataSpec, EncodedData, ImportInfo
from .status import data_status
from .tokenize import text_to_words

__all__ = [
    "CANONICAL_SHA256",
    "CANONICAL_URL",
    "INDEX_FROM",
    "KERAS_WORD_INDEX_URL",
    "OOV_CHAR",
    "PAD_CHAR",
    "START_CHAR",
    "DataSpec",
    "EncodedData",
    "ImportInfo",
    "cache_key",
    "data_status",
    "export_keras",
    "fetch_imdb",
    "fetch_word_index",
    "import_imdb",
    "import_word_index",
    "keras_arrays",
    "load_dataset",
    "pad_sequences",
    "text_to_words",
]
