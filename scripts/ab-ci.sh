#!/usr/bin/env bash
# The pull-request A/B check of .github/workflows/ab.yml, runnable anywhere (a local rehearsal
# runs exactly what CI runs). From a folder holding the pull request's checkout in ./head:
#
#   bash head/scripts/ab-ci.sh BASE_REF          # set up both venvs, then compare
#   bash head/scripts/ab-ci.sh --setup-only BASE_REF
#   bash head/scripts/ab-ci.sh --compare-only
#
# Setup: the merge-base of BASE_REF and head's HEAD is checked out into ./base (a git
# worktree), and base and head are each installed with [torch,keras] into their own venv
# (./venv-base, ./venv-head). Compare: head's rnnbench runs `rnnbench ab` on head's
# suites/ci-ab.toml (8 pairs a cell, then more for undecided cells within 280 s) with side A = venv-base (its own rnnbench worker) and side B = venv-head,
# writing ./ab/ab.md, ab.json, bench.json and the run under ./ab/runs. Exit: rnnbench ab's.
set -euo pipefail
mode=all
case "${1:-}" in --setup-only) mode=setup; shift ;; --compare-only) mode=compare; shift ;; esac
[[ -d head/.git || -f head/.git ]] || { echo "ab-ci: run from the folder holding the checkout in ./head" >&2; exit 2; }
PYTHON=${PYTHON:-python3}

if [[ $mode != compare ]]; then
  base_ref=${1:?"ab-ci: give the base ref (the pull request's base commit or branch)"}
  base=$(git -C head merge-base "$base_ref" HEAD)
  echo "ab-ci: base = merge-base($base_ref, HEAD) = $base; head = $(git -C head rev-parse HEAD)"
  rm -rf base
  git -C head worktree prune
  git -C head worktree add --detach "$PWD/base" "$base" >/dev/null
  for side in base head; do
    rm -rf "venv-$side"
    "$PYTHON" -m venv "venv-$side"
    "venv-$side/bin/python" -m pip install -q --upgrade pip
    "venv-$side/bin/python" -m pip install -q "./$side[torch,keras]"  # what suites/ci-ab.toml needs
    echo "ab-ci: venv-$side: $("venv-$side/bin/rnnbench" --version)"
  done
fi

if [[ $mode != setup ]]; then
  mkdir -p ab
  set +e
  venv-head/bin/rnnbench ab head/suites/ci-ab.toml --a venv-base --b venv-head --pairs 8 --until-decided 280 -o ab/runs \
    --markdown ab/ab.md --json ab/ab.json --bench ab/bench.json
  code=$?
  set -e
  [[ -f ab/ab.md ]] || printf '## rnnbench ab could not compare (exit %s)\n\nSee the job log.\n' "$code" > ab/ab.md
  exit "$code"
fi
