"""Run timing-sensitive tests again and again while every core is kept busy (issue 28).

The settle test (a busy process is waited for, an idle one is not) and the phase-sum test (a
step's forward, backward and optimizer phases add up to it) once failed on a loaded machine.
This starts one spinning process per core, runs each named test ``--runs`` times in a fresh
pytest process, and prints how many passed, with each run's wall time::

    python benchmarks/tests_under_load.py --runs 20

Exit 1 if any run failed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

TESTS = (
    "tests/test_ab.py::test_settle_waits_for_a_busy_process_and_not_for_an_idle_one",
    "tests/test_torch_backend.py::test_each_step_is_split_into_forward_backward_and_optimizer_that_add_up_to_it",
)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--spinners", type=int, default=os.cpu_count() or 2, help="busy processes (default: one a core)")
    ap.add_argument("tests", nargs="*", default=list(TESTS))
    args = ap.parse_args()
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.spinners)]
    failed = 0
    try:
        time.sleep(1.0)
        print(f"{args.spinners} spinning processes on {os.cpu_count()} cores; load average "
              f"{os.getloadavg()[0]:.2f}", flush=True)
        for test in args.tests:
            passed, walls = 0, []
            for _ in range(args.runs):
                t0 = time.monotonic()
                res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test],
                                     capture_output=True, text=True, check=False)
                walls.append(time.monotonic() - t0)
                if res.returncode == 0:
                    passed += 1
                else:
                    print(res.stdout[-2000:], flush=True)
            failed += args.runs - passed
            print(f"{passed}/{args.runs} passed  {test.split('::')[-1]}  (runs {min(walls):.1f}–{max(walls):.1f} s, "
                  f"load average now {os.getloadavg()[0]:.2f})", flush=True)
    finally:
        for p in spinners:
            p.kill()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
