"""rnnbench.data on the real IMDB set (skipped when the shared copy is absent: ``helpers.require_shared_imdb``).

The shared copy: ``$RNNBENCH_SHARED_IMDB`` or ``<repo>/../shared/datasets/imdb``. One import,
shared by the whole module through a module-scoped fixture (about 4 s); the keras checks are
Keras's published facts about ``imdb.npz`` and ``load_data``.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from helpers import require_shared_imdb

from rnnbench.data import DataSpec, export_keras, import_imdb, keras_arrays, load_dataset, text_to_words
from rnnbench.data.sources import read_imdb_meta, read_word_index

SHARED = require_shared_imdb("aclImdb_labelled.tar.gz", "imdb_word_index.json")  # skips the module if absent
TARBALL = SHARED / "aclImdb_labelled.tar.gz"
WORD_INDEX = SHARED / "imdb_word_index.json"

TIMINGS: dict[str, float] = {}  # printed for the record; nothing asserts on them


def _no_encoding(*a: object, **k: object) -> None:
    raise AssertionError("encoded again: the cache was not used")


@pytest.fixture(scope="module")
def imdb_home(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("imdb-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RNNBENCH_HOME", str(home))
        mp.delenv("RNNBENCH_IMDB_PATH", raising=False)
        t0 = time.perf_counter()
        info = import_imdb(TARBALL, progress=False)
        TIMINGS["import"] = time.perf_counter() - t0
    yield home, info
    print("\nIMDB timings: " + ", ".join(f"{k} {v:.3f} s" for k, v in TIMINGS.items()))


@pytest.fixture
def home(imdb_home, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN001
    monkeypatch.setenv("RNNBENCH_HOME", str(imdb_home[0]))
    monkeypatch.delenv("RNNBENCH_IMDB_PATH", raising=False)
    return imdb_home


def test_import_real_tarball(home) -> None:  # noqa: ANN001
    _, info = home
    assert (info.n_train, info.n_test) == (25000, 25000)
    assert info.counts == {"train": {"pos": 12500, "neg": 12500}, "test": {"pos": 12500, "neg": 12500}}
    assert info.origin_sha256 == "8a6446ea3c40e0d70e7c6453d25b46431a5dcdad25fdd38a38685682c24f0b9e"
    assert info.word_index is not None and info.word_index.exists()  # found next to the tarball
    assert len(read_word_index(info.word_index)) == 88584
    meta = read_imdb_meta()
    assert meta["sha256"] == info.sha256 and meta["origin_kind"] == "tarball"
    # the embedded sample was drawn from exactly this content
    from rnnbench.data.embedded import sample_manifest

    assert sample_manifest()["source"]["normalized_sha256"] == info.sha256
    print(f"full import: {TIMINGS['import']:.2f} s")


def test_keras_published_facts(home) -> None:  # noqa: ANN001
    (x_train, y_train), (x_test, y_test) = keras_arrays()
    assert len(x_train) == len(x_test) == 25000
    assert x_train.lengths[:10].tolist() == [218, 189, 141, 550, 147, 43, 123, 562, 233, 130]
    assert y_train[:10].tolist() == [1, 0, 0, 1, 0, 0, 1, 0, 1, 0]
    wi = read_word_index(WORD_INDEX)
    inverted = {i + 3: w for w, i in wi.items()}
    inverted[1], inverted[2] = "[START]", "[OOV]"
    words = [inverted[i] for i in x_train.row(0).tolist()]
    assert words[0] == "[START]"
    assert " ".join(words[1:10]) == "this film was just brilliant casting location scenery story"
    assert y_test.sum() == 12500
    # the word index covers every training word, so without num_words nothing is OOV in train
    (xa, _), _ = keras_arrays(num_words=20000)
    assert xa.values.max() == 19999


def test_keras_training_encoding(home) -> None:  # noqa: ANN001
    spec = DataSpec(dataset="imdb", encoding="keras", num_words=20000, maxlen=200)
    d = load_dataset(spec)
    assert d.x_train.shape == (25000, 200) and d.vocab_size == 20000 and d.x_train.max() < 20000
    (xa, ya), _ = keras_arrays(num_words=20000)
    row0 = xa.row(0).tolist()  # 218 ids: pre-truncated to the last 200
    assert d.x_train[0].tolist() == row0[-200:]
    row5 = xa.row(5).tolist()  # 43 ids: pre-padded
    assert d.x_train[5].tolist() == [0] * 157 + row5
    assert (d.y_train == ya).all() and d.y_train.dtype == np.float32


def test_rnnbench_full_encode_and_cache(home) -> None:  # noqa: ANN001
    spec = DataSpec(dataset="imdb", encoding="rnnbench", num_words=20000, maxlen=200)
    t0 = time.perf_counter()
    d = load_dataset(spec)
    TIMINGS["encode rnnbench (cold, tokenize + encode)"] = time.perf_counter() - t0
    assert d.x_train.shape == d.x_test.shape == (25000, 200)
    assert d.y_train.sum() == d.y_test.sum() == 12500
    assert d.source_sha256 == home[1].sha256 and d.cache_path
    with pytest.MonkeyPatch.context() as mp:  # a hit reads the file: tokenizing or encoding again fails
        for name in ("_tokens", "_encode"):
            mp.setattr(f"rnnbench.data.loader.{name}", _no_encoding)
        t0 = time.perf_counter()
        again = load_dataset(spec)
        TIMINGS["cache load"] = time.perf_counter() - t0
    assert again.cache_path == d.cache_path and (again.x_train == d.x_train).all()
    t0 = time.perf_counter()
    other = load_dataset(DataSpec(dataset="imdb", num_words=10000, maxlen=100))
    TIMINGS["encode rnnbench (tokens cached)"] = time.perf_counter() - t0
    assert other.cache_path != d.cache_path and other.x_train.max() < 10000
    # rnnbench ranks over the train split: "the" is the most frequent word, id 4
    assert np.bincount(d.x_train.ravel()).argsort()[::-1][:3].tolist()[:2] == [0, 4]
    print(", ".join(f"{k}: {v:.3f} s" for k, v in TIMINGS.items()))


@pytest.mark.parametrize(
    "kw", [{"num_words": 10000}, {"num_words": 5000, "skip_top": 20, "maxlen": 300, "pad": True}], ids=["lists", "padded"]
)
def test_export_round_trip(home, tmp_path: Path, kw: dict) -> None:  # noqa: ANN001
    out = export_keras(tmp_path / "imdb.npz", **kw)
    (xa, ya), (xb, yb) = keras_arrays(kw.get("num_words"), kw.get("skip_top", 0), kw.get("maxlen"))
    with np.load(out, allow_pickle=True) as z:
        assert (z["y_train"] == ya).all() and (z["y_test"] == yb).all()
        if kw.get("pad"):
            assert z["x_train"].shape == (len(xa), 300) and z["x_train"].dtype == np.int32
            # Keras's maxlen filter keeps reviews shorter than maxlen only: no truncation
            lens = (z["x_train"] > 0).sum(1)
            assert (lens == xa.lengths).all() and lens.max() < 300
            assert z["x_train"][0, -lens[0]:].tolist() == xa.row(0).tolist()
            assert not ((z["x_train"] >= 3) & (z["x_train"] < 20)).any()
        else:
            assert z["x_train"].dtype == object and len(z["x_train"]) == 25000
            assert z["x_train"][0] == xa.row(0).tolist()
            assert [len(x) for x in z["x_train"][:10]] == [218, 189, 141, 550, 147, 43, 123, 562, 233, 130]
            assert max(max(x) for x in z["x_test"]) < 10000


def test_first_review_text_tokenizes_like_keras(home) -> None:  # noqa: ANN001
    """Independent of the word index: the raw text behind training review 0."""
    from rnnbench.data.sources import load_imported_reviews

    r = load_imported_reviews(read_imdb_meta())
    rng = np.random.RandomState(113)
    idx = np.arange(25000)
    rng.shuffle(idx)
    words = text_to_words(r.train.texts[idx[0]])
    assert len(words) == 217 and words[:5] == ["this", "film", "was", "just", "brilliant"]
