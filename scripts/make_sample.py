#!/usr/bin/env python
"""Rebuild the embedded IMDB sample (rnnbench/data/sample/) from the aclImdb tarball.

Deterministic: the same tarball (or any copy of the same reviews) and seed give byte-identical
``imdb_sample.tsv.gz`` and ``imdb_sample.json``. Usage::

    python scripts/make_sample.py [TARBALL_OR_ACLIMDB_DIR] [--seed N] [--out DIR]

The source defaults to ``$RNNBENCH_SHARED_IMDB/aclImdb_labelled.tar.gz`` or the shared copy at
``../shared/datasets/imdb/aclImdb_labelled.tar.gz`` (relative to the project root).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rnnbench.data.embedded import PER_GROUP, SAMPLE_DIR, SAMPLE_SEED, build_sample  # noqa: E402
from rnnbench.errors import UserError  # noqa: E402


def default_source() -> Path:
    shared = os.environ.get("RNNBENCH_SHARED_IMDB")
    base = Path(shared) if shared else ROOT.parent / "shared" / "datasets" / "imdb"
    return base / "aclImdb_labelled.tar.gz"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source", nargs="?", type=Path, default=None, help="aclImdb tarball or folder")
    ap.add_argument("--seed", type=int, default=SAMPLE_SEED, help=f"selection seed (default {SAMPLE_SEED})")
    ap.add_argument("--per-group", type=int, default=PER_GROUP, help="reviews per split and label (default 1000)")
    ap.add_argument("--out", type=Path, default=SAMPLE_DIR, help="output folder (default: the package's)")
    args = ap.parse_args(argv)
    source = args.source or default_source()
    t0 = time.perf_counter()
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        m = build_sample(source, args.out, seed=args.seed, per_group=args.per_group)
    except UserError as e:
        print(f"make_sample: error: {e}", file=sys.stderr)
        return 2
    print(
        f"wrote {args.out / m['file']} ({m['bytes'] / 1e6:.2f} MB, sha256 {m['sha256']}) from {source} "
        f"in {time.perf_counter() - t0:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
