"""The test requirements themselves: a missing one skips here and fails in CI (CI=true)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import helpers
import pytest

MISSING_MODULE = "rnnbench_no_such_module_for_tests"


def outcome(call: Callable[[], object]) -> str:
    """What a requirement did: "ok", "skip", "fail" (pytest.fail) or "ImportError: …".
    Caught here, so that a skip that should have been a failure fails this test, not skips it."""
    try:
        call()
    except pytest.skip.Exception as e:
        return f"skip: {e.msg}"
    except pytest.fail.Exception as e:
        return f"fail: {e.msg}"
    except ImportError as e:
        return f"ImportError: {e}"
    return "ok"


@pytest.mark.parametrize("value, ci", [("true", True), ("TRUE", True), ("1", True), ("yes", True),
                                       ("", False), ("false", False), ("0", False)])
def test_in_ci_reads_the_ci_variable(monkeypatch: pytest.MonkeyPatch, value: str, ci: bool) -> None:
    monkeypatch.setenv("CI", value)
    assert helpers.in_ci() is ci
    monkeypatch.delenv("CI")
    assert helpers.in_ci() is False


def test_a_missing_module_skips_outside_ci_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert outcome(lambda: helpers.require_module(MISSING_MODULE)).startswith("skip:")
    monkeypatch.setenv("CI", "true")
    assert outcome(lambda: helpers.require_module(MISSING_MODULE)) == f"ImportError: No module named '{MISSING_MODULE}'"
    assert helpers.require_module("json").dumps([]) == "[]"  # present: the module itself


def test_a_missing_chromium_skips_outside_ci_and_fails_in_ci(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RNNBENCH_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on it
    monkeypatch.delenv("CI", raising=False)
    assert outcome(helpers.require_chromium).startswith("skip: headless Chromium not installed")
    monkeypatch.setenv("CI", "true")
    got = outcome(helpers.require_chromium)
    assert got.startswith("fail: headless Chromium not installed") and "CI=true" in got
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    assert helpers.require_chromium() == str(fake)


def test_shared_imdb_skips_when_absent_unless_in_ci_or_pointed_at(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(helpers, "REPO", tmp_path / "repo")  # no ../shared next to it
    monkeypatch.delenv("RNNBENCH_SHARED_IMDB", raising=False)
    monkeypatch.delenv("CI", raising=False)
    assert outcome(helpers.require_shared_imdb).startswith("skip: the real IMDB copy is not at")
    monkeypatch.setenv("CI", "true")  # CI runs with shared/ beside its clone: absent is a failure
    assert outcome(helpers.require_shared_imdb).startswith("fail: the real IMDB copy is not at")
    monkeypatch.setenv("RNNBENCH_SHARED_IMDB", str(tmp_path / "imdb"))  # pointed at, and missing: a failure
    monkeypatch.delenv("CI")
    got = outcome(helpers.require_shared_imdb)
    assert got.startswith("fail: the real IMDB copy is not at") and "RNNBENCH_SHARED_IMDB" in got
    (tmp_path / "imdb").mkdir()
    (tmp_path / "imdb" / "aclImdb_labelled.tar.gz").write_bytes(b"")
    assert helpers.require_shared_imdb() == tmp_path / "imdb"
    got = outcome(lambda: helpers.require_shared_imdb("aclImdb_labelled.tar.gz", "imdb_word_index.json"))
    assert got.startswith("fail:") and "imdb_word_index.json" in got
