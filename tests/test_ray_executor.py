"""``rnnbench run --executor ray`` against a real two-node Ray cluster on this machine.

The module starts one cluster with Ray's own CLI — ``ray start --head --block`` and a
second ``ray start --address HEAD --block`` on loopback, each in a session of its own, each
node with its own ``RNNBENCH_HOME`` (so nothing reaches a node through the driver's data
home: the IMDB files must come through Ray's object store) — and stops it afterwards. The
runs are real ``rnnbench run`` processes. Ray missing is a skip here and a failure in CI.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from helpers import interruptible, require_module, require_shared_imdb, write_suite

ray = require_module("ray")
RAY = str(Path(sys.executable).with_name("ray"))
pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """Two Ray nodes (head ``a``, worker ``b``), one CPU each, on loopback."""

    def __init__(self, root: Path) -> None:
        self.port = _free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.temp = tempfile.mkdtemp(prefix="rr", dir="/tmp")  # short: Ray's socket paths must fit 107 bytes
        self.homes = {n: root / f"node-{n}" for n in "ab"}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.logs = root / "ray-logs"
        self.logs.mkdir()
        self._start("a", ["--head", f"--port={self.port}", "--include-dashboard=false"])
        self._wait_nodes(1)
        self._start("b", [f"--address={self.address}"])
        self._wait_nodes(2)

    def _start(self, name: str, args: list[str]) -> None:
        env = {**os.environ, "RNNBENCH_HOME": str(self.homes[name]), "RAY_USAGE_STATS_ENABLED": "0"}
        env.pop("RNNBENCH_REPORTS", None)
        with open(self.logs / f"{name}.log", "wb") as log:
            self.procs[name] = subprocess.Popen(
                [RAY, "start", *args, "--num-cpus=1", f"--temp-dir={self.temp}", "--disable-usage-stats",
                 "--block"], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def _wait_nodes(self, n: int, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = subprocess.run([RAY, "status", f"--address={self.address}"], capture_output=True, text=True,
                                 env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}, check=False)
            active = out.stdout.split("Active:", 1)[-1].split("Pending:", 1)[0]
            if out.returncode == 0 and active.count("node_") >= n:
                return
            time.sleep(1.0)
        raise AssertionError(f"the Ray cluster did not reach {n} nodes: " + (self.logs / "a.log").read_text()[-2000:])

    def kill_node(self, name: str) -> None:
        """Lose a node the hard way: SIGKILL to its whole process group (raylet, its workers)."""
        os.killpg(self.procs[name].pid, signal.SIGKILL)
        self.procs[name].wait()

    def stop(self) -> None:
        for name in ("b", "a"):
            p = self.procs.get(name)
            if p is None or p.poll() is not None:
                continue
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    """One cluster for the module (starting one takes ~15 s on 2 cores); the fault test, last,
    loses node b."""
    c = Cluster(tmp_path_factory.mktemp("ray"))
    try:
        yield c
    finally:
        c.stop()


def _run(tmp_path: Path, suite: Path, *args: str, wait: bool = True):  # noqa: ANN202
    cmd = [sys.executable, "-m", "rnnbench", "run", str(suite), "--no-report", "-o", str(tmp_path / "runs"), *args]
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    if not wait:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, preexec_fn=interruptible)
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=360, check=False)


def _records(tmp_path: Path, run_id: str | None = None) -> list[dict]:
    runs = sorted(p for p in (tmp_path / "runs").iterdir() if not p.name.startswith(".")
                  and (run_id is None or p.name == run_id))
    return [json.loads(line) for line in (runs[-1] / "results.jsonl").read_text().splitlines()]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_suite_on_two_nodes_gives_the_local_executors_records_with_the_data_shipped(
        cluster: Cluster, tmp_path: Path) -> None:
    from rnnbench.data.importer import import_imdb
    from rnnbench.data.sources import imdb_reviews_path

    import_imdb(require_shared_imdb() / "aclImdb_labelled.tar.gz", progress=False)  # into the driver's home only
    suite = write_suite(tmp_path, """
[defaults]
backend = "fake"
epochs = 2
[matrix]
arch = ["gru", "lstm", "rnn"]
[[include]]
arch = "gru"
backend = "fake"
dataset = "imdb"
train_size = 300
test_size = 300
""", name="raysuite")
    local = _run(tmp_path, suite, "--set", "threads=1")
    assert local.returncode == 0, local.stdout + local.stderr
    local_records = _records(tmp_path)
    on_ray = _run(tmp_path, suite, "--executor", "ray", "--address", cluster.address)
    assert on_ray.returncode == 0, on_ray.stdout + on_ray.stderr
    assert "threads unset: each cell asks for 1 CPU" in on_ray.stderr
    records = _records(tmp_path)
    assert len(records) == 4 and all(r["status"] == "ok" for r in records), records
    # the same cells (threads = 1 on both: the smallest node's CPUs) and the same record form
    assert sorted(r["key"] for r in records) == sorted(r["key"] for r in local_records)
    assert all(set(r) == set(local_records[0]) for r in records)
    assert {r["node"]["executor"] for r in local_records} == {"local"}
    assert {r["node"]["executor"] for r in records} == {"ray"}
    assert len({r["node"]["node_id"] for r in records}) == 2  # both nodes ran cells
    assert all(r["node"]["fingerprint"] == local_records[0]["node"]["fingerprint"] for r in records)
    run_dir = next(p for p in (tmp_path / "runs").iterdir() if p.name == records[0]["run_id"])
    assert all((run_dir / r["log"]).is_file() for r in records)  # logs came back from the nodes
    # the imdb cell's node got the reviews from the object store, byte for byte
    imdb = next(r for r in records if r["settings"]["dataset"] == "imdb")
    shipped = [cluster.homes[n] / "data" / "imdb" / "reviews.tsv.gz" for n in "ab"]
    assert any(p.is_file() and _sha(p) == _sha(imdb_reviews_path()) for p in shipped), shipped
    assert imdb["metrics"]["epochs"][0]["samples"] == 300


def _workers(tag: str) -> dict[int, str]:
    """Live ``rnnbench.worker`` processes of runs whose id contains ``tag``: pid → the node's RNNBENCH_HOME."""
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes()
            if b"rnnbench.worker" not in argv or tag.encode() not in argv:
                continue
            env = dict(kv.split(b"=", 1) for kv in (proc / "environ").read_bytes().split(b"\0") if b"=" in kv)
        except OSError:
            continue
        found[int(proc.name)] = env.get(b"RNNBENCH_HOME", b"").decode()
    return found


def test_a_hung_cell_is_a_recorded_timeout_on_its_node(cluster: Cluster, tmp_path: Path) -> None:
    suite = write_suite(tmp_path, """
[defaults]
backend = "fake"
epochs = 1
threads = 1
[matrix]
fault = ["none"]
[[include]]
fault = "hang"
timeout = 3
[[include]]
backend = "fake"
threads = 1
device = "cuda"
""", name="rayhang")
    # only the hung cell gets the short timeout: a loaded host can take over 3 s to start a worker
    run = _run(tmp_path, suite, "--executor", "ray", "--address", cluster.address)
    assert run.returncode == 0, run.stdout + run.stderr
    by = {(r["settings"]["fault"], r["settings"]["device"]): r for r in _records(tmp_path)}
    hung = by[("hang", "cpu")]
    assert hung["status"] == "timeout" and "timed out after 3 s" in hung["error"] and hung["node"]["executor"] == "ray"
    assert by[("none", "cpu")]["status"] == "ok"
    # a GPU cell on a cluster without GPUs is skipped with the reason, not left waiting forever
    gpu = by[("none", "cuda")]
    assert gpu["status"] == "skipped" and "no node of the Ray cluster offers GPU = 1" in gpu["error"]


def test_ctrl_c_cancels_what_is_outstanding_keeps_what_finished_and_the_run_resumes(
        cluster: Cluster, tmp_path: Path) -> None:
    suite = write_suite(tmp_path, """
[defaults]
backend = "fake"
threads = 1
[matrix]
epochs = [1, 80]
arch = ["gru", "lstm"]
""", name="rayint")
    run = _run(tmp_path, suite, "--executor", "ray", "--address", cluster.address, wait=False)
    try:
        deadline = time.monotonic() + 120
        while (not list((tmp_path / "runs").glob("*/results.jsonl")) or len(_records(tmp_path)) < 2
               or len(_workers("rayint")) < 2):  # the short cells are done, the two long ones are running
            assert run.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        run.send_signal(signal.SIGINT)
        out, _ = run.communicate(timeout=60)
    finally:
        run.kill()
    assert run.returncode == 130, out
    assert "continue with `rnnbench run --resume" in out.decode()
    kept = _records(tmp_path)
    assert len(kept) == 2 and all(r["settings"]["epochs"] == 1 and r["status"] == "ok" for r in kept)
    deadline = time.monotonic() + 30
    while _workers("rayint") and time.monotonic() < deadline:  # the cancelled tasks took their workers along
        time.sleep(0.2)
    assert not _workers("rayint")
    resumed = subprocess.run([sys.executable, "-m", "rnnbench", "run", "--resume", kept[0]["run_id"], "--no-report",
                              "-o", str(tmp_path / "runs"), "--executor", "ray", "--address", cluster.address],
                             capture_output=True, text=True, timeout=300, check=False,
                             env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"})
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    records = _records(tmp_path)
    assert len(records) == 4 and len({r["key"] for r in records}) == 4 and all(r["status"] == "ok" for r in records)


def test_a_killed_worker_and_a_lost_node_are_recorded_and_retried(cluster: Cluster, tmp_path: Path) -> None:
    suite = write_suite(tmp_path, """
[defaults]
backend = "fake"
epochs = 80
retries = 2
threads = 1
[matrix]
arch = ["gru", "lstm"]
""", name="rayfaults")
    run = _run(tmp_path, suite, "--executor", "ray", "--address", cluster.address, wait=False)
    try:
        deadline = time.monotonic() + 120
        while len(workers := _workers("rayfaults")) < 2:
            assert run.poll() is None and time.monotonic() < deadline, run.stdout.read() if run.stdout else ""
            time.sleep(0.2)
        on_a = next(pid for pid, home in workers.items() if home == str(cluster.homes["a"]))
        os.kill(on_a, signal.SIGKILL)  # the cell's own worker process dies
        cluster.kill_node("b")  # and the other node is lost while it runs the other cell
        out, _ = run.communicate(timeout=360)
    finally:
        run.kill()
    assert run.returncode == 0, out
    records = _records(tmp_path)
    assert len(records) == 2 and all(r["status"] == "ok" for r in records), out
    failed = [a for r in records for a in r.get("attempts", [])]
    assert any(a["status"] == "crashed" and a.get("signal") == "SIGKILL" for a in failed), failed
    assert any(a["status"] == "crashed" and "node" in a["error"] and "lost" in a["error"] for a in failed), failed
    assert "running it again" in out.decode()
