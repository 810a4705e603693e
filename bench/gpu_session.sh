#!/usr/bin/env bash
# One prepared device check for a session that is lent a GPU (the device tool runs it from the repo root):
# the training-throughput bench on the default model (safe-128, batch 256): every switch on/off, the classic
# loop for the ratio, the real data pipeline, and the top kernels of one step. JSON lines go to $OUT/bench.jsonl.
set -uo pipefail
OUT=${OUT:-/tmp/msls_bench}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
python -c "import torch, torchvision; print(torch.__version__, torch.cuda.get_device_name())" || pip install -q torch torchvision
pip install -q --no-deps -e . >/dev/null 2>&1 || pip install -q -e .
nvidia-smi --query-gpu=name,clocks.max.sm,power.limit --format=csv | tee "$OUT/gpu.txt"
python bench/train_throughput.py --preset safe-128 --batch-size 256 --steps 20 --warmup 5 --repeats 3 --sweep --compare-classic --data --profile 12 \
  2> "$OUT/bench.err" | tee "$OUT/bench.jsonl"
