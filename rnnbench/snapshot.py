"""One side of a comparison, loaded and checked: a stored run or a saved baseline.

``load_snapshot`` takes what a user types — a run id, ``latest``, a run directory, a
``results.jsonl``, ``baseline:NAME``, a bare baseline name or its ``.json`` — and returns a
:class:`Snapshot`: the records (each checked to be an rnnbench result), the suite, the
machine and its fingerprint. ``compare``, ``baseline`` and ``export`` read runs only this way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnnbench.errors import UserError

@dataclass
class Snapshot:
    """What a comparison needs from one side: records plus suite and machine facts."""

    ref: str  # how it is shown: a run id or baseline:NAME
    kind: str  # "run" | "baseline"
    path: Path
    records: list[dict[str, Any]]
    suite: dict[str, Any] = field(default_factory=dict)
    machine: dict[str, Any] = field(default_factory=dict)
    fingerprint: str | None = None
    created: str | None = None
    run_id: str | None = None

    @property
    def git_commit(self) -> str | None:
        return self.machine.get("git_commit")


def load_snapshot(ref: str) -> Snapshot:
    """A run id / ``latest`` / run dir / results.jsonl, ``baseline:NAME``, a bare baseline name or its .json."""
    from rnnbench import baseline as bl
    from rnnbench.results import resolve_run

    ref = str(ref)
    if ref.startswith("baseline:"):
        return from_baseline(bl.load_baseline(ref.removeprefix("baseline:")))
    p = Path(ref)
    if p.suffix == ".json" and p.is_file():
        return from_baseline(bl.load_baseline(p))
    try:
        run = resolve_run(ref, kind="suite")
    except UserError as e:
        if bl.find_baseline(ref) is not None:
            return from_baseline(bl.load_baseline(ref))
        if e.message.endswith("no such run"):
            saved = [b["name"] for b in bl.list_baselines()]
            hint = "; ".join(x for x in (e.hint, f"baselines: {', '.join(saved)}" if saved else None) if x)
            raise UserError(f"{ref}: no such run or baseline", hint=hint or None) from None
        raise
    if not run.results.exists():
        raise UserError(f"{run.path}: no results.jsonl (has the run recorded any cell yet?)")
    try:
        records = run.records()
    except OSError as e:
        raise UserError(f"{run.results}: cannot read: {e.strerror}") from None
    except (UnicodeDecodeError, AttributeError, TypeError):
        raise UserError(f"{run.results}: unreadable (not rnnbench JSON lines)") from None
    meta = run.meta()
    return Snapshot(ref=run.run_id, kind="run", path=run.path, records=checked_records(records, run.results),
                    suite=meta.get("suite") or {}, machine=meta.get("machine") or {},
                    fingerprint=meta.get("fingerprint"), created=meta.get("created"), run_id=run.run_id)


def checked_records(records: list[dict[str, Any]], where: Path) -> list[dict[str, Any]]:
    if not records:
        raise UserError(f"{where}: no readable records")
    for n, r in enumerate(records, 1):
        if not isinstance(r, dict) or "status" not in r or not isinstance(r.get("settings"), dict):
            raise UserError(f"{where}: record {n} is not an rnnbench result (no status/settings)")
    return records


def from_baseline(data: dict[str, Any]) -> Snapshot:
    """A loaded baseline (:func:`rnnbench.baseline.load_baseline`) as a :class:`Snapshot`."""
    from rnnbench.baseline import baselines_dir
    from rnnbench.results import migrate

    path = Path(data.get("_path", baselines_dir() / f"{data['name']}.json"))
    records = checked_records([migrate(r) for r in data["records"]], path)
    return Snapshot(ref=f"baseline:{data['name']}", kind="baseline", path=path, records=records,
                    suite=data.get("suite") or {}, machine=data.get("machine") or {},
                    fingerprint=data.get("fingerprint"), created=data.get("run_created"), run_id=data.get("run_id"))
