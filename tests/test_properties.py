"""Property-based tests (hypothesis): suite expansion, the results reader, the verdicts' symmetry.

Each property is one a user relies on without knowing it: a valid suite runs exactly the cells
its matrix, excludes and includes describe; no text at all makes the suite parser fail with
anything but a one-line ``UserError``; bytes appended to a results file (a torn write, a disk
hiccup, an editor) never cost a valid record before them; and a comparison says the same thing
seen from either side.
"""

from __future__ import annotations

import itertools
import json
import math
import warnings
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnbench.errors import UserError
from rnnbench.results import append_record, read_records
from rnnbench.stats import AB_FASTER, AB_FASTER_BELOW, AB_SLOWER, AB_SLOWER_BELOW, judge, paired_ratio, paired_verdict
from rnnbench.suite import parse_suite

AXES = {  # a few settings with values that are all valid together
    "arch": ["gru", "lstm", "rnn"],
    "units": [8, 16, 32],
    "seed": [0, 1, 2, 3],
    "batch_size": [16, 32],
}
HEAD = 'name = "p"\n[defaults]\nbackend = "fake"\ndataset = "sample"\n'


def _toml_value(v: object) -> str:
    return json.dumps(v)  # strings and ints: JSON and TOML spell them alike


@st.composite
def suites(draw: st.DrawFn) -> tuple[str, int]:
    """A valid suite text and the number of cells it must expand to."""
    names = draw(st.lists(st.sampled_from(sorted(AXES)), min_size=1, max_size=3, unique=True))
    axes = {n: draw(st.lists(st.sampled_from(AXES[n]), min_size=1, max_size=len(AXES[n]), unique=True))
            for n in names}
    combos = [dict(zip(names, vs)) for vs in itertools.product(*(axes[n] for n in names))]
    excludes = draw(st.lists(st.sampled_from(combos), max_size=len(combos) - 1, unique_by=lambda c: json.dumps(c)))
    # partial excludes too: drop one key, so an exclude can match several cells
    excludes = [dict(list(e.items())[: max(1, len(e) - draw(st.integers(0, 1)))]) for e in excludes]
    kept = [c for c in combos if not any(all(c.get(k) == v for k, v in e.items()) for e in excludes)]
    if not kept:  # the matrix minus its excludes must leave a cell (that error has its own test)
        excludes = []
        kept = combos
    # includes: cells outside the matrix (units 64 is never an axis value)
    n_inc = draw(st.integers(0, 2))
    includes = [{"arch": "gru", "units": 64, "seed": 100 + i} for i in range(n_inc)]
    lines = [HEAD, "[matrix]\n"] + [f"{n} = [{', '.join(_toml_value(v) for v in axes[n])}]\n" for n in names]
    for e in excludes:
        lines.append("[[exclude]]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in e.items()))
    for inc in includes:
        lines.append("[[include]]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in inc.items()))
    return "".join(lines), len(kept) + len(includes)


@settings(max_examples=150, deadline=None)
@given(suites())
def test_a_valid_suite_expands_to_its_product_minus_excludes_plus_includes(case: tuple[str, int]) -> None:
    text, expected = case
    suite = parse_suite(text, "p.toml")
    assert len(suite.cells) == expected
    assert len({c.key for c in suite.cells}) == expected  # every cell a measurement of its own


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=300),
                 st.builds(lambda a, b: HEAD + a + b, st.sampled_from(["[matrix]\n", "[defaults]\n", "[[include]]\n",
                                                                       "[regression]\n", "units = ", ""]),
                           st.text(max_size=120))))
def test_any_text_is_a_suite_or_one_user_error(text: str) -> None:
    try:
        parse_suite(text, "x.toml")
    except UserError as e:
        assert "\n" not in str(e).strip() or str(e).count("\n") <= 1  # one line (and its hint)


GOOD = [{"schema": 1, "key": f"k{i}", "status": "ok", "label": f"cell {i}"} for i in range(3)]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(garbage=st.one_of(
    st.binary(max_size=400),
    # JSON that is not a record, or a record-like object whose fields are nonsense
    st.builds(lambda v: (json.dumps(v) + "\n").encode(),
              st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                           lambda c: st.lists(c, max_size=3) | st.dictionaries(st.sampled_from(["schema", "key", "x"]),
                                                                               c, max_size=3), max_leaves=6)
              .filter(lambda v: not (isinstance(v, dict) and isinstance(v.get("schema"), int)
                                     and not isinstance(v.get("schema"), bool) and v["schema"] > 1)))),
    more=st.booleans())
def test_bytes_appended_after_valid_records_never_lose_one(tmp_path: Path, garbage: bytes, more: bool) -> None:
    path = tmp_path / "results.jsonl"
    path.unlink(missing_ok=True)
    for r in GOOD:
        append_record(path, r)
    with open(path, "ab") as f:
        f.write(garbage)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        keys = [r.get("key") for r in read_records(path)]
        assert keys[:3] == ["k0", "k1", "k2"]
        if more:  # and a record appended after the garbage is read back too (torn tail cut off first)
            append_record(path, {"schema": 1, "key": "after", "status": "ok"})
            keys = [r["key"] for r in read_records(path)]
            assert keys[:3] == ["k0", "k1", "k2"] and keys[-1] == "after"


positive = st.floats(min_value=0.01, max_value=10.0, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(positive, min_size=1, max_size=12), st.lists(positive, min_size=1, max_size=12))
def test_compare_verdicts_are_symmetric(a: list[float], b: list[float]) -> None:
    ab = judge(a, b, threshold=1.05, max_cv=None)
    ba = judge(b, a, threshold=1.05, max_cv=None)
    mirror = {"worse": "better", "better": "worse", "worse, below threshold": "better, below threshold",
              "better, below threshold": "worse, below threshold", "unchanged": "unchanged",
              "inconclusive": "inconclusive", "unstable": "unstable"}
    assert ba.direction == mirror[ab.direction]
    # the same values on both sides: no change shown; "unchanged" only if the interval is narrow enough
    assert judge(a, list(a), threshold=1.05, max_cv=None).direction in ("unchanged", "inconclusive")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=-0.5, max_value=0.5, allow_nan=False, allow_subnormal=False), min_size=2, max_size=16),
       st.sampled_from([0.0, 0.125, 0.2]))
def test_ab_verdicts_are_symmetric(logs: list[float], trim: float) -> None:
    """Swapping the sides negates every pair's log ratio: slower one way is faster the other."""
    if len(logs) - 2 * math.floor(trim * len(logs)) < 2:
        trim = 0.0
    there = paired_verdict(paired_ratio(logs, trim=trim), 1.05)
    back = paired_verdict(paired_ratio([-x for x in logs], trim=trim), 1.05)
    mirror = {AB_SLOWER: AB_FASTER, AB_FASTER: AB_SLOWER, AB_SLOWER_BELOW: AB_FASTER_BELOW,
              AB_FASTER_BELOW: AB_SLOWER_BELOW}
    assert back == mirror.get(there, there)
