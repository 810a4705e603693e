#!/usr/bin/env bash
# One prepared device check for a session that is lent a GPU (the device tool runs it from the repo root; under 9 min).
# 0. tests/test_cuda.py: CUDA graphs across resumes (a run resumed from a graph-less checkpoint graphs; a graphed
#    checkpoint resumes on the CPU).
# 1. safe-128, batch 256: every switch on/off (amp off and the other half precision, channels_last, optimizer, CUDA graphs,
#    the classic recipe), the classic loop and the hand-tuned classic loop (bf16 autocast wherever the device has it,
#    channels_last, fused AdamW) for the ratios, real batches from the packed cache (data overhead, the loader alone in
#    steady state and in its first epoch), and the top kernels of the eager step and of the hand-tuned loop.
# 2. compile (with CUDA graphs where the trial passes) against eager, in a run of its own.
# 3. safe-128, batch 1024: msls_nb against both classic loops.
# 4. The recipe's extra work (translation forward/backward: two gathers vs Shift; the EMA update).
# 5. (first, it renders the images of 1.) The loader alone at 128 px on this machine's cores (images/s), and the cache against ImageFolder on the same JPEGs.
# JSON lines go to $OUT/results.jsonl; stderr (warnings: a compile or CUDA-graph fallback says why) to $OUT/stderr.txt.
set -uo pipefail
OUT=${OUT:-/tmp/msls_bench}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
python -c "import torch, torchvision; print(torch.__version__, torch.cuda.get_device_name())" || pip install -q torch torchvision
pip install -q --no-deps -e . >/dev/null 2>&1 || pip install -q -e .
nvidia-smi --query-gpu=name,clocks.max.sm,power.limit --format=csv | tee "$OUT/gpu.txt"
timeout 90 python bench/data_pipeline.py --device cuda --img-size 128 --images 2048 --batch-size 256 --epochs 3 --data /tmp/msls_imgs \
  --loader-sizes 128 2>> "$OUT/stderr.txt" | tee -a "$OUT/results.jsonl"
timeout 120 python -m pytest tests/test_cuda.py -q -x -p no:cacheprovider 2>&1 | tail -15 | tee "$OUT/test_cuda.txt"
timeout 160 python bench/train_throughput.py --preset safe-128 --batch-size 256 --steps 20 --warmup 5 --repeats 3 --sweep \
  --skip compile=True --compare-classic --data --data-root /tmp/msls_imgs/train_val --profile 15 2>> "$OUT/stderr.txt" | tee -a "$OUT/results.jsonl"
timeout 120 python bench/train_throughput.py --preset safe-128 --batch-size 256 --steps 20 --warmup 5 --repeats 3 \
  --compile --sweep --skip amp=off amp=bf16 channels_last=False optimizer=default recipe=classic \
  2>> "$OUT/stderr.txt" | tee -a "$OUT/results.jsonl"
timeout 60 python bench/train_throughput.py --preset safe-128 --batch-size 1024 --steps 8 --warmup 3 --repeats 3 \
  --compare-classic 2>> "$OUT/stderr.txt" | tee -a "$OUT/results.jsonl"
timeout 30 python bench/augment_speed.py --device cuda --batch-size 256 --img-size 128 2>> "$OUT/stderr.txt" \
  | tee -a "$OUT/results.jsonl"
