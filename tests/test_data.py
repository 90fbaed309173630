"""rnnbench.data without the full data set: tokenization, padding, the sample, the cache,
import of small aclImdb trees, fetch from a loopback HTTP server, the ``data`` commands.

The full-set checks (real tarball, Keras's published facts) are in test_data_imdb.py.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import json
import os
import re
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest
from helpers import require_module

from rnnbench.data import (
    DataSpec,
    data_status,
    export_keras,
    fetch_imdb,
    fetch_word_index,
    import_imdb,
    import_word_index,
    keras_arrays,
    load_dataset,
    pad_sequences,
    text_to_words,
)
from rnnbench.data.embedded import SAMPLE_FILE, SAMPLE_MANIFEST, load_sample_reviews, select_sample
from rnnbench.data.encoding import Ragged, count_words, keras_load_data, rank_ids, rank_vocabulary, texts_to_ids
from rnnbench.data.sources import read_imdb_meta, word_index_path
from rnnbench.data.store import Reviews, read_reviews, split_from_groups, write_reviews
from rnnbench.errors import UserError

# ----------------------------------------------------------------------------- helpers

REVIEWS = {
    ("train", "pos"): ["A great film!<br /><br />Loved it.", "Great, great acting.", "Wonderful\tstory\nhere"],
    ("train", "neg"): ["Awful film. Boring.", "Bad acting, bad plot!", "A waste\\of time"],
    ("test", "pos"): ["Great fun.", "Loved the ACTING and the story.", "unseen words galore"],
    ("test", "neg"): ["Boring and bad.", "awful", "Bad, bad, bad."],
}


def make_tree(root: Path, reviews: dict = REVIEWS, extra: bool = True) -> Path:
    """A small aclImdb/ folder (with the distractors of the official tarball)."""
    acl = root / "aclImdb"
    for (split, label), texts in reviews.items():
        d = acl / split / label
        d.mkdir(parents=True, exist_ok=True)
        for i, t in enumerate(texts):
            (d / f"{i}_{7 if label == 'pos' else 2}.txt").write_text(t, encoding="utf-8")
    if extra:
        (acl / "train" / "unsup").mkdir(parents=True, exist_ok=True)
        (acl / "train" / "unsup" / "0_0.txt").write_text("unlabelled", encoding="utf-8")
        (acl / "train" / "labeledBow.feat").write_text("0 0:1\n", encoding="utf-8")
        (acl / "README").write_text("readme", encoding="utf-8")
    return acl


def make_tarball(tmp: Path, name: str = "aclImdb_v1.tar.gz", reviews: dict = REVIEWS) -> Path:
    src = tmp / f"tree-{name}"
    make_tree(src, reviews)
    out = tmp / name
    with tarfile.open(out, "w:gz") as tf:
        tf.add(src / "aclImdb", arcname="aclImdb")
    return out


def sample_word_index() -> dict[str, int]:
    """A Keras-style word index (1 = most frequent) built from the sample's train split."""
    r = load_sample_reviews()
    return {w: i for i, w in enumerate(rank_vocabulary(count_words(r.train.texts)), start=1)}


def install_word_index(tmp_path: Path, wi: dict[str, int] | None = None) -> Path:
    p = tmp_path / "imdb_word_index.json"
    p.write_text(json.dumps(wi or sample_word_index()), encoding="utf-8")
    return import_word_index(p)


def keras_load_data_reference(xtr, ytr, xte, yte, num_words=None, skip_top=0, maxlen=None, seed=113,
                              start_char=1, oov_char=2, index_from=3):
    """keras.datasets.imdb.load_data's body (Keras 3), on lists, for comparison."""
    x_train, labels_train = np.empty(len(xtr), dtype=object), np.asarray(ytr)
    x_test, labels_test = np.empty(len(xte), dtype=object), np.asarray(yte)
    for i, x in enumerate(xtr):
        x_train[i] = list(x)
    for i, x in enumerate(xte):
        x_test[i] = list(x)
    rng = np.random.RandomState(seed)
    indices = np.arange(len(x_train))
    rng.shuffle(indices)
    x_train, labels_train = x_train[indices], labels_train[indices]
    indices = np.arange(len(x_test))
    rng.shuffle(indices)
    x_test, labels_test = x_test[indices], labels_test[indices]
    x_train = [[start_char] + [w + index_from for w in x] for x in x_train]
    x_test = [[start_char] + [w + index_from for w in x] for x in x_test]
    if maxlen:
        def remove_long_seq(maxlen, seq, label):
            new_seq, new_label = [], []
            for x, y in zip(seq, label):
                if len(x) < maxlen:
                    new_seq.append(x)
                    new_label.append(y)
            return new_seq, new_label
        x_train, labels_train = remove_long_seq(maxlen, x_train, labels_train)
        x_test, labels_test = remove_long_seq(maxlen, x_test, labels_test)
    xs = x_train + x_test
    labels = np.concatenate([labels_train, labels_test])
    if not num_words:
        num_words = max(max(x) for x in xs)
    xs = [[w if (skip_top <= w < num_words) else oov_char for w in x] for x in xs]
    idx = len(x_train)
    return (xs[:idx], labels[:idx]), (xs[idx:], labels[idx:])


# ------------------------------------------------------------------------ tokenization


def test_tokenize_keras_rules() -> None:
    assert text_to_words("Hello, World!<br /><br />It's GREAT.") == ["hello", "world", "br", "br", "it's", "great"]
    # tab/newline/backtick are filters; only A-Z are lowercased; \r and no-break space stay in words
    assert text_to_words("a\tb\nc`d") == ["a", "b", "c", "d"]
    assert text_to_words("ÁNGELA Ángela Amélie") == ["Ángela", "Ángela", "amélie"]
    assert text_to_words("x\ry y\xa0z") == ["x\ry", "y\xa0z"]
    assert text_to_words("  --  ") == []
    assert text_to_words("l'amour") == ["l'amour"]  # apostrophe is not a filter


def test_rank_vocabulary_ties_alphabetical() -> None:
    c = count_words(["b a c", "c b", "zz aa"])
    assert rank_vocabulary(c) == ["b", "c", "a", "aa", "zz"]


def test_rank_ids_one_pass_equals_count_then_map() -> None:
    texts = ["b  a c", "", "c b!!", "zz aa"] + load_sample_reviews().train.texts[:300]
    ranks, vocab = rank_ids(texts)
    assert vocab == rank_vocabulary(count_words(texts))
    ref = texts_to_ids(texts, {w: i for i, w in enumerate(vocab, start=1)}, unknown=0)
    assert ranks.to_lists() == ref.to_lists()
    small, small_vocab = rank_ids(["b  a c", "", "c b!!", "zz aa"])
    assert small_vocab == ["b", "c", "a", "aa", "zz"]
    assert small.to_lists() == [[1, 3, 2], [], [2, 1], [5, 4]]


# ------------------------------------------------------------------------------ padding


def test_pad_sequences_keras_docstring_examples() -> None:
    seqs = [[1], [2, 3], [4, 5, 6]]
    assert pad_sequences(seqs).tolist() == [[0, 0, 1], [0, 2, 3], [4, 5, 6]]
    assert pad_sequences(seqs, value=-1).tolist() == [[-1, -1, 1], [-1, 2, 3], [4, 5, 6]]
    assert pad_sequences(seqs, padding="post").tolist() == [[1, 0, 0], [2, 3, 0], [4, 5, 6]]
    assert pad_sequences(seqs, maxlen=2).tolist() == [[0, 1], [2, 3], [5, 6]]
    assert pad_sequences(seqs, maxlen=2, truncating="post").tolist() == [[0, 1], [2, 3], [4, 5]]
    assert pad_sequences([[], [7]], maxlen=3, padding="post").tolist() == [[0, 0, 0], [7, 0, 0]]
    assert pad_sequences(seqs).dtype == np.int32
    with pytest.raises(ValueError):
        pad_sequences(seqs, padding="middle")


def _pad_loop(seqs, maxlen, padding, truncating):
    """keras.utils.pad_sequences's loop, for comparison."""
    x = np.zeros((len(seqs), maxlen), dtype=np.int32)
    for i, s in enumerate(seqs):
        if not len(s):
            continue
        trunc = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        if padding == "post":
            x[i, : len(trunc)] = trunc
        else:
            x[i, -len(trunc):] = trunc
    return x


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
def test_pad_sequences_matches_keras_loop(padding: str, truncating: str) -> None:
    rng = np.random.RandomState(0)
    seqs = [rng.randint(1, 100, size=rng.randint(0, 15)).tolist() for _ in range(300)]
    for maxlen in (1, 4, 9, 20):
        got = pad_sequences(seqs, maxlen=maxlen, padding=padding, truncating=truncating)
        assert (got == _pad_loop(seqs, maxlen, padding, truncating)).all()


def test_ragged_ops() -> None:
    r = Ragged.from_lists([[1, 2], [], [3, 4, 5]])
    assert r.take(np.array([2, 0, 1])).to_lists() == [[3, 4, 5], [1, 2], []]
    assert r.prepend(9).to_lists() == [[9, 1, 2], [9], [9, 3, 4, 5]]
    assert r.filter_values(r.values != 4).to_lists() == [[1, 2], [], [3, 5]]
    a, b = r.concat(r).split_at(3)
    assert a.to_lists() == r.to_lists() == b.to_lists()


def test_keras_load_data_matches_reference_on_lists() -> None:
    rng = np.random.RandomState(1)
    xtr = [rng.randint(1, 60, size=rng.randint(1, 30)).tolist() for _ in range(80)]
    xte = [rng.randint(1, 60, size=rng.randint(1, 30)).tolist() for _ in range(70)]
    ytr, yte = rng.randint(0, 2, 80), rng.randint(0, 2, 70)
    for kw in ({}, {"num_words": 20}, {"num_words": 30, "skip_top": 5, "maxlen": 20}, {"maxlen": 12, "seed": 3}):
        (a, la), (b, lb) = keras_load_data(Ragged.from_lists(xtr), ytr, Ragged.from_lists(xte), yte, **kw)
        (ra, rla), (rb, rlb) = keras_load_data_reference(xtr, ytr, xte, yte, **kw)
        assert a.to_lists() == ra and b.to_lists() == rb
        assert (la == rla).all() and (lb == rlb).all()
    with pytest.raises(ValueError, match="no sequence was kept"):
        keras_load_data(Ragged.from_lists(xtr), ytr, Ragged.from_lists(xte), yte, maxlen=1)


# ------------------------------------------------------------------------------- spec


@pytest.mark.parametrize(
    "kw",
    [
        {"dataset": "mnist"},
        {"encoding": "bert"},
        {"padding": "middle"},
        {"truncating": "x"},
        {"num_words": 0},
        {"maxlen": 0},
        {"maxlen": "200"},
        {"skip_top": -1},
        {"train_size": 0},
        {"num_words": True},
    ],
)
def test_dataspec_rejects_bad_values(kw: dict) -> None:
    with pytest.raises(UserError):
        DataSpec(**kw)


# ---------------------------------------------------------------------------- storage


def test_store_round_trip_escapes(tmp_path: Path) -> None:
    groups = {"pos": {"b.txt": "tab\there\nnew\\line\rcr", "a.txt": "plain"}, "neg": {"c.txt": "x\x85y"}}
    r = Reviews(split_from_groups(groups), split_from_groups({"pos": {"d.txt": "d"}, "neg": {"e.txt": "e"}}))
    assert r.train.names == ["a.txt", "b.txt", "c.txt"] and r.train.labels.tolist() == [1, 1, 0]
    sha = write_reviews(tmp_path / "r.tsv.gz", r)
    back = read_reviews(tmp_path / "r.tsv.gz", expected_sha256=sha)
    assert back.train.texts == r.train.texts and back.test.names == ["d.txt", "e.txt"]
    # deterministic bytes
    write_reviews(tmp_path / "r2.tsv.gz", r)
    assert (tmp_path / "r.tsv.gz").read_bytes() == (tmp_path / "r2.tsv.gz").read_bytes()
    with pytest.raises(UserError, match="sha256"):
        read_reviews(tmp_path / "r.tsv.gz", expected_sha256="0" * 64)


# ----------------------------------------------------------------------------- sample


def test_sample_file_is_small_and_matches_manifest() -> None:
    m = json.loads(SAMPLE_MANIFEST.read_text(encoding="utf-8"))
    assert SAMPLE_FILE.stat().st_size < 5_000_000 and m["bytes"] == SAMPLE_FILE.stat().st_size
    raw = gzip.decompress(SAMPLE_FILE.read_bytes())
    assert hashlib.sha256(raw).hexdigest() == m["sha256"]
    assert m["counts"] == {"train": {"pos": 1000, "neg": 1000}, "test": {"pos": 1000, "neg": 1000}}
    r = load_sample_reviews()
    for split in ("train", "test"):
        s = r.split(split)
        assert s.names[:1000] == m["files"][f"{split}/pos"] == sorted(m["files"][f"{split}/pos"])
        assert s.names[1000:] == m["files"][f"{split}/neg"]
        assert s.labels[:1000].all() and not s.labels[1000:].any()
        # official names: <id>_<rating>.txt, pos 7-10, neg 1-4
        assert all(int(re.match(r"\d+_(\d+)\.txt$", n).group(1)) >= 7 for n in s.names[:1000])
        assert all(int(re.match(r"\d+_(\d+)\.txt$", n).group(1)) <= 4 for n in s.names[1000:])


def test_select_sample_is_seeded_and_balanced() -> None:
    groups = {lab: {f"{i:03d}_{7 if lab == 'pos' else 2}.txt": f"{lab} {i}" for i in range(30)} for lab in ("pos", "neg")}
    full = Reviews(split_from_groups(groups), split_from_groups(groups))
    a, b, c = select_sample(full, 5, 4), select_sample(full, 5, 4), select_sample(full, 6, 4)
    assert a.train.names == b.train.names and a.test.names == b.test.names
    assert a.train.names != c.train.names
    assert a.train.counts() == a.test.counts() == {"pos": 4, "neg": 4}


def test_sample_loads_balanced_and_deterministic() -> None:
    d = load_dataset(DataSpec())
    assert d.x_train.shape == (2000, 200) and d.x_test.shape == (2000, 200)
    assert d.x_train.dtype == np.int32 and d.y_train.dtype == np.float32
    assert d.y_train.sum() == 1000 and d.y_test.sum() == 1000
    assert set(np.unique(d.y_train)) == {0.0, 1.0}
    assert d.vocab_size == 20000 and 0 <= d.x_train.min() and d.x_train.max() < 20000
    assert d.source == "sample (embedded)" and d.source_sha256 == json.loads(SAMPLE_MANIFEST.read_text())["sha256"]
    # every row: pre-padding, then the start char (or truncated from the front)
    lengths = (d.x_train > 0).sum(1)
    short = lengths < 200
    assert (d.x_train[short, 200 - lengths[short]] == 1).all()
    # the shuffle is the seed's: recomputed from scratch in a new home, identical
    first = d.x_train.copy()
    for p in Path(os.environ["RNNBENCH_HOME"]).rglob("*.npz"):
        p.unlink()
    again = load_dataset(DataSpec())
    assert (again.x_train == first).all() and (again.y_test == d.y_test).all()
    other = load_dataset(DataSpec(seed=1))
    assert not (other.y_train == d.y_train).all()


def test_sample_sizes_padding_and_options() -> None:
    d = load_dataset(DataSpec(train_size=100, test_size=50, maxlen=30, padding="post", truncating="post"))
    assert d.x_train.shape == (100, 30) and d.x_test.shape == (50, 30)
    assert (d.x_train[:, 0] == 1).all()  # post truncation keeps the start
    full = load_dataset(DataSpec(maxlen=30, padding="post", truncating="post"))
    assert (full.x_train[:100] == d.x_train).all()  # first N of the same shuffle
    nopad = load_dataset(DataSpec(maxlen=None, num_words=None))
    assert nopad.x_train.shape[1] == nopad.x_test.shape[1] == int(max((nopad.x_train > 0).sum(1).max(), (nopad.x_test > 0).sum(1).max()))
    assert nopad.vocab_size == nopad.x_train.max() + 1
    top = load_dataset(DataSpec(skip_top=10, num_words=50, truncating="post"))
    assert top.x_train.max() < 50 and not ((top.x_train >= 3) & (top.x_train < 13)).any()
    assert (top.x_train == 1).sum() == 2000  # the start char is kept in the rnnbench encoding
    with pytest.raises(UserError, match="train_size"):
        load_dataset(DataSpec(train_size=5000))


def test_rnnbench_encoding_ranks_train_words() -> None:
    d = load_dataset(DataSpec(num_words=None, maxlen=None))
    r = load_sample_reviews()
    vocab = rank_vocabulary(count_words(r.train.texts))
    assert vocab[0] == "the"
    # decode: every non-pad id is start, oov, or rank+3 of a training word
    inv = {i + 3: w for i, w in enumerate(vocab, start=1)}
    row = d.x_train[0][d.x_train[0] > 0]
    assert row[0] == 1
    words = [inv[i] for i in row[1:]]
    assert " ".join(words) in {" ".join(text_to_words(t)) for t in r.train.texts}
    # test words unseen in training become oov (2), never dropped
    assert (d.x_test == 2).any()


def test_keras_encoding_on_sample_needs_word_index(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="word index"):
        load_dataset(DataSpec(encoding="keras"))
    install_word_index(tmp_path)
    d = load_dataset(DataSpec(encoding="keras", num_words=1000, maxlen=50))
    assert d.x_train.shape == (2000, 50) and d.x_train.max() < 1000 and d.vocab_size == 1000


# ------------------------------------------------------------------------------ cache


def _no_encoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, tokenizing or encoding fails the test: what follows must come from the cache."""
    import rnnbench.data.loader as loader

    def boom(*a: object, **k: object) -> None:
        raise AssertionError("encoded again: the cache was not used")

    monkeypatch.setattr(loader, "_tokens", boom)
    monkeypatch.setattr(loader, "_encode", boom)


def test_cache_hit_reads_the_file_and_is_keyed_by_params(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = DataSpec(num_words=5000, maxlen=100)
    first = load_dataset(spec)
    assert first.cache_path and Path(first.cache_path).name.startswith("sample-")
    assert Path(first.cache_path).parent == Path(os.environ["RNNBENCH_HOME"]) / "cache"
    with monkeypatch.context() as m:
        _no_encoding(m)
        hit = load_dataset(spec)  # no tokenizing, no encoding: read from the file
    assert hit.cache_path == first.cache_path
    assert (hit.x_train == first.x_train).all() and hit.vocab_size == first.vocab_size
    other = load_dataset(DataSpec(num_words=4000, maxlen=100))
    assert other.cache_path != first.cache_path
    for field in ({"maxlen": 99}, {"padding": "post"}, {"seed": 1}, {"skip_top": 1}, {"train_size": 10}):
        changed = DataSpec(**{"num_words": 5000, "maxlen": 100, **field})
        assert load_dataset(changed).cache_path not in (first.cache_path, other.cache_path)
    # a damaged cache file is rebuilt, not trusted
    Path(first.cache_path).write_bytes(b"garbage")
    again = load_dataset(spec)
    assert (again.x_train == first.x_train).all()
    assert not list((Path(os.environ["RNNBENCH_HOME"]) / "cache").glob(".*tmp"))


def test_imdb_missing_is_a_user_error() -> None:
    with pytest.raises(UserError) as e:
        load_dataset(DataSpec(dataset="imdb"))
    assert "rnnbench data import" in str(e.value) and "rnnbench data fetch imdb" in str(e.value)
    with pytest.raises(UserError):
        export_keras(Path("x.npz"), dataset="imdb")


# ----------------------------------------------------------------------------- import


def test_import_small_tree_and_tarball_give_same_content(tmp_path: Path) -> None:
    acl = make_tree(tmp_path / "dir")
    a = import_imdb(acl, progress=False, expect_counts=None)
    assert (a.n_train, a.n_test) == (6, 6) and a.counts["train"] == {"pos": 3, "neg": 3}
    assert a.word_index is None
    tb = make_tarball(tmp_path)
    b = import_imdb(tb, progress=False, expect_counts=None)
    assert b.sha256 == a.sha256 and b.origin_sha256 == hashlib.sha256(tb.read_bytes()).hexdigest()
    meta = read_imdb_meta()
    assert meta["origin"] == str(tb.resolve()) and meta["origin_kind"] == "tarball"
    r = read_reviews(Path(os.environ["RNNBENCH_HOME"]) / "data" / "imdb" / "reviews.tsv.gz")
    assert r.train.texts[:3] == REVIEWS[("train", "pos")] and r.train.texts[3:] == REVIEWS[("train", "neg")]
    assert r.train.names == ["0_7.txt", "1_7.txt", "2_7.txt", "0_2.txt", "1_2.txt", "2_2.txt"]
    # the parent of aclImdb/ works too
    assert import_imdb(tmp_path / "dir", progress=False, expect_counts=None).sha256 == a.sha256
    d = load_dataset(DataSpec(dataset="imdb", maxlen=10))
    assert d.x_train.shape == (6, 10) and d.source.startswith("imdb (imported from")


def test_import_copies_word_index_next_to_tarball(tmp_path: Path) -> None:
    tb = make_tarball(tmp_path)
    (tmp_path / "imdb_word_index.json").write_text(json.dumps({"great": 1, "bad": 2, "film": 3}), encoding="utf-8")
    info = import_imdb(tb, progress=False, expect_counts=None)
    assert info.word_index == word_index_path() and word_index_path().exists()
    # a re-import without one keeps the installed word index
    (tmp_path / "imdb_word_index.json").unlink()
    assert import_imdb(tb, progress=False, expect_counts=None).word_index == word_index_path()
    d = load_dataset(DataSpec(dataset="imdb", encoding="keras", num_words=None, maxlen=None))
    # keras encoding drops words missing from the index: "Bad, bad, bad." -> start + 3 x (2+3)
    rows = {tuple(r[r > 0]) for r in d.x_test}
    assert (1, 5, 5, 5) in rows


@pytest.mark.parametrize(
    "make",
    [
        lambda p: p / "nope.tar.gz",
        lambda p: (p / "empty").mkdir() or p / "empty",
        lambda p: (p / "x.txt").write_text("not a tar") and p / "x.txt",
        lambda p: (p / "broken.tar.gz").write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 50) and p / "broken.tar.gz",
    ],
    ids=["missing", "empty-dir", "not-tar", "broken-gzip"],
)
def test_bad_import_path_is_user_error(tmp_path: Path, make) -> None:  # noqa: ANN001
    with pytest.raises(UserError):
        import_imdb(make(tmp_path), progress=False)
    assert read_imdb_meta() is None


def test_import_wrong_counts_is_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="expected 25,000"):
        import_imdb(make_tarball(tmp_path), progress=False)
    only_train = {k: v for k, v in REVIEWS.items() if k[0] == "train"}
    with pytest.raises(UserError):
        import_imdb(make_tree(tmp_path / "t", only_train), progress=False, expect_counts=None)


def test_env_imdb_path_imports_automatically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import rnnbench.data.importer as importer

    monkeypatch.setattr(importer, "import_imdb", functools.partial(importer.import_imdb, expect_counts=None))
    tb = make_tarball(tmp_path)
    monkeypatch.setenv("RNNBENCH_IMDB_PATH", str(tb))
    d = load_dataset(DataSpec(dataset="imdb", maxlen=8))
    assert d.x_train.shape == (6, 8)
    stamp = read_imdb_meta()["imported_at"], (Path(os.environ["RNNBENCH_HOME"]) / "data/imdb/meta.json").stat().st_mtime_ns
    load_dataset(DataSpec(dataset="imdb", maxlen=9))  # same origin: no re-import
    assert (read_imdb_meta()["imported_at"], (Path(os.environ["RNNBENCH_HOME"]) / "data/imdb/meta.json").stat().st_mtime_ns) == stamp
    monkeypatch.setenv("RNNBENCH_IMDB_PATH", str(tmp_path / "missing.tar.gz"))
    with pytest.raises(UserError, match="RNNBENCH_IMDB_PATH"):
        load_dataset(DataSpec(dataset="imdb"))


def test_encoded_cache_used_without_imported_copy(tmp_path: Path) -> None:
    import shutil

    import_imdb(make_tarball(tmp_path), progress=False, expect_counts=None)
    spec = DataSpec(dataset="imdb", maxlen=7)
    d = load_dataset(spec)
    shutil.rmtree(Path(os.environ["RNNBENCH_HOME"]) / "data" / "imdb")
    hit = load_dataset(spec)
    assert hit.cache_path == d.cache_path and (hit.x_test == d.x_test).all()
    with pytest.raises(UserError):
        load_dataset(DataSpec(dataset="imdb", maxlen=8))


# ------------------------------------------------------------------------------ export


@pytest.mark.parametrize("kw", [{"num_words": 500}, {"num_words": 300, "skip_top": 4, "maxlen": 150, "pad": True}])
def test_export_sample_round_trip(tmp_path: Path, kw: dict) -> None:
    wi = sample_word_index()
    install_word_index(tmp_path, wi)
    out = export_keras(tmp_path / "out" / "imdb.npz", dataset="sample", **kw)
    r = load_sample_reviews()
    raw = [[[wi[w] for w in text_to_words(t) if w in wi] for t in s.texts] for s in (r.train, r.test)]
    (ra, rla), (rb, rlb) = keras_load_data_reference(
        raw[0], r.train.labels.astype(np.int64), raw[1], r.test.labels.astype(np.int64),
        num_words=kw.get("num_words"), skip_top=kw.get("skip_top", 0), maxlen=kw.get("maxlen"),
    )
    with np.load(out, allow_pickle=True) as z:
        if kw.get("pad"):
            assert z["x_train"].dtype == np.int32 and z["x_train"].shape == (len(ra), kw["maxlen"])
            assert (z["x_train"] == _pad_loop(ra, kw["maxlen"], "pre", "pre")).all()
            assert (z["x_test"] == _pad_loop(rb, kw["maxlen"], "pre", "pre")).all()
        else:
            assert z["x_train"].dtype == object
            assert [list(x) for x in z["x_train"]] == ra and [list(x) for x in z["x_test"]] == rb
        assert (z["y_train"] == rla).all() and (z["y_test"] == rlb).all() and z["y_train"].dtype == np.int64
    (xa, _), _ = keras_arrays(kw.get("num_words"), kw.get("skip_top", 0), kw.get("maxlen"), dataset="sample")
    assert xa.to_lists() == ra


def test_keras_matches_real_keras_load_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Feed Keras's own load_data an imdb.npz rebuilt from the sample; compare outputs."""
    monkeypatch.setenv("KERAS_BACKEND", os.environ.get("KERAS_BACKEND", "numpy"))
    kimdb = require_module("keras.src.datasets.imdb")  # in CI a moved keras.src path fails, not skips
    kseq = require_module("keras.src.utils.sequence_utils")
    wi = sample_word_index()
    install_word_index(tmp_path, wi)
    r = load_sample_reviews()

    def obj(texts):
        a = np.empty(len(texts), dtype=object)
        for i, t in enumerate(texts):
            a[i] = [wi[w] for w in text_to_words(t) if w in wi]
        return a

    npz = tmp_path / "imdb.npz"
    np.savez(npz, x_train=obj(r.train.texts), y_train=r.train.labels.astype(np.int64),
             x_test=obj(r.test.texts), y_test=r.test.labels.astype(np.int64))
    monkeypatch.setattr(kimdb, "get_file", lambda *a, **k: str(npz))
    for kw in ({}, {"num_words": 2000, "skip_top": 3, "maxlen": 250}, {"num_words": 50, "seed": 7}):
        (ka, kla), (kb, klb) = kimdb.load_data(**kw)
        (xa, la), (xb, lb) = keras_arrays(kw.get("num_words"), kw.get("skip_top", 0), kw.get("maxlen"),
                                          dataset="sample", seed=kw.get("seed", 113))
        assert xa.to_lists() == [list(map(int, x)) for x in ka] and xb.to_lists() == [list(map(int, x)) for x in kb]
        assert (la == kla).all() and (lb == klb).all()
    # and the training-cell encoding is load_data (no maxlen filter) + keras's pad_sequences
    (ka, kla), _ = kimdb.load_data(num_words=3000)
    d = load_dataset(DataSpec(encoding="keras", num_words=3000, maxlen=120, padding="post", truncating="pre"))
    assert (d.x_train == kseq.pad_sequences(ka, maxlen=120, padding="post", truncating="pre")).all()
    assert (d.y_train == kla).all()


# ------------------------------------------------------------------------------- fetch


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # noqa: ANN002
        pass


@pytest.fixture
def http_dir(tmp_path: Path):
    """Serve tmp_path/www on 127.0.0.1 from a thread; stopped afterwards."""
    www = tmp_path / "www"
    www.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(www)))
    server.timeout = 5
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        yield www, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        t.join(timeout=5)


def test_fetch_from_loopback_server(http_dir, tmp_path: Path) -> None:  # noqa: ANN001
    www, base = http_dir
    tb = make_tarball(www)
    sha = hashlib.sha256(tb.read_bytes()).hexdigest()
    info = fetch_imdb(f"{base}/{tb.name}", sha, progress=False, expect_counts=None)
    assert (info.n_train, info.n_test) == (6, 6) and info.origin_sha256 == sha
    assert read_imdb_meta()["origin"] == f"{base}/{tb.name}"
    downloads = Path(os.environ["RNNBENCH_HOME"]) / "data" / "downloads"
    assert not any(downloads.iterdir())
    assert load_dataset(DataSpec(dataset="imdb", maxlen=5)).x_train.shape == (6, 5)

    # checksum mismatch: UserError, the download removed, the earlier import untouched
    with pytest.raises(UserError, match="sha256"):
        fetch_imdb(f"{base}/{tb.name}", "0" * 64, progress=False, expect_counts=None)
    assert not any(downloads.iterdir()) and read_imdb_meta()["sha256"] == info.sha256

    with pytest.raises(UserError, match="404"):
        fetch_imdb(f"{base}/missing.tar.gz", sha, progress=False)
    with pytest.raises(UserError, match="64 hex"):
        fetch_imdb(f"{base}/{tb.name}", "abc", progress=False)

    (www / "imdb_word_index.json").write_text(json.dumps({"great": 1}), encoding="utf-8")
    wsha = hashlib.sha256((www / "imdb_word_index.json").read_bytes()).hexdigest()
    assert fetch_word_index(f"{base}/imdb_word_index.json", wsha, progress=False) == word_index_path()
    assert json.loads(word_index_path().read_text()) == {"great": 1}


def test_fetch_unreachable_is_user_error() -> None:
    import socket

    with socket.socket() as s:  # a loopback port that nothing listens on: refused at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(UserError, match="cannot download"):
        fetch_imdb(f"http://127.0.0.1:{port}/aclImdb_v1.tar.gz", progress=False)


# ---------------------------------------------------------------------- status and CLI


def test_data_status_lists_everything(tmp_path: Path) -> None:
    rows = {r["item"]: r for r in data_status()}
    assert rows["sample"]["present"] and rows["sample"]["size_bytes"] > 0
    assert not rows["imdb"]["present"] and not rows["word index"]["present"]
    import_imdb(make_tarball(tmp_path), progress=False, expect_counts=None)
    load_dataset(DataSpec(dataset="imdb", maxlen=5))
    rows = data_status()
    imdb = next(r for r in rows if r["item"] == "imdb")
    assert imdb["present"] and imdb["counts"]["test"] == {"pos": 3, "neg": 3} and len(imdb["sha256"]) == 64
    caches = [r for r in rows if r["item"] == "cache"]
    assert {r["kind"] for r in caches} == {"encoded", "tokens"} and all(r["size_bytes"] > 0 for r in caches)


def test_cli_data_commands(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from rnnbench.cli import data as data_cli

    runner = CliRunner()
    res = runner.invoke(data_cli.app, ["status", "--json"])
    assert res.exit_code == 0, res.output
    assert {r["item"] for r in json.loads(res.output)} >= {"sample", "imdb", "word index"}
    res = runner.invoke(data_cli.app, ["status"])
    assert res.exit_code == 0 and "sample" in res.output

    # a UserError is one line and exit 2 from the data sub-app too (rnnbench.cli.group)
    res = runner.invoke(data_cli.app, ["import", str(tmp_path / "nope.tar.gz")])
    assert res.exit_code == 2 and res.output.startswith("rnnbench: error: ") and res.output.count("\n") == 1, res.output
    res = runner.invoke(data_cli.app, ["import", str(make_tarball(tmp_path))])  # 12 reviews, not 50,000
    assert res.exit_code == 2 and "25,000" in res.output, res.output

    wi = tmp_path / "imdb_word_index.json"
    wi.write_text(json.dumps(sample_word_index()), encoding="utf-8")
    res = runner.invoke(data_cli.app, ["import", str(wi)])
    assert res.exit_code == 0 and word_index_path().exists(), res.output
    out = tmp_path / "e.npz"
    res = runner.invoke(data_cli.app, ["export", "sample", "--num-words", "100", "--maxlen", "300", "--pad", "--out", str(out)])
    assert res.exit_code == 0, res.output
    with np.load(out) as z:
        assert z["x_train"].shape[1] == 300 and z["x_train"].max() < 100
    res = runner.invoke(data_cli.app, ["export", "sample", "--encoding", "rnnbench", "--out", str(out)])
    assert res.exit_code == 2 and res.output.startswith("rnnbench: error: "), res.output
    res = runner.invoke(data_cli.app, ["fetch", "mnist"])
    assert res.exit_code == 2 and res.output.startswith("rnnbench: error: "), res.output


def test_data_modules_import_no_framework() -> None:
    import subprocess
    import sys

    code = ("import sys, rnnbench.data, rnnbench.cli.data; "
            "print([m for m in ('torch','tensorflow','keras','jax') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "[]"


def test_gzip_tar_stream_helper_is_bounded(tmp_path: Path) -> None:
    """A tarball member outside {train,test}/{pos,neg} is ignored even when huge-ish."""
    src = tmp_path / "t"
    make_tree(src)
    big = src / "aclImdb" / "train" / "unsup"
    (big / "big.txt").write_bytes(b"x" * 2_000_000)
    tb = tmp_path / "a.tar.gz"
    with tarfile.open(tb, "w:gz") as tf:
        tf.add(src / "aclImdb", arcname="aclImdb")
    info = import_imdb(tb, progress=False, expect_counts=None)
    assert info.n_train == 6
