"""``rnnbench data fetch``: download (urllib, streamed, sha256-checked), then import."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from rnnbench.errors import UserError
from rnnbench.paths import data_dir

from .importer import OFFICIAL_COUNTS, import_imdb, import_word_index
from .sources import KERAS_WORD_INDEX_SHA256, make_progress
from .spec import ImportInfo

CANONICAL_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
CANONICAL_SHA256 = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"
KERAS_WORD_INDEX_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb_word_index.json"

_CHUNK = 1 << 20


def _check_hex(sha256: str) -> str:
    s = (sha256 or "").strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", s):
        raise UserError(f"data: --sha256 must be 64 hex digits, got {sha256!r}")
    return s


def download(url: str, sha256: str, *, progress: bool = True, timeout: float = 60.0) -> Path:
    """Stream ``url`` to a temporary file under data_dir()/downloads and check its sha256.

    Returns the file (the caller removes it). Network errors and a checksum mismatch are
    UserErrors; the partial or wrong file is removed.
    """
    want = _check_hex(sha256)
    d = data_dir() / "downloads"
    d.mkdir(parents=True, exist_ok=True)
    name = Path(urllib.parse.urlparse(url).path).name or "download"
    fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=d)
    tmp = Path(tmp_name)
    h = hashlib.sha256()
    ok = False
    bar = None
    try:
        req = urllib.request.Request(url, headers={"User-Agent": "rnnbench (urllib)"})
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - user-chosen URL
            total = resp.headers.get("Content-Length")
            bar = make_progress(progress, "bytes")
            if bar:
                task = bar.add_task(f"downloading {name}", total=int(total) if total and total.isdigit() else None)
                bar.start()
            while True:
                chunk = resp.read(_CHUNK)
                if not chunk:
                    break
                out.write(chunk)
                h.update(chunk)
                if bar:
                    bar.update(task, advance=len(chunk))
        got = h.hexdigest()
        if got != want:
            raise UserError(
                f"data: {url} has sha256 {got}, expected {want}; the download was removed",
                hint="a wrong or damaged file; try again, or pass --sha256 if the source changed on purpose",
            )
        ok = True
        return tmp
    except urllib.error.HTTPError as e:
        raise UserError(f"data: cannot download {url}: HTTP {e.code} {e.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", e)
        raise UserError(
            f"data: cannot download {url}: {reason}",
            hint="no internet here? download aclImdb_v1.tar.gz elsewhere and run `rnnbench data import PATH`",
        ) from None
    finally:
        if bar:
            bar.stop()
        if not ok:
            tmp.unlink(missing_ok=True)


def fetch_imdb(
    url: str = CANONICAL_URL,
    sha256: str = CANONICAL_SHA256,
    progress: bool = True,
    *,
    expect_counts: tuple[int, int] | None = OFFICIAL_COUNTS,
) -> ImportInfo:
    """Download the aclImdb tarball, check its sha256, import it, remove the download."""
    tmp = download(url, sha256, progress=progress)
    try:
        return import_imdb(tmp, progress=progress, expect_counts=expect_counts, origin_label=url)
    finally:
        tmp.unlink(missing_ok=True)


def fetch_word_index(
    url: str = KERAS_WORD_INDEX_URL, sha256: str = KERAS_WORD_INDEX_SHA256, progress: bool = True
) -> Path:
    """Download Keras's imdb_word_index.json (for the keras encoding) and install it."""
    tmp = download(url, sha256, progress=progress)
    try:
        return import_word_index(tmp)
    finally:
        tmp.unlink(missing_ok=True)


def fetch_items(items: tuple[str, ...] | list[str], progress: bool = True) -> list[str]:
    """Download and install each of ``items`` ("imdb", "word-index") for ``run --fetch``; one
    line each saying what was installed. The data set comes from ``$RNNBENCH_IMDB_URL`` (with
    ``$RNNBENCH_IMDB_SHA256``) when set — a mirror, or a file:// copy — else from Stanford."""
    out = []
    for item in items:
        if item == "imdb":
            url = os.environ.get("RNNBENCH_IMDB_URL") or CANONICAL_URL
            sha = os.environ.get("RNNBENCH_IMDB_SHA256") or (CANONICAL_SHA256 if url == CANONICAL_URL else "")
            if not sha:
                raise UserError("RNNBENCH_IMDB_URL is set without RNNBENCH_IMDB_SHA256",
                                hint="give the sha256 of the tarball at that URL: nothing is imported unchecked")
            info = fetch_imdb(url, sha, progress=progress)
            out.append(f"fetched the IMDB data set from {url} ({info.n_train:,} train, {info.n_test:,} test reviews)")
        elif item == "word-index":
            out.append(f"fetched Keras's word index → {fetch_word_index(progress=progress)}")
    return out
