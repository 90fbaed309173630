"""The suite file's JSON Schema, for editors (taplo / Even Better TOML) and for the docs.

Derived, never written by hand: every cell setting's schema comes from the pydantic model
(:class:`rnnbench.suite.CellSettings`: type, choices, bounds, default, description), and the
file's other keys from the tables the loader checks them against (``SUITE_KEYS``,
``REGRESSION_KEYS`` and ``REGRESSION_RANGES``, ``REPORT_KEYS``), so the schema cannot accept a
key the loader refuses, and a setting added to the model is in the next schema written.
Unknown keys are refused where the loader refuses them: at the top level, in ``[defaults]``,
``[matrix]``, ``[[exclude]]``, ``[[include]]``, ``[regression]`` and ``[report]``.

What a schema cannot say stays with the loader: combinations of settings (``compile_rnn``
needs ``mode = "compiled"``), an ``arch`` that names no architecture, duplicated includes.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from rnnbench.errors import UserError
from rnnbench.suite import (REGRESSION_CLOSED_LOW, REGRESSION_KEYS, REGRESSION_RANGES, REPORT_KEYS, SUITE_KEYS,
                            CellSettings)

DRAFT = "http://json-schema.org/draft-07/schema#"  # what taplo (Even Better TOML) and most editors read


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """An optional setting's schema minus JSON's ``null`` (TOML has none: leaving a key out unsets it)."""
    out = {k: v for k, v in schema.items() if k != "title"}
    if "anyOf" in out:
        kept = [s for s in out["anyOf"] if s.get("type") != "null"]
        if len(kept) == 1:
            out.pop("anyOf")
            out = {**kept[0], **out}
        else:
            out["anyOf"] = kept
    if out.get("default", 0) is None:
        out.pop("default")
    return out


def setting_schemas() -> dict[str, dict[str, Any]]:
    """Each cell setting's JSON Schema, by name, in the model's order."""
    props = CellSettings.model_json_schema()["properties"]
    return {name: _without_null(props[name]) for name in CellSettings.model_fields}


def _regression_schema() -> dict[str, Any]:
    props: dict[str, Any] = {}
    for key in REGRESSION_KEYS:
        lo, hi, what = REGRESSION_RANGES[key]
        s: dict[str, Any] = {"type": "number", "description": what}
        s["minimum" if key in REGRESSION_CLOSED_LOW else "exclusiveMinimum"] = lo
        if math.isfinite(hi):
            s["exclusiveMaximum"] = hi
        props[key] = s
    return {"type": "object", "description": "thresholds for `rnnbench compare` and `rnnbench ab`",
            "properties": props, "additionalProperties": False}


def _report_schema() -> dict[str, Any]:
    strings = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
    meaning = {"formats": "files to write (report --format): md, csv, html, or all",
               "rows": "pivot: fields down the side (report --rows: any setting, or cell, model, run)",
               "cols": "pivot: fields across the top (report --cols)",
               "metric": "pivot: metric(s) in the cells (report --metric, e.g. steady_step_ms)"}
    props: dict[str, Any] = {k: {**strings, "description": meaning.get(k, "")} for k in REPORT_KEYS if k != "target"}
    props["target"] = {"type": "number", "exclusiveMinimum": 0, "maximum": 1,
                       "description": "the report's target accuracy (overrides the cells' target_accuracy)"}
    return {"type": "object", "description": "what `rnnbench report` reads of the suite",
            "properties": {k: props[k] for k in REPORT_KEYS}, "additionalProperties": False}


def suite_schema() -> dict[str, Any]:
    """The JSON Schema (draft 7) of a suite file: what ``rnnbench suite schema`` writes."""
    settings = setting_schemas()
    ref = {name: {"$ref": f"#/definitions/setting_{name}"} for name in settings}
    one_or_many = {name: {"anyOf": [r, {"type": "array", "minItems": 1, "items": r}]} for name, r in ref.items()}
    props: dict[str, Any] = {
        "name": {"type": "string", "pattern": r"\S", "description": "the suite's name (default: the file's stem)"},
        "description": {"type": "string", "description": "what the suite measures (its first sentence is listed "
                        "by `rnnbench list`)"},
        "repeat": {"type": "integer", "minimum": 1, "default": 1,
                   "description": "run each cell this many times, each in a new process (round-robin)"},
        "defaults": {"$ref": "#/definitions/settings",
                     "description": "settings every cell shares (any cell setting)"},
        "matrix": {"type": "object", "properties": one_or_many, "additionalProperties": False,
                   "description": "axes to expand: each setting's list of values; their cartesian product gives "
                   "the cells"},
        "exclude": {"type": "array", "items": {"type": "object", "properties": one_or_many,
                                               "additionalProperties": False},
                    "description": "drop the cells matching every key given (a list matches any of its values)"},
        "include": {"type": "array", "items": {"$ref": "#/definitions/settings"},
                    "description": "extra cells, each its settings over [defaults]"},
        "regression": _regression_schema(),
        "report": _report_schema(),
    }
    assert tuple(props) == SUITE_KEYS, "a top-level suite key without a schema"  # noqa: S101 - a programming error
    return {
        "$schema": DRAFT,
        "title": "rnnbench suite",
        "description": "A TOML file of rnnbench cells: [defaults], [matrix], [[exclude]], [[include]], repeat, "
        "[regression], [report]. Written by `rnnbench suite schema` from rnnbench's suite model.",
        "type": "object",
        "properties": props,
        "additionalProperties": False,
        "definitions": {
            "settings": {"type": "object", "properties": ref, "additionalProperties": False,
                         "description": "cell settings (rnnbench.suite.CellSettings)"},
            **{f"setting_{name}": s for name, s in settings.items()},
        },
    }


def schema_text() -> str:
    """The schema as the JSON file an editor reads (sorted nowhere: keys stay in the model's order)."""
    return json.dumps(suite_schema(), indent=2, ensure_ascii=False) + "\n"


def write_schema(output: Path | None) -> str:
    """The schema's text, written to ``output`` when given (a :class:`UserError` when it cannot be)."""
    text = schema_text()
    if output is not None:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as e:
            raise UserError(f"{output}: cannot write the schema: {e.strerror}") from None
    return text
