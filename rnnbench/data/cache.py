"""The encoded-array cache under :func:`rnnbench.paths.cache_dir`.

* ``<dataset>-<key>.npz``: a finished :class:`EncodedData` (x/y train/test), key = sha256 of the
  source's content hash, the word index's hash (keras encoding), every :class:`DataSpec`
  field and the code that encodes (:func:`code_version`: a change to the encoding is never
  served stale from an older cache). Uncompressed, so loading 25,000 x 200 int32 takes milliseconds.
* ``<dataset>-tokens-<encoding>-<key>.npz``: the tokenized reviews before shuffling, ``num_words``
  and padding (raw word-index values for keras, vocabulary ranks for rnnbench), so another
  ``num_words``/``maxlen`` does not tokenize 50,000 reviews again.

Each file holds a ``meta`` entry (a JSON string, no pickle). Files are written to a temporary
name in the same folder and moved into place with ``os.replace``.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from rnnbench.paths import cache_dir

CACHE_VERSION = 1


@lru_cache(maxsize=1)
def code_version() -> str:
    """A hash of the data package's source: every module that reads, tokenizes or encodes."""
    h = hashlib.sha256()
    for f in sorted(Path(__file__).parent.glob("*.py")):
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:16]


def make_key(fields: dict[str, Any]) -> str:
    blob = json.dumps({"v": CACHE_VERSION, "code": code_version(), **fields}, sort_keys=True,
                      separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def encoded_path(dataset: str, key: str) -> Path:
    return cache_dir() / f"{dataset}-{key}.npz"


def tokens_path(dataset: str, encoding: str, key: str) -> Path:
    return cache_dir() / f"{dataset}-tokens-{encoding}-{key}.npz"


def _create_tmp(path: Path) -> tuple[int, str]:
    """A new temporary file next to ``path``, created with the usual umask (unlike mkstemp)."""
    for _ in range(100):
        tmp = str(path.parent / f".{path.stem}.{os.getpid()}-{os.urandom(4).hex()}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue
    raise OSError(f"cannot create a temporary file in {path.parent}")


def save_npz(path: Path, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> Path | None:
    """Write atomically; returns None (and leaves nothing behind) if the folder is not writable."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = _create_tmp(path)
    except OSError:
        return None
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, meta=np.array(json.dumps(meta, sort_keys=True)), **arrays)
        os.replace(tmp, path)
    except OSError:
        return None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def load_npz(path: Path, names: tuple[str, ...]) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
    """The named arrays and meta of a cache file, or None when it is missing or unreadable."""
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {n: z[n] for n in names}
            meta = json.loads(str(z["meta"]))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, EOFError):
        return None
    return arrays, meta


def read_meta(path: Path) -> dict[str, Any] | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            return json.loads(str(z["meta"]))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, EOFError):
        return None


def list_cache_files() -> list[Path]:
    d = cache_dir()
    if not d.is_dir():
        return []
    return sorted(p for p in d.glob("*.npz") if not p.name.startswith("."))
