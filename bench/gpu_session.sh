#!/usr/bin/env bash
# One prepared device check for a session that is lent a GPU (the device tool runs it from the repo root; under 8 min).
# 1. safe-128, batch 256: every switch on/off (amp off and the other half precision, channels_last, optimizer, compile
#    with channels_last, CUDA graphs, the classic recipe), the classic loop and the hand-tuned classic loop (bf16 +
#    channels_last + fused AdamW) for the ratios, real batches from the packed cache (data overhead, loader alone), and
#    the top kernels of one step.
# 2. safe-128, batch 1024, with CUDA graphs: msls_nb against both classic loops.
# 3. The loader alone at 128 px on this machine's cores (images/s), and the cache against ImageFolder on the same JPEGs.
# 4. fp16 loss scaling on the GPU: one GradScaler per network against one shared (skipped steps, final scales).
# JSON lines go to $OUT/*.jsonl; stderr (warnings: a compile or CUDA-graph fallback says why) to $OUT/*.err.
set -uo pipefail
OUT=${OUT:-/tmp/msls_bench}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
python -c "import torch, torchvision; print(torch.__version__, torch.cuda.get_device_name())" || pip install -q torch torchvision
pip install -q --no-deps -e . >/dev/null 2>&1 || pip install -q -e .
nvidia-smi --query-gpu=name,clocks.max.sm,power.limit --format=csv | tee "$OUT/gpu.txt"
timeout 150 python bench/train_throughput.py --preset safe-128 --batch-size 256 --steps 20 --warmup 5 --repeats 3 --sweep \
  --skip compile=True --compare-classic --data --profile 12 2> "$OUT/b256.err" | tee "$OUT/b256.jsonl"
# compile apart (its compilation may take minutes; a timeout here leaves the sweep's lines intact)
timeout 150 python bench/train_throughput.py --preset safe-128 --batch-size 256 --steps 20 --warmup 5 --repeats 3 \
  --compile --compare-classic 2> "$OUT/b256_compile.err" | tee "$OUT/b256_compile.jsonl"
timeout 80 python bench/train_throughput.py --preset safe-128 --batch-size 1024 --steps 8 --warmup 3 --repeats 3 \
  --cuda-graphs --compare-classic 2> "$OUT/b1024.err" | tee "$OUT/b1024.jsonl"
timeout 50 python bench/data_pipeline.py --device cuda --img-size 128 --images 4096 --batch-size 256 --epochs 3 \
  --loader-sizes 128 2> "$OUT/data.err" | tee "$OUT/data.jsonl"
timeout 40 python bench/loss_scale.py --steps 300 --modes per-network shared bf16 2> "$OUT/loss_scale.err" \
  | tee "$OUT/loss_scale.jsonl"
