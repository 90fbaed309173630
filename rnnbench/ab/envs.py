"""A side's environment built from pins (``rnnbench ab --a-with 'keras==3.13.2'``): the current
environment plus the named requirements, so "did the upgrade make training slower?" needs no
hand-made venv.

The environment is a venv made by uv over the base interpreter, holding only what the pins
bring; a ``.pth`` file adds the base environment's site-packages after its own (with their
``.pth`` files, so an editable rnnbench counts), so everything else (the frameworks,
rnnbench itself) is the base's. uv installs the pins with every other
package constrained to the version the base has, so a pin that would need another version of a
shared dependency fails to resolve rather than silently mixing builds; pin that dependency too.
Built once per specification (base interpreter, its packages, the pins) under
``$RNNBENCH_HOME/envs/<digest>`` and reused; a build is made in a scratch folder and renamed
into place, so a failed or concurrent build never leaves half an environment behind. Every
failure — a requirement that does not parse, uv missing, a package or version the index does
not have, a build that fails — is one line naming the option and the pin, before any cell
starts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from rnnbench.errors import UserError

_BASE = """
import json, site, sys, sysconfig
paths = sysconfig.get_paths()
print(json.dumps({"paths": list(dict.fromkeys([paths["purelib"], paths["platlib"], *site.getsitepackages()])),
                  "version": sys.version.split()[0]}))
"""


def parse_pins(pins: list[str], option: str) -> tuple[str, ...]:
    """Each pin checked to be a requirement (``keras==3.13.2``, ``numpy<2``); normalized and sorted."""
    from packaging.requirements import InvalidRequirement, Requirement

    out = []
    for pin in pins:
        try:
            req = Requirement(pin)
        except InvalidRequirement as e:
            raise UserError(f"{option} {pin!r}: not a requirement ({str(e).splitlines()[0]})",
                            hint="e.g. --a-with 'keras==3.13.2'") from None
        if req.url:
            raise UserError(f"{option} {pin!r}: a URL requirement; give a name and version, e.g. 'keras==3.13.2'")
        out.append(str(req))
    return tuple(sorted(set(out)))


def side_environment(pins: tuple[str, ...], base_python: str, option: str) -> str:
    """The interpreter of base_python's environment plus ``pins``, built (or reused) now."""
    from rnnbench.identity import digest
    from rnnbench.paths import home

    uv = _uv(option)
    base = _run([base_python, "-c", _BASE], option, "the base interpreter does not run")
    info = json.loads(base.stdout.strip().splitlines()[-1])
    frozen = _frozen(uv, base_python, option)
    key = digest({"python": os.path.abspath(base_python), "version": info["version"], "packages": frozen,
                  "pins": list(pins), "layout": 2})
    root = home() / "envs"
    target = root / key
    python = target / "bin" / "python"
    if (target / ".ready").exists():
        return str(python)
    root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=root))
    try:
        _run([uv, "venv", "--quiet", "--python", base_python, str(scratch / "venv")], option, "uv venv failed")
        site_dir = next((scratch / "venv" / "lib").glob("python*/site-packages"))
        # addsitedir, not bare paths: the base's own .pth files (an editable rnnbench) count too
        (site_dir / "zz-rnnbench-base.pth").write_text(
            "".join(f"import site; site.addsitedir({p!r})\n" for p in info["paths"]), encoding="utf-8")
        names = {_name(p) for p in pins}
        constraints = scratch / "constraints.txt"
        constraints.write_text("\n".join(line for line in frozen if _name(line) not in names) + "\n", encoding="utf-8")
        _run([uv, "pip", "install", "--quiet", "--python", str(scratch / "venv" / "bin" / "python"),
              "--constraint", str(constraints), *pins], option, f"could not install {' '.join(pins)}")
        (scratch / "venv" / ".ready").write_text(json.dumps({"pins": list(pins), "base": base_python}),
                                                 encoding="utf-8")
        try:
            os.rename(scratch / "venv", target)
        except OSError:  # built at the same time by another run: theirs is as good
            if not (target / ".ready").exists():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return str(python)


def _uv(option: str) -> str:
    """uv's executable: on PATH, or next to this interpreter (``pip install uv``)."""
    found = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
    if not found:
        raise UserError(f"{option} needs uv to build the environment, which is not installed",
                        hint="pip install 'rnnbench[upgrades]' (or pip install uv)")
    return found


def _frozen(uv: str, python: str, option: str) -> list[str]:
    """The base environment's packages as ``name==version`` lines (editable and URL installs left out)."""
    out = _run([uv, "pip", "freeze", "--python", python], option, "could not list the base environment's packages")
    return sorted(line.strip() for line in out.stdout.splitlines() if "==" in line and " @ " not in line
                  and not line.startswith("-"))


def _name(requirement: str) -> str:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    return canonicalize_name(Requirement(requirement).name)


def _run(cmd: list[str], option: str, what: str) -> subprocess.CompletedProcess[str]:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise UserError(f"{option}: {what}: {e}") from None
    if out.returncode != 0:
        lines = [x.strip() for x in (out.stderr or out.stdout).splitlines() if x.strip()]
        why = next((x for x in lines if "error" in x.lower()), lines[-1] if lines else f"exit {out.returncode}")
        raise UserError(f"{option}: {what}: {why.removeprefix('error: ')}")
    return out
