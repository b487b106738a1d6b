#!/usr/bin/env bash
# The whole GPU session of a lent device, as one short script (device time is scarce):
#   CUDA tests, one step of each paper-size experiment (per-row estimates), and `make benchmark` on CUDA.
# Run from the repository root on the GPU machine: bash benchmarks/gpu_session.sh  (results under $OUT).
set -u
export PYTHONUNBUFFERED=1 TQDM_DISABLE=1 PYTHONPATH=$PWD
OUT=${OUT:-/tmp/gpu_out}; mkdir -p "$OUT"
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  python3 -c "import torch, sys; print('torch', torch.__version__, 'python', sys.version.split()[0], torch.cuda.get_device_name())"
} | tee "$OUT/device.txt"
timeout 150 python3 -m pytest -q -p no:cacheprovider tests/test_cuda.py tests/test_speed.py 2>&1 | tail -20 | tee "$OUT/cuda_tests.txt"
timeout 200 python3 benchmarks/gpu_check.py --no-tests --budget-s 170 --json "$OUT/gpu_check.json" 2>&1 | tail -25
timeout 220 python3 benchmarks/benchmark.py --device cuda --json "$OUT/benchmark_cuda.json" 2>&1 | tail -25
ls -la "$OUT"
