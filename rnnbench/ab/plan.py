"""What an A/B run runs: each suite cell with each side's overrides (:class:`PairCell`), the
run folder it starts or resumes, and which pairs are already done."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rnnbench.ab.sides import SideSpec, _set_items
from rnnbench.cellenv import STARTED_BY_PARENT
from rnnbench.errors import UserError
from rnnbench.results import RunDir, resolve_run
from rnnbench.suite import Cell, CellSettings, Suite, parse_suite, settings_error, with_stored_keys



@dataclass(frozen=True)
class PairCell:
    """A suite cell as run on each side."""

    base: Cell
    a: Cell
    b: Cell

    @property
    def key(self) -> str:
        return self.base.key

    @property
    def label(self) -> str:
        return self.base.label


def plan(suite: Suite, sides: tuple[SideSpec, SideSpec]) -> list[PairCell]:
    """Each suite cell (repeats aside: pairs are the repeats here) with each side's overrides."""
    out: list[PairCell] = []
    seen: set[str] = set()
    for c in suite.cells:
        if c.repeat or c.key in seen:
            continue
        if c.settings.task != "train":
            raise UserError(f"{c.label}: task = {c.settings.task!r}: ab pairs training steps",
                            hint="A/B an inference cell with two runs and rnnbench compare")
        seen.add(c.key)
        cells = []
        for side in sides:
            try:
                s = CellSettings.model_validate({**c.settings.model_dump(), **side.overrides})
            except ValidationError as e:  # a combination of settings this cell cannot take
                raise UserError(f"--{side.name}-set {_set_items(side.overrides)}: {c.label}: "
                                f"{settings_error(e)}") from None
            for k in side.unknown_settings:
                if getattr(s, k) != CellSettings.model_fields[k].default and k not in STARTED_BY_PARENT:
                    raise UserError(f"side {side.name.upper()}: its rnnbench ({side.rnnbench}) has no setting {k!r}, "
                                    f"and {c.label} sets it to {getattr(s, k)!r}",
                                    hint=f"leave {k} at its default for an A/B against that rnnbench")
            cells.append(Cell(settings=s, repeat=0))
        out.append(PairCell(c, cells[0], cells[1]))
    return out


def start_ab_run(suite: Suite, sides: tuple[SideSpec, SideSpec], pairs: int, thresholds: dict[str, float],
                 root: Path | None = None) -> RunDir:
    from rnnbench.runner import start_run

    stem = f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-ab-{suite.name}"
    return start_run(suite, root, stem, {"kind": "ab", "sides": [asdict(s) for s in sides], "pairs": pairs,
                                         "thresholds": thresholds})


def reopen_ab_run(ref: str, root: Path | None = None
                  ) -> tuple[RunDir, Suite, tuple[SideSpec, SideSpec], int, dict[str, float]]:
    run = resolve_run(ref, root, kind="ab")
    meta = run.meta()
    if meta.get("kind") != "ab":
        raise UserError(f"{run.run_id}: not an ab run", hint="resume a suite run with: rnnbench run --resume")
    src = (run.path / "suite.toml").read_text(encoding="utf-8")
    suite = parse_suite(src, meta["suite"]["path"], meta["suite"].get("overrides"), meta["suite"].get("only"))
    suite = replace(suite, cells=with_stored_keys(suite.cells, meta.get("cells") or []))
    sides = tuple(SideSpec(**s) for s in meta["sides"])
    return run, suite, sides, int(meta["pairs"]), dict(meta["thresholds"])  # type: ignore[return-value]


def done_pairs(records: list[dict[str, Any]]) -> dict[str, set[int]]:
    """Per cell key, the pair indices whose two records are both stored."""
    seen: dict[tuple[str, int], set[str]] = {}
    for r in records:
        ab = r.get("ab") or {}
        seen.setdefault((ab.get("cell"), ab.get("pair")), set()).add(ab.get("side"))
    out: dict[str, set[int]] = {}
    for (cell, pair), sides in seen.items():
        if sides >= {"a", "b"}:
            out.setdefault(cell, set()).add(pair)
    return out
