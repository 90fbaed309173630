"""Facts about the machine and software a measurement was taken on.

The parent records the machine (CPU model, cores, hostname, Python, git commit) when a run
starts; each worker adds what only it can know (framework versions, thread counts,
flush-to-zero) through its backend's ``describe()``. Also the fingerprint that baselines
compare (see :func:`fingerprint`).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import socket
import subprocess
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

FRAMEWORK_DISTS = ("torch", "tensorflow", "tensorflow-cpu", "keras", "jax", "jaxlib", "numpy")


@lru_cache(maxsize=1)
def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _git(*args: str, cwd: str | None = None) -> str | None:
    """``git ARGS`` in the package's directory (or ``cwd``): its output, or None if it failed."""
    where = cwd or str(Path(__file__).resolve().parent)
    try:
        out = subprocess.run(["git", *args], cwd=where, capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _in_checkout() -> bool:
    """Whether rnnbench runs from a git checkout that tracks its files (not an installed wheel)."""
    return _git("ls-files", "--error-unmatch", "--", Path(__file__).name) is not None


def git_commit(cwd: str | None = None) -> str | None:
    """The commit of rnnbench's own source checkout (``-dirty`` if it has changes), else None.

    Git runs in the package's directory (or ``cwd``, if given), never in the caller's working
    directory, and only counts when that checkout tracks the package's files: an installed
    wheel (even in a venv inside some other repository) has no commit.
    """
    if cwd is None and not _in_checkout():
        return None
    commit = _git("rev-parse", "HEAD", cwd=cwd)
    if not commit:
        return None
    dirty = _git("status", "--porcelain", "--untracked-files=no", cwd=cwd)
    return commit + ("-dirty" if dirty else "")


def git_branch(cwd: str | None = None) -> str | None:
    """The branch runs are kept under: ``$RNNBENCH_BRANCH`` if set, else the one checked out in
    rnnbench's checkout (or ``cwd``), else, on a detached CI checkout, the CI's own name for it
    (``$GITHUB_HEAD_REF``, ``$GITHUB_REF_NAME``); None when there is none."""
    if os.environ.get("RNNBENCH_BRANCH"):
        return os.environ["RNNBENCH_BRANCH"]
    if cwd is not None or _in_checkout():
        branch = _git("rev-parse", "--abbrev-ref", "HEAD", cwd=cwd)
        if branch and branch != "HEAD":
            return branch
    return os.environ.get("GITHUB_HEAD_REF") or os.environ.get("GITHUB_REF_NAME") or None


def git_commit_time(commit: str, cwd: str | None = None) -> str | None:
    """When ``commit`` (``-dirty`` ignored) was committed, ISO 8601; None if git does not know it."""
    return _git("show", "-s", "--format=%cI", commit.removesuffix("-dirty"), "--", cwd=cwd) or None


def versions() -> dict[str, str]:
    found: dict[str, str] = {}
    for dist in FRAMEWORK_DISTS:
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return found


def transparent_huge_pages() -> str | None:
    """The kernel's THP mode (``always``, ``madvise`` or ``never``), None where it cannot be read."""
    try:
        text = Path("/sys/kernel/mm/transparent_hugepage/enabled").read_text()
    except OSError:
        return None
    return text[text.find("[") + 1:text.find("]")] if "[" in text else text.strip()


def address_space_randomized() -> bool | None:
    """Whether this process's memory layout was randomized (ASLR): off when the kernel's
    ``randomize_va_space`` is 0 or the process runs with ADDR_NO_RANDOMIZE (``aslr = false``,
    ``setarch -R``); None where it cannot be read (not Linux)."""
    try:
        if Path("/proc/sys/kernel/randomize_va_space").read_text().strip() == "0":
            return False
        return not int(Path("/proc/self/personality").read_text().strip(), 16) & 0x0040000
    except (OSError, ValueError):
        return None


def huge_pages_mb() -> float | None:
    """This process's anonymous memory backed by transparent huge pages now, in MB (Linux)."""
    try:
        for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
            if line.startswith("AnonHugePages:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def machine() -> dict[str, Any]:
    from rnnbench import __version__

    mem = None
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        pass
    return {
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_model": cpu_model(),
        "cpu_count": cpu_count(),
        "memory_gib": round(mem, 1) if mem else None,
        "rnnbench": __version__,
        "git_commit": (commit := git_commit()),
        "git_branch": git_branch(),
        "git_commit_time": git_commit_time(commit) if commit else None,
        "versions": versions(),
    }


def fingerprint(env: dict[str, Any]) -> str:
    """What must be equal for timings to be comparable: CPU, cores, Python, framework versions."""
    key = {k: env.get(k) for k in ("cpu_model", "cpu_count", "python")}
    key["versions"] = env.get("versions", {})
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]
