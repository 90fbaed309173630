"""Cells as tasks on a Ray cluster: ``rnnbench run SUITE --executor ray --address auto|HOST:PORT``.

The driver (this process) submits every cell as a Ray task asking for what the cell needs
(CPUs = its threads, one GPU for a GPU cell, the suite's ``ray_resources``) and lands each
record as it arrives, through the same path as the local executor — so ``--resume``, Ctrl-C
and reports cannot tell where a cell ran. A task is a thin host: on its node it claims
``threads`` cores no other rnnbench task there holds (``flock`` on one file per core, freed
by the kernel if the task dies), then runs the cell exactly as the local executor does — its
own ``python -m rnnbench.worker`` process, its environment set before any framework import,
pinned to those cores, killed at its ``timeout`` — and streams the worker's progress events
back (a Ray generator task), then the record, the node it ran on (with that node's machine
fingerprint) and the cell's log.

No shared file system is assumed: the files a suite's cells need from rnnbench's data home
(the imported IMDB reviews, Keras's word index) are put into Ray's object store once, and a
node copies them into its own data home (``$RNNBENCH_HOME`` of its Ray processes) only when
its copy is missing or its sha256 differs.

Faults become records, never a hung run: a cell whose worker process dies is ``crashed`` (as
locally); a task whose Ray worker process dies or whose node is lost is ``crashed`` with the
reason; a task still running ``timeout`` + :data:`DRIVER_GRACE_S` seconds after it started is
cancelled and recorded ``timeout``. Each is retried up to the cell's ``retries`` (the earlier
attempts kept in the record). A cell no node of the cluster could ever run (a GPU cell on a
cluster without GPUs, more threads than any node has, a custom resource nobody offers) is
recorded ``skipped`` with the reason instead of waiting forever.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import queue
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rnnbench.errors import UserError

if TYPE_CHECKING:
    from rnnbench.results import RunDir
    from rnnbench.runner import Progress
    from rnnbench.suite import Cell

DRIVER_GRACE_S = 120.0  # past a cell's own timeout (which its node enforces) before the driver gives up on it
WAIT_S = 0.5
CONNECT_TIMEOUT_S = 10.0
LOG_LIMIT = 4 * 2**20  # bytes of a cell's log brought back to the driver (its tail)
_DONE = object()


# -- on the node ---------------------------------------------------------------------------


def _ensure_data(manifest: dict[str, str], blobs: list[Any]) -> None:
    """Make this node's data home hold the files of ``manifest`` ({path under the home: sha256});
    fetch them from the object store (``blobs[0]``: {path: bytes}) only when a copy is missing
    or differs."""
    from rnnbench import paths
    from rnnbench.data.sources import file_sha256

    home = paths.home()
    stale = [rel for rel, digest in manifest.items()
             if not (home / rel).is_file() or file_sha256(home / rel) != digest]
    if not stale:
        return
    import ray

    files: dict[str, bytes] = ray.get(blobs[0])
    for rel in stale:
        data = files[rel]
        if hashlib.sha256(data).hexdigest() != manifest[rel]:
            raise RuntimeError(f"{rel}: the copy from the object store does not match its sha256")
        dest = home / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, dest)  # atomic: a task beside this one sees the old file or the whole new one


class _Cores:
    """``threads`` cores of this node that no other rnnbench task holds, claimed with one
    ``flock`` per core (released by the kernel when the task ends, however it ends)."""

    def __init__(self, want: int) -> None:
        import fcntl

        self.files: list[Any] = []
        lock_dir = Path(tempfile.gettempdir()) / "rnnbench-cores"
        lock_dir.mkdir(exist_ok=True)
        cores = sorted(os.sched_getaffinity(0))
        self.cores: list[int] = []
        for core in cores:
            if len(self.cores) == want:
                break
            f = open(lock_dir / f"{core}.lock", "w")
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                f.close()
                continue
            self.files.append(f)
            self.cores.append(core)
        if len(self.cores) < want:  # Ray let more tasks onto this node than it has free cores
            self.cores = cores[:want]

    def release(self) -> None:
        for f in self.files:
            f.close()


def node_facts() -> dict[str, Any]:
    """Where this task runs: Ray's node id and address, the host, and the machine fingerprint."""
    import ray

    from rnnbench.envinfo import fingerprint, machine

    ctx = ray.get_runtime_context()
    env = machine()
    return {"executor": "ray", "hostname": socket.gethostname(), "node_id": ctx.get_node_id(),
            "address": ray.util.get_node_ip_address(), "fingerprint": fingerprint(env),
            "cpu_model": env.get("cpu_model"), "cpu_count": env.get("cpu_count")}


def cell_task(cell_json: dict[str, Any], run_id: str, manifest: dict[str, str], blobs: list[Any]) -> Any:
    """The Ray task (a generator): ``{"event": …}`` while the cell runs, then ``{"record": …, "log": …}``."""
    from rnnbench.cellenv import resolved_threads
    from rnnbench.executors.local import run_cell_process
    from rnnbench.suite import Cell

    # under the driver's key (a resumed older run keeps the keys its cells were given)
    cell = dataclasses.replace(Cell.from_json(cell_json), stored_key=cell_json.get("key"))
    node = node_facts()
    yield {"event": {"event": "node", "node": node}}
    _ensure_data(manifest, blobs)
    cores = _Cores(resolved_threads(cell.settings))
    events: queue.Queue[Any] = queue.Queue()
    out: dict[str, Any] = {}
    work = Path(tempfile.mkdtemp(prefix=f"rnnbench-{run_id}-"))

    def run() -> None:
        try:
            out["record"] = run_cell_process(cell, work, run_id, on_event=lambda _c, ev: events.put(ev),
                                             cpus=cores.cores)
        except BaseException as e:  # noqa: BLE001 - handed to the generator below
            out["error"] = e
        finally:
            events.put(_DONE)

    thread = threading.Thread(target=run, name="cell", daemon=True)
    thread.start()
    try:
        while (ev := events.get()) is not _DONE:
            yield {"event": ev}
        thread.join()
        if "error" in out:
            raise out["error"]
        record = out["record"]
        record["node"] = node
        log_text = ""
        if record.get("log"):
            log = work / record["log"]
            try:
                with open(log, "rb") as f:
                    f.seek(max(0, log.stat().st_size - LOG_LIMIT))
                    log_text = f.read().decode("utf-8", "replace")
            except OSError:
                pass
        yield {"record": record, "log": log_text}
    finally:
        cores.release()
        shutil.rmtree(work, ignore_errors=True)


# -- on the driver -------------------------------------------------------------------------


def data_manifest(cells: list["Cell"]) -> tuple[dict[str, str], dict[str, bytes]]:
    """The data-home files the cells need ({path under the home: sha256}) and their bytes."""
    from rnnbench import paths
    from rnnbench.data.sources import imdb_meta_path, imdb_reviews_path, word_index_path

    wanted: list[Path] = []
    if any(c.settings.dataset == "imdb" for c in cells):
        wanted += [imdb_meta_path(), imdb_reviews_path()]
    if any(c.settings.encoding == "keras" for c in cells):
        wanted.append(word_index_path())
    home = paths.home()
    manifest, files = {}, {}
    for p in wanted:
        if not p.is_file():
            continue  # preflight has said so already; the cells will fail on their nodes with the reason
        data = p.read_bytes()
        rel = str(p.relative_to(home))
        manifest[rel], files[rel] = hashlib.sha256(data).hexdigest(), data
    return manifest, files


def task_options(cell: "Cell") -> dict[str, Any]:
    """What the cell's task asks the cluster for."""
    from rnnbench.cellenv import resolved_threads
    from rnnbench.suite import parse_resources

    s = cell.settings
    return {"num_cpus": resolved_threads(s), "num_gpus": 0 if s.device == "cpu" else 1,
            "resources": parse_resources(s.ray_resources), "max_retries": 0, "retry_exceptions": False}


def infeasible(opts: dict[str, Any], nodes: list[dict[str, float]]) -> str | None:
    """Why no node of the cluster could ever run a task asking for ``opts`` (None: one can)."""
    need = {"CPU": opts["num_cpus"], "GPU": opts["num_gpus"], **opts["resources"]}
    need = {k: v for k, v in need.items() if v}
    if any(all(node.get(k, 0.0) >= v for k, v in need.items()) for node in nodes):
        return None
    short = [k for k, v in need.items() if not any(node.get(k, 0.0) >= v for node in nodes)]
    what = ", ".join(f"{k} = {need[k]:g}" for k in short) or ", ".join(f"{k} = {v:g}" for k, v in need.items())
    return f"no node of the Ray cluster offers {what} (the cell's task asks for {need})"


def failure_record(cell: "Cell", run_id: str, status: str, error: str, started: str,
                   node: dict[str, Any] | None, t0: float) -> dict[str, Any]:
    """The record of a task that ended without the cell's own record (lost, cancelled, broken)."""
    from rnnbench.executors.local import now_iso
    from rnnbench.results import not_run_record

    return {**not_run_record(cell, run_id, status, error), "started": started, "finished": now_iso(),
            "wall_s": round(time.monotonic() - t0, 3), "log": None, "log_tail": None, "node": node}


def _ray_failure(e: BaseException) -> str:
    """A Ray system error in words."""
    import ray.exceptions as rx

    name = type(e).__name__
    text = str(e).lower()
    if isinstance(e, rx.NodeDiedError) or ("node" in text and ("died" in text or "dead" in text)):
        return f"the Ray node running the cell was lost ({name})"
    if isinstance(e, rx.WorkerCrashedError):
        return f"the Ray task's worker process died ({name})"
    return f"the Ray task failed: {name}: {str(e).strip().splitlines()[-1] if str(e).strip() else ''}"


@dataclass
class _Attempt:
    cell: "Cell"
    gen: Any
    t0: float
    started: str
    earlier: list[dict[str, Any]] = field(default_factory=list)
    node: dict[str, Any] | None = None
    t_run: float | None = None  # when it started on its node (a task may wait for resources first)
    announced: bool = False


def connect(address: str) -> None:
    """Connect this process to the Ray cluster at ``address`` (once; a UserError when it cannot)."""
    try:
        import ray
    except ImportError:
        raise UserError("--executor ray needs Ray", hint="pip install 'rnnbench[ray]'") from None
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    host, sep, port = address.rpartition(":")
    if sep and port.isdigit():  # fail in a second, not after Ray's own minute of retries
        try:
            socket.create_connection((host or "127.0.0.1", int(port)), timeout=CONNECT_TIMEOUT_S).close()
        except OSError as e:
            raise UserError(f"--address {address}: no Ray cluster answers there ({e.strerror or e})",
                            hint="start one with `ray start --head` (then --address auto), or give its HOST:PORT"
                            ) from None
    try:
        ray.init(address=address, log_to_driver=False, logging_level="error", include_dashboard=False,
                 ignore_reinit_error=True)
    except (ConnectionError, RuntimeError, ValueError) as e:
        raise UserError(f"--address {address}: cannot connect to a Ray cluster: {str(e).strip().splitlines()[0]}",
                        hint="start one with `ray start --head` (then --address auto), or give its HOST:PORT") from None


def smallest_node_cpus(address: str) -> int:
    """The CPUs of the cluster's smallest live node: what a cell that leaves ``threads`` unset gets
    (so it fits on every node, and its thread count does not depend on where it lands)."""
    import ray

    connect(address)
    cpus = [int(n["Resources"].get("CPU", 0)) for n in ray.nodes() if n.get("Alive")]
    return max(1, min((c for c in cpus if c > 0), default=1))


def run_cells(todo: list["Cell"], run: "RunDir", progress: "Progress",
              land: Callable[["Cell", dict[str, Any]], None], address: str) -> None:
    """Run ``todo`` on the Ray cluster at ``address``; ``land`` each record as it arrives."""
    connect(address)
    import ray

    from rnnbench.executors.local import now_iso
    from rnnbench.executors.retry import should_retry, summary, with_attempts

    attempts: list[_Attempt] = []
    try:
        manifest, files = data_manifest(todo)
        blobs = [ray.put(files)] if files else [None]
        nodes = [n["Resources"] for n in ray.nodes() if n.get("Alive")]
        remote = ray.remote(cell_task)

        def submit(cell: "Cell", earlier: list[dict[str, Any]], announced: bool = False) -> None:
            gen = remote.options(**task_options(cell)).remote(cell.to_json(), run.run_id, manifest, blobs)
            attempts.append(_Attempt(cell, gen, time.monotonic(), now_iso(), earlier, announced=announced))

        for cell in todo:
            why = infeasible(task_options(cell), nodes)
            if why:
                from rnnbench.results import not_run_record

                progress.cell_start(cell)
                land(cell, not_run_record(cell, run.run_id, "skipped", why))
            else:
                submit(cell, [])

        def finish(a: _Attempt, record: dict[str, Any]) -> None:
            attempts.remove(a)
            if should_retry(record, a.earlier, a.cell.settings.retries):
                progress.event(a.cell, {"event": "retry", "attempt": len(a.earlier) + 2, "after": record["status"]})
                submit(a.cell, [*a.earlier, summary(record)], announced=True)
                return
            land(a.cell, with_attempts(record, a.earlier))

        while attempts:
            ready, _ = ray.wait([a.gen for a in attempts], num_returns=1, timeout=WAIT_S)
            for a in [a for a in attempts if a.gen in ready]:
                try:
                    item = ray.get(next(a.gen))
                except StopIteration:
                    finish(a, failure_record(a.cell, run.run_id, "crashed", "the Ray task ended without a record",
                                             a.started, a.node, a.t0))
                    continue
                except ray.exceptions.RayTaskError as e:  # a bug on the node side, not the cell's own failure
                    finish(a, failure_record(a.cell, run.run_id, "error", _ray_failure(e.cause or e),
                                             a.started, a.node, a.t0))
                    continue
                except ray.exceptions.RayError as e:  # the task's process or its node was lost
                    finish(a, failure_record(a.cell, run.run_id, "crashed", _ray_failure(e), a.started, a.node, a.t0))
                    continue
                if "event" in item:
                    ev = item["event"]
                    if ev.get("event") == "node":
                        a.node, a.t_run = ev["node"], time.monotonic()
                    if not a.announced:
                        a.announced = True
                        progress.cell_start(a.cell)
                    progress.event(a.cell, ev)
                else:
                    record = item["record"]
                    if record.get("log"):
                        log = run.path / record["log"]
                        log.parent.mkdir(parents=True, exist_ok=True)
                        log.write_text(item["log"], encoding="utf-8")
                    finish(a, record)
            now = time.monotonic()
            for a in [a for a in attempts
                      if a.t_run is not None and now - a.t_run > a.cell.settings.timeout + DRIVER_GRACE_S]:
                ray.cancel(a.gen, force=True)
                finish(a, failure_record(a.cell, run.run_id, "timeout",
                                         f"the Ray task was still running {a.cell.settings.timeout + DRIVER_GRACE_S:g} s "
                                         "after it started on its node (cancelled)", a.started, a.node, a.t0))
    except BaseException:
        for a in attempts:  # Ctrl-C, SIGTERM: cancel what is outstanding, keep what landed
            try:
                ray.cancel(a.gen, force=True)
            except Exception:  # noqa: BLE001 - best effort on the way out
                pass
        raise
    finally:
        ray.shutdown()
