"""The two sides of an A/B run: which interpreter each runs, which settings it overrides, and
what its environment holds (probed in a subprocess before any cell starts)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rnnbench.errors import UserError
from rnnbench.suite import CellSettings, Suite, setting_problem



@dataclass(frozen=True)
class SideSpec:
    """One side: the interpreter it runs and the settings it overrides."""

    name: str  # "a" | "b"
    python: str
    overrides: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)  # PYTHONPATH when the side has no rnnbench
    rnnbench: str = ""  # which rnnbench the side's workers run (version and where)
    versions: dict[str, str] = field(default_factory=dict)
    # settings this rnnbench has and the side's own (older) rnnbench does not: left out of the
    # cells its workers get, which is only allowed while they keep their default (plan)
    unknown_settings: tuple[str, ...] = ()
    pins: tuple[str, ...] = ()  # --a-with/--b-with: requirements its environment was built with (ab.envs)

    def describe(self) -> str:
        bits = [self.python + (f" (with {', '.join(self.pins)})" if self.pins else "")]
        if self.overrides:
            bits.append(", ".join(f"{k}={v}" for k, v in self.overrides.items()))
        return "; ".join(bits)


# A side's interpreter must import *its* rnnbench, never one that happens to lie in the current
# folder (``python -c`` and ``-m`` put the working directory first on sys.path): Python 3.11's
# safe-path mode leaves it out, for the probe and for the side's workers alike.
SAFE_PATH = {"PYTHONSAFEPATH": "1"}

_PROBE = """
import importlib.util, json, sys
from importlib import metadata
out = {"python": sys.version.split()[0], "modules": {}, "versions": {}}
for m in sys.argv[1:]:
    out["modules"][m] = importlib.util.find_spec(m) is not None
for d in ("torch", "tensorflow", "tensorflow-cpu", "keras", "jax", "jaxlib", "numpy", "rnnbench"):
    try:
        out["versions"][d] = metadata.version(d)
    except metadata.PackageNotFoundError:
        pass
spec = importlib.util.find_spec("rnnbench")
out["rnnbench_at"] = (spec.submodule_search_locations or [None])[0] if spec else None
out["lockstep"] = bool(spec) and importlib.util.find_spec("rnnbench.turns") is not None
if out["lockstep"]:
    try:
        from rnnbench.suite import CellSettings
        out["settings"] = sorted(CellSettings.model_fields)
    except Exception:  # its workers will say what is wrong, cell by cell
        pass
print(json.dumps(out))
"""


def resolve_python(path: str, side: str) -> str:
    """An interpreter path, or a venv folder (its ``bin/python``), checked to run."""
    p = Path(path).expanduser()
    if p.is_dir():
        p = p / "bin" / "python"
    if not p.exists():
        raise UserError(f"--{side} {path}: no such interpreter or venv",
                        hint="give a Python executable or a venv folder (with bin/python)")
    if not os.access(p, os.X_OK):
        raise UserError(f"--{side} {path}: {p} is not executable")
    return str(p.absolute())


def probe_side(name: str, python: str, overrides: dict[str, Any], needs: set[str]) -> SideSpec:
    """Check the side's interpreter has what its cells need; say which rnnbench it will run."""
    try:
        out = subprocess.run([python, "-c", _PROBE, *sorted(needs | {"numpy"})], capture_output=True, text=True,
                             timeout=60, check=False, env={**os.environ, **SAFE_PATH})
    except (OSError, subprocess.TimeoutExpired) as e:
        raise UserError(f"side {name.upper()}: {python} does not run: {e}") from None
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["no output"])[-1]
        raise UserError(f"side {name.upper()}: {python} failed: {last}")
    info = json.loads(out.stdout.strip().splitlines()[-1])
    if info.get("rnnbench_at") and not info.get("lockstep"):
        raise UserError(f"side {name.upper()}: its rnnbench {info['versions'].get('rnnbench', '?')} "
                        f"({info['rnnbench_at']}) predates rnnbench ab (no lockstep worker)",
                        hint="install a newer rnnbench there, or uninstall it to run this one's worker on its frameworks")
    missing = sorted(m for m, ok in info["modules"].items() if not ok)
    if missing:
        raise UserError(f"side {name.upper()} ({python}) lacks {', '.join(missing)}, which its cells need",
                        hint=f"{python} -m pip install {' '.join(missing)}")
    env: dict[str, str] = dict(SAFE_PATH)
    unknown: tuple[str, ...] = ()
    if info.get("settings"):
        unknown = tuple(sorted(set(CellSettings.model_fields) - set(info["settings"])))
    if info.get("rnnbench_at"):
        which = f"its own rnnbench {info['versions'].get('rnnbench', '?')} ({info['rnnbench_at']})"
    else:  # no rnnbench there: run this one's worker with that side's frameworks
        here = str(Path(__file__).resolve().parents[2])  # the folder holding this rnnbench
        env["PYTHONPATH"] = here + (os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else "")
        which = f"this rnnbench ({here}) on the side's frameworks"
    return SideSpec(name, python, dict(overrides), env, which, info.get("versions", {}), unknown)


def make_sides(a: str | None, b: str | None, a_set: dict[str, Any], b_set: dict[str, Any], suite: Suite,
               allow_same: bool = False, a_with: tuple[str, ...] = (), b_with: tuple[str, ...] = (),
               on_build: Any = None) -> tuple[SideSpec, SideSpec]:
    """The two sides, each checked: its interpreter (``--a``/``--b``, else this one; with
    ``a_with``/``b_with`` pins, an environment built from it plus those, :mod:`rnnbench.ab.envs`)
    and its overrides. ``on_build(option, pins)`` is told before an environment is built."""
    from rnnbench.ab.envs import parse_pins, side_environment

    pins = {"a": parse_pins(list(a_with), "--a-with"), "b": parse_pins(list(b_with), "--b-with")}
    python = {side: resolve_python(given, side) if given else sys.executable for side, given in (("a", a), ("b", b))}
    for side, over in (("a", a_set), ("b", b_set)):
        for k, v in over.items():
            problem = setting_problem(k, v)
            if problem:
                raise UserError(f"--{side}-set {k}: {problem}")
    for side in ("a", "b"):
        if pins[side]:
            if on_build:
                on_build(f"--{side}-with", pins[side])
            python[side] = side_environment(pins[side], python[side], f"--{side}-with")
    py_a, py_b = python["a"], python["b"]
    # Paths, not their targets: two venvs' pythons link to the same interpreter, yet differ.
    same = os.path.abspath(py_a) == os.path.abspath(py_b) and a_set == b_set
    if same and not allow_same:
        raise UserError("side A and side B differ in nothing (same interpreter, same settings)",
                        hint="give --a/--b environments or --a-set/--b-set overrides; --aa measures A against itself")
    needs = {m for c in suite.cells for m in _backend_modules(c.settings.backend)}
    return (replace(probe_side("a", py_a, a_set, needs), pins=pins["a"]),
            replace(probe_side("b", py_b, b_set, needs), pins=pins["b"]))


def _set_items(overrides: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in overrides.items())


def _backend_modules(backend: str) -> tuple[str, ...]:
    from rnnbench.backends.base import get_backend

    return get_backend(backend).requires

