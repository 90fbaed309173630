"""`rnnbench suite schema`: the suite file's JSON Schema, as an editor reads it.

The schema is written by the real command (to a file and to stdout), then every committed
suite is validated against the written file, and misspelt or misplaced keys are flagged by it
where the loader refuses them too — the schema and ``rnnbench run`` must agree both ways.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from helpers import REPO, cli, require_module

from rnnbench.errors import UserError
from rnnbench.suite import SUITE_KEYS, CellSettings, parse_suite

jsonschema = require_module("jsonschema")  # the test extra installs it: missing, CI fails

SUITES = sorted((REPO / "suites").glob("*.toml"))


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("schema") / "suite.schema.json"
    r = cli("suite", "schema", "-o", str(out))
    assert r.exit_code == 0, r.output
    written = json.loads(out.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(written)
    return written


def problems(schema: dict[str, Any], toml_text: str) -> list[str]:
    validator = jsonschema.Draft7Validator(schema)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(tomllib.loads(toml_text))]


def test_stdout_and_file_are_the_same_schema(schema: dict[str, Any]) -> None:
    r = cli("suite", "schema")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == schema


def test_a_file_that_cannot_be_written_is_one_line_and_exit_2(tmp_path: Path) -> None:
    r = cli("suite", "schema", "-o", str(tmp_path / "no-such-folder" / "suite.schema.json"))
    assert r.exit_code == 2
    assert r.stderr.count("\n") == 1 and "cannot write the schema" in r.stderr


def test_the_schema_has_every_setting_and_every_top_level_key(schema: dict[str, Any]) -> None:
    assert tuple(schema["properties"]) == SUITE_KEYS
    assert list(schema["definitions"]["settings"]["properties"]) == list(CellSettings.model_fields)
    units = schema["definitions"]["setting_units"]
    assert units["type"] == "integer" and units["minimum"] == 1 and units["default"] == 128
    assert schema["definitions"]["setting_backend"]["enum"][:2] == ["torch", "keras-tensorflow"]


def test_there_are_committed_suites() -> None:
    assert len(SUITES) >= 10, SUITES


@pytest.mark.parametrize("path", SUITES, ids=lambda p: p.name)
def test_every_committed_suite_is_valid(schema: dict[str, Any], path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert problems(schema, text) == []
    parse_suite(text, str(path))  # and the loader agrees


# Each is refused by the loader; the schema must flag it too (with the key it names).
TYPOS = {
    "a setting misspelt in [defaults]": ("[defaults]\nunitz = 64\n", "unitz"),
    "a setting misspelt in [matrix]": ('[matrix]\narhc = ["gru", "lstm"]\n', "arhc"),
    "a setting misspelt in [[include]]": ('[[include]]\nbackned = "torch"\n', "backned"),
    "a setting misspelt in [[exclude]]": ('[matrix]\narch = ["gru", "lstm"]\n[[exclude]]\nach = "gru"\n', "ach"),
    "a misspelt top-level key": ('repeats = 2\n[defaults]\nunits = 64\n', "repeats"),
    "a setting at the top level": ('units = 64\n', "units"),
    "a misspelt [regression] key": ('[defaults]\nunits = 64\n[regression]\ntiem = 1.05\n', "tiem"),
    "a misspelt [report] key": ('[defaults]\nunits = 64\n[report]\nrow = "arch"\n', "row"),
}
WRONG_VALUES = {
    "a backend that does not exist": '[defaults]\nbackend = "tensorflow"\n',
    "units below 1": "[defaults]\nunits = 0\n",
    "a string for an integer": '[defaults]\nepochs = "3"\n',
    "an empty matrix axis": "[matrix]\nunits = []\n",
    "a regression time of 1": "[defaults]\nunits = 64\n[regression]\ntime = 1.0\n",
    "repeat 0": "repeat = 0\n[defaults]\nunits = 64\n",
}


@pytest.mark.parametrize("text,key", TYPOS.values(), ids=TYPOS.keys())
def test_a_typo_is_flagged_by_the_schema_as_by_the_loader(schema: dict[str, Any], text: str, key: str) -> None:
    with pytest.raises(UserError, match=key):
        parse_suite(text, "t.toml")
    found = problems(schema, text)
    assert found and any(f"'{key}' was unexpected" in p for p in found), found


@pytest.mark.parametrize("text", WRONG_VALUES.values(), ids=WRONG_VALUES.keys())
def test_a_wrong_value_is_flagged_by_the_schema_as_by_the_loader(schema: dict[str, Any], text: str) -> None:
    with pytest.raises(UserError):
        parse_suite(text, "t.toml")
    assert problems(schema, text)


def test_what_the_loader_accepts_the_schema_accepts(schema: dict[str, Any]) -> None:
    text = '''name = "forms"
repeat = 2
[defaults]
epochs = 1
timeout = 60            # an integer where the setting is a float
[matrix]
arch = "gru"            # one value, not a list
units = [32, 64]
[[exclude]]
units = [32]            # a list matches any of its values
[[include]]
arch = "lstm"
units = 16
[regression]
trim = 0.0
[report]
rows = ["arch"]
target = 0.8
'''
    parse_suite(text, "t.toml")
    assert problems(schema, text) == []
