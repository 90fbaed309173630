"""The normalized on-disk form of labelled reviews (the imported copy and the embedded sample).

One gzip'd UTF-8 text file::

    #rnnbench-reviews<TAB>v1
    <split><TAB><label><TAB><file name><TAB><text>
    ...

``split`` is ``train`` or ``test``, ``label`` 1 (pos) or 0 (neg); rows are train then test,
each split's pos files then neg files, each sorted by file name (Keras's order). In the text,
backslash, tab, newline and carriage return are escaped as ``\\\\``, ``\\t``, ``\\n``, ``\\r``.
The content hash (``sha256``) is over the uncompressed bytes, so the same reviews give the
same hash whatever they were imported from (official tarball, labelled tarball, folder).
The gzip header carries no name or time, so the file bytes are deterministic too.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnbench.errors import UserError

HEADER = "#rnnbench-reviews\tv1"
SPLITS = ("train", "test")
LABELS = (("pos", 1), ("neg", 0))

_ESC = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}
_UNESC = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}
_ESC_RE = re.compile(r"[\\\t\n\r]")
_UNESC_RE = re.compile(r"\\(.)", re.S)


def _escape(text: str) -> str:
    if _ESC_RE.search(text) is None:
        return text
    return _ESC_RE.sub(lambda m: _ESC[m.group(0)], text)


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    return _UNESC_RE.sub(lambda m: _UNESC.get(m.group(1), m.group(1)), text)


@dataclass
class Split:
    texts: list[str]
    labels: np.ndarray  # int8, 1 = pos, 0 = neg
    names: list[str]

    def __len__(self) -> int:
        return len(self.texts)

    def counts(self) -> dict[str, int]:
        pos = int(self.labels.sum())
        return {"pos": pos, "neg": len(self.labels) - pos}


@dataclass
class Reviews:
    train: Split
    test: Split
    sha256: str = ""

    def split(self, name: str) -> Split:
        return self.train if name == "train" else self.test

    def counts(self) -> dict[str, dict[str, int]]:
        return {"train": self.train.counts(), "test": self.test.counts()}


def split_from_groups(groups: dict[str, dict[str, str]]) -> Split:
    """Build one split from ``{"pos": {name: text}, "neg": {name: text}}`` in Keras's order."""
    texts: list[str] = []
    labels: list[int] = []
    names: list[str] = []
    for label_name, label in LABELS:
        group = groups.get(label_name, {})
        for name in sorted(group):
            texts.append(group[name])
            names.append(name)
            labels.append(label)
    return Split(texts, np.asarray(labels, dtype=np.int8), names)


def serialize(reviews: Reviews) -> bytes:
    """The canonical uncompressed bytes of ``reviews``."""
    out = io.StringIO()
    out.write(HEADER + "\n")
    for split_name in SPLITS:
        s = reviews.split(split_name)
        for text, label, name in zip(s.texts, s.labels.tolist(), s.names):
            out.write(f"{split_name}\t{label}\t{_escape(name)}\t{_escape(text)}\n")
    return out.getvalue().encode("utf-8")


def write_reviews(path: Path, reviews: Reviews, compresslevel: int = 6) -> str:
    """Write ``reviews`` to ``path`` (gzip, atomically); returns and sets the content sha256."""
    raw = serialize(reviews)
    digest = hashlib.sha256(raw).hexdigest()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            with gzip.GzipFile(filename="", mode="wb", fileobj=f, compresslevel=compresslevel, mtime=0) as gz:
                gz.write(raw)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    reviews.sha256 = digest
    return digest


def read_reviews(path: Path, expected_sha256: str | None = None) -> Reviews:
    """Read a file written by :func:`write_reviews`; a damaged file is a UserError."""
    path = Path(path)
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise UserError(f"data: {path} is missing") from None
    except (OSError, EOFError) as e:
        raise UserError(f"data: cannot read {path}: {e}", hint="import the data set again") from None
    digest = hashlib.sha256(raw).hexdigest()
    if expected_sha256 and digest != expected_sha256:
        raise UserError(
            f"data: {path} does not match its recorded sha256 (damaged?)",
            hint="import the data set again: rnnbench data import PATH",
        )
    lines = raw.decode("utf-8").split("\n")
    if not lines or lines[0] != HEADER:
        raise UserError(f"data: {path} is not an rnnbench reviews file")
    cols: dict[str, tuple[list[str], list[int], list[str]]] = {s: ([], [], []) for s in SPLITS}
    for n, line in enumerate(lines[1:], start=2):
        if not line:
            continue
        parts = line.split("\t", 3)
        if len(parts) != 4 or parts[0] not in cols or parts[1] not in ("0", "1"):
            raise UserError(f"data: {path} line {n} is malformed", hint="import the data set again")
        texts, labels, names = cols[parts[0]]
        texts.append(_unescape(parts[3]))
        labels.append(parts[1] == "1")
        names.append(_unescape(parts[2]))
    splits = {
        s: Split(t, np.asarray(lab, dtype=np.int8), nm) for s, (t, lab, nm) in cols.items()
    }
    return Reviews(splits["train"], splits["test"], digest)
