#!/usr/bin/env bash
# The study on every GPU of the machine, bf16: the `seed` group (8 techniques) x 3 seeds, fine-tuning, 3 epochs,
# full SMS spam split (with several GPUs `--workers N`: one run per GPU at once), then fine-tuning throughput of
# imblab's loop vs transformers.Trainer on one GPU.
# Budget: under 10 minutes on one H100.
#
# On a GPU with hub access:   IMBLAB_DATA_DIR=... bash benchmarks/gpu_seed_study.sh        (roberta-base)
# On the lent offline GPU:    bash benchmarks/gpu_prepare.sh here first, then carry .gpu and .whl; the
#   script then fine-tunes the carried MiniLM and measures roberta-base-sized throughput on a randomly
#   initialised RobertaConfig() model (speed does not depend on the weights).
# Extra arguments go to `imblab compare` (a CPU smoke test: `--limit 300 --seeds 1 --epochs 1` with
# THROUGHPUT_N=64). Outputs go to ${OUT:-gpu-out}/: study/ (summary.md, results.csv, probes.csv, report.html) and
# throughput_<model>.json; the tables are printed too.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-gpu-out}"
mkdir -p "$OUT"
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-0}" PYTHONUNBUFFERED=1 IMBLAB_OFFLINE=1
if [ -d .whl ] && ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
fi
# Use the checkout's source whether or not imblab is installed.
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
if [ -d .gpu/minilm-fp16 ]; then
  export HF_HUB_OFFLINE=1 IMBLAB_DATA_DIR="${IMBLAB_DATA_DIR:-$PWD/.gpu/data}"
  STUDY_MODEL="$PWD/.gpu/minilm-fp16"
  THROUGHPUT_MODELS="$STUDY_MODEL random-roberta"
else
  STUDY_MODEL="${STUDY_MODEL:-roberta-base}"
  THROUGHPUT_MODELS="$STUDY_MODEL"
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python3 -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__, 'cuda', torch.cuda.is_available())"

# One worker process per GPU (each sees only its own): the runs of the study go to all of them at once.
GPUS=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true)
WORKERS=()
if [ "${GPUS:-0}" -gt 1 ]; then WORKERS=(--workers "$GPUS"); fi
echo "GPUs: ${GPUS:-0}${WORKERS[*]:+ -> ${WORKERS[*]}}"

started=$(date +%s)
python3 -m imblab compare sms_spam --techniques seed --seeds 3 --backend finetune --model "$STUDY_MODEL" \
  --epochs 3 --batch-size 32 --lr 5e-5 --max-length 128 --probe "Call to claim your prize!" --out /tmp/imblab-gpu-study \
  "${WORKERS[@]}" "$@"
echo "study wall seconds: $(( $(date +%s) - started ))"
mkdir -p "$OUT/study"
cp /tmp/imblab-gpu-study/{summary.md,results.csv,probes.csv,report.html} "$OUT/study/"

for model in $THROUGHPUT_MODELS; do
  python3 benchmarks/train_throughput.py --model "$model" --tokenizer "$STUDY_MODEL" --n "${THROUGHPUT_N:-4096}" --batch-size 32 \
    --max-length 128 --out "$OUT/throughput_$(basename "$model").json"
done
