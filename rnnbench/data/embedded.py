"""The embedded sample: 2,000 train + 2,000 test reviews of the official split, balanced.

Chosen by :func:`select_sample`: ``np.random.RandomState(SAMPLE_SEED)`` draws, without
replacement, 1,000 of the 12,500 files of train/pos, then train/neg, test/pos, test/neg (each
group in file-name order); the chosen files keep Keras's order (pos then neg, by file name).
``scripts/make_sample.py`` rebuilds ``sample/imdb_sample.tsv.gz`` and ``sample/imdb_sample.json``
(seed, source hashes, counts, the chosen file names) byte for byte from the tarball.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from rnnbench.errors import UserError

from .store import LABELS, SPLITS, Reviews, Split, read_reviews, serialize, write_reviews

SAMPLE_DIR = Path(__file__).resolve().parent / "sample"
SAMPLE_FILE = SAMPLE_DIR / "imdb_sample.tsv.gz"
SAMPLE_MANIFEST = SAMPLE_DIR / "imdb_sample.json"
SAMPLE_SEED = 2011
PER_GROUP = 1000


def sample_manifest() -> dict[str, Any]:
    try:
        return json.loads(SAMPLE_MANIFEST.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(
            f"data: the embedded sample is missing ({SAMPLE_MANIFEST})",
            hint="reinstall rnnbench, or rebuild it: python scripts/make_sample.py",
        ) from None


def load_sample_reviews() -> Reviews:
    return read_reviews(SAMPLE_FILE, expected_sha256=sample_manifest()["sha256"])


def select_sample(reviews: Reviews, seed: int = SAMPLE_SEED, per_group: int = PER_GROUP) -> Reviews:
    """The balanced, seeded selection described in the module docstring."""
    rng = np.random.RandomState(seed)
    out: dict[str, Split] = {}
    for split_name in SPLITS:
        s = reviews.split(split_name)
        idx_all: list[np.ndarray] = []
        for _, label in LABELS:
            group = np.nonzero(s.labels == label)[0]  # already in file-name order
            if len(group) < per_group:
                raise UserError(f"data: {split_name} has only {len(group)} reviews with label {label}")
            chosen = np.sort(rng.choice(len(group), size=per_group, replace=False))
            idx_all.append(group[chosen])
        idx = np.concatenate(idx_all).tolist()
        out[split_name] = Split(
            [s.texts[i] for i in idx], s.labels[idx].copy(), [s.names[i] for i in idx]
        )
    return Reviews(out["train"], out["test"])


def _manifest_text(manifest: dict[str, Any]) -> str:
    """Indented JSON, but each group's file names on one line (keeps the file small)."""
    head = {k: v for k, v in manifest.items() if k != "files"}
    text = json.dumps(head, indent=1)[:-2]
    groups = ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in manifest["files"].items())
    return text + ',\n "files": {\n' + groups + "\n }\n}\n"


def build_sample(
    source: Path,
    out_dir: Path = SAMPLE_DIR,
    seed: int = SAMPLE_SEED,
    per_group: int = PER_GROUP,
    progress: bool = True,
) -> dict[str, Any]:
    """Rebuild the sample from an aclImdb tarball/folder; returns the manifest written."""
    import hashlib

    from .importer import OFFICIAL_COUNTS, _validate
    from .sources import read_raw

    source = Path(source).expanduser().resolve()
    raw = read_raw(source, progress=progress)
    _validate(raw.reviews, source, OFFICIAL_COUNTS)
    full_sha = hashlib.sha256(serialize(raw.reviews)).hexdigest()
    sample = select_sample(raw.reviews, seed, per_group)
    out_dir = Path(out_dir)
    data_path = out_dir / SAMPLE_FILE.name
    sha = write_reviews(data_path, sample, compresslevel=9)
    manifest = {
        "format": 1,
        "description": "balanced seeded slice of the official aclImdb split (Maas et al., ACL 2011)",
        "selection": "numpy RandomState(seed).choice(group size, per_group, replace=False), "
        "groups train/pos, train/neg, test/pos, test/neg in order, each sorted by file name",
        "selection_seed": seed,
        "per_group": per_group,
        "source": {
            "file": source.name,
            "sha256": raw.origin_sha256,
            "normalized_sha256": full_sha,
        },
        "file": data_path.name,
        "sha256": sha,
        "bytes": data_path.stat().st_size,
        "counts": sample.counts(),
        "files": {
            f"{split}/{lab}": [n for n, y in zip(sample.split(split).names, sample.split(split).labels) if y == v]
            for split in SPLITS
            for lab, v in LABELS
        },
    }
    tmp = out_dir / f".{SAMPLE_MANIFEST.name}.tmp-{os.getpid()}"
    tmp.write_text(_manifest_text(manifest), encoding="utf-8")
    os.replace(tmp, out_dir / SAMPLE_MANIFEST.name)
    return manifest
