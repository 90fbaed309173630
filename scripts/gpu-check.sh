#!/usr/bin/env bash
# The GPU paths end to end on a lent GPU machine (issue 29): run from the repository root there,
# with rnnbench's wheel and the packages that machine lacks (pydantic, platformdirs, keras, ...)
# in .whl/ (see docs/guides/gpus.md). Writes into $OUT (default ./gpu-out):
#   log.txt        everything printed;
#   gpu.tar.gz     the run (results.jsonl, run.json, logs) and its report, the verify table,
#                  the GPU calibration.
# Steps: nvidia-smi; `rnnbench env --calibrate --device cuda`; `rnnbench verify --device cuda`
# (PyTorch on the CPU against PyTorch on the GPU, every case); `rnnbench run gpu` (GRU and LSTM
# on PyTorch, Keras-JAX and Keras-torch, device = "cuda"); `rnnbench report` of that run.
set -uo pipefail
OUT=${OUT:-$PWD/gpu-out}
mkdir -p "$OUT"
exec > >(tee "$OUT/log.txt") 2>&1
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site
  export PATH=/tmp/site/bin:$PATH
fi
export PYTHONUNBUFFERED=1 RNNBENCH_HOME=$OUT/home RNNBENCH_REPORTS=$OUT/reports
work=$OUT/gpu && mkdir -p "$work"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
python3 -c "import torch, jax, keras; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.is_available()); print('jax', jax.__version__, jax.devices()); print('keras', keras.__version__)"
rb() { python3 -m rnnbench "$@"; }
echo "== rnnbench env --calibrate --device cuda"
rb env --calibrate --device cuda
echo "== rnnbench verify --device cuda"
time rb verify --device cuda | tee "$work/verify.txt"
echo "verify exit: ${PIPESTATUS[0]}"
echo "== rnnbench run gpu"
time rb run gpu -o "$work/runs" --no-report
echo "== rnnbench report"
rb report "$(ls -d "$work"/runs/*/ | tail -1)" -o "$work/report" -f md,csv
cp -r "$RNNBENCH_HOME/calibration" "$work/" 2>/dev/null
tar -C "$OUT" -czf "$OUT/gpu.tar.gz" gpu
ls -la "$OUT"
