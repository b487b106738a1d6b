#!/usr/bin/env bash
# Evidence runs on a lent GPU, as one command (device time is scarce): the LNAS (else LAMANAS) runs of the
# evidence queue (tools/evidence.py), as many at once as the card serves, until the time is up; the finished records
# come back in $OUT/records.tgz (unpack into data/results and commit them). LNAS runs too when CIFAR-10 is
# carried (`make gpu-carry`): the device decodes the JPEGs and runs LNAS only if the pixels' checksums are this
# machine's (`.carry/cifar10-jpeg.json`).
#   COMMIT=<sha> bash benchmarks/gpu_evidence.sh   (on the GPU machine, from the repository root)
# Carry .carry/omniglot-py/omniglot28.pt, .carry/cifar10-jpeg.tar.xz and .carry/cifar10-jpeg.json (`make gpu-carry`).
# The committed records are copied in first, so only runs not yet cached are made.
# Variables: PROFILE (cpu), ONLY (texts separated by commas, e.g. "Variant 2,Algorithm 3"; "LNAS" when CIFAR-10 checks out, else "LAMANAS": an LNAS run is ~17x faster
# on an H200 than on one core here, a LAMANAS row ~5x, so the card takes LNAS and the CPU sweep LAMANAS; a C=28
# learning curve takes ~14 min on the card, more than one call), SECONDS_LEFT (seconds the runs may take), PROCESSES (10 with CUDA MPS: each launch-bound
# run leaves the card mostly idle, and 10 on an H100 took 387-442 s per row, 7 of 10 inside 480 s; else 3),
# DEVICE (cuda), CUDA_TESTS (-k of test_cuda).
set -u
: "${COMMIT:?name the commit the tree is at: records carry it}"
export PYTHONUNBUFFERED=1 TQDM_DISABLE=1 PYTHONPATH=$PWD COMPANION_GIT_COMMIT=$COMMIT
export DATA_DIR=/tmp/evidence-data COMPANION_RESULTS_DIR=/tmp/evidence-results
OUT=${OUT:-/tmp/gpu_out}; mkdir -p "$OUT" "$COMPANION_RESULTS_DIR"
cp -r data/results/. "$COMPANION_RESULTS_DIR"/ && rm -rf "$COMPANION_RESULTS_DIR"/.running  # skip what is cached
touch /tmp/evidence-start  # records newer than this are the ones made here
mkdir -p "$DATA_DIR"/omniglot-py/images_background "$DATA_DIR"/omniglot-py/images_evaluation
cp .carry/omniglot-py/omniglot28.pt "$DATA_DIR"/omniglot-py/
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  python3 -c "import torch, sys; print('torch', torch.__version__, 'python', sys.version.split()[0])"
} > "$OUT/device.txt" 2>&1
LNAS=""
if [ -f .carry/cifar10-jpeg.tar.xz ]; then
  if python3 - >> "$OUT/device.txt" 2>&1 <<'EOF'
import json, os, tarfile
from lib.data.cifar10 import load_cifar10
with tarfile.open(".carry/cifar10-jpeg.tar.xz") as archive:
    archive.extractall(os.path.join(os.environ["DATA_DIR"], "cifar10-jpeg"), filter="data")
expected = json.load(open(".carry/cifar10-jpeg.json"))
got = {split: load_cifar10(split)[2].checksum for split in ("train", "test")}
print("CIFAR-10 decoded here:", "the same pixels" if got == expected else f"OTHER pixels {got}, expected {expected}")
raise SystemExit(got != expected)
EOF
  then LNAS="LNAS"  # the rows; the lnas_ measurement runs stay with the CPU sweep (one is ~4 h, past a call)
  else rm -rf "$DATA_DIR/cifar10-jpeg"  # other pixels (or none): no LNAS run may make a record here
  fi
fi
timeout 60 python3 -m pytest -q -p no:cacheprovider tests/test_cuda.py -k "${CUDA_TESTS:-tf32}" > "$OUT/cuda_tests.txt" 2>&1
# CUDA MPS lets the launch-bound processes' kernels share the card at once instead of time-slicing it
export CUDA_MPS_PIPE_DIRECTORY=/tmp/mps-pipe CUDA_MPS_LOG_DIRECTORY=/tmp/mps-log
mkdir -p "$CUDA_MPS_PIPE_DIRECTORY" "$CUDA_MPS_LOG_DIRECTORY"
probe() { timeout 90 python3 -c "import torch; torch.ones(1, device='cuda').sum().item()" 2>>"$OUT/device.txt"; }
if [ "${DEVICE:-cuda}" = cuda ] && nvidia-cuda-mps-control -d 2>>"$OUT/device.txt" && probe; then
  echo "CUDA MPS: on" >> "$OUT/device.txt"; PROCESSES=${PROCESSES:-10}
else
  echo quit | nvidia-cuda-mps-control 2>/dev/null
  echo "CUDA MPS: off" >> "$OUT/device.txt"; PROCESSES=${PROCESSES:-3}
fi
pack() { (cd "$COMPANION_RESULTS_DIR" && find . -name '*.json' -newer /tmp/evidence-start -not -path './.running/*' \
           | tar czf "$OUT/records.tgz.part" -T -) && mv "$OUT/records.tgz.part" "$OUT/records.tgz"; }
( while sleep 20; do pack; done ) &  # what has landed comes back even if the call is cut short
PACKER=$!
IFS=, read -ra ONLY_TEXTS <<< "${ONLY:-${LNAS:-LAMANAS}}"
timeout "${SECONDS_LEFT:-480}" python3 tools/evidence.py start --profile "${PROFILE:-cpu}" --device "${DEVICE:-cuda}" \
  --processes "$PROCESSES" --threads 1 --only "${ONLY_TEXTS[@]}" > "$OUT/evidence.log" 2>&1
sleep 2  # timeout signals the whole process group, the spawned workers included
python3 tools/evidence.py status --profile "${PROFILE:-cpu}" --device "${DEVICE:-cuda}" --only "${ONLY_TEXTS[@]}" \
  > "$OUT/status.txt" 2>&1
kill $PACKER; pack
echo quit | nvidia-cuda-mps-control 2>/dev/null
cat "$OUT/device.txt"; tail -5 "$OUT/evidence.log"; head -9 "$OUT/status.txt"; tar tzf "$OUT/records.tgz" | grep -c json
