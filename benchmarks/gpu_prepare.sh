#!/usr/bin/env bash
# Run HERE (a machine with the dev install and the data), before benchmarks/gpu_seed_study.sh is sent to
# a GPU machine that has no network and not our MiniLM wheel. Writes two git-ignored folders that the
# device call carries (64 MiB at most per call):
#   .gpu/minilm-fp16/  the bundled all-MiniLM-L6-v2 saved in fp16 (~45 MB; fine-tuning loads it in fp32)
#   .gpu/data/         SMS spam from $IMBLAB_DATA_DIR (IMBLAB_DATA_DIR layout, ~0.5 MB)
#   .whl/              wheels the GPU image lacks (imbalanced-learn)
#   IMBLAB_DATA_DIR=../shared/data bash benchmarks/gpu_prepare.sh
set -euo pipefail
cd "$(dirname "$0")/.."
: "${IMBLAB_DATA_DIR:?set IMBLAB_DATA_DIR to the folder holding sms_spam/}"
python - <<'PY'
import torch
from transformers import AutoModel, AutoTokenizer

from imblab.backends import resolve_model_name

path = resolve_model_name(None)
AutoModel.from_pretrained(path, dtype=torch.float16).save_pretrained(".gpu/minilm-fp16")
AutoTokenizer.from_pretrained(path).save_pretrained(".gpu/minilm-fp16")
PY
mkdir -p .gpu/data/sms_spam
cp "$IMBLAB_DATA_DIR"/sms_spam/SMSSpamCollection .gpu/data/sms_spam/
python -m pip download -q --no-deps --only-binary=:all: -d .whl "imbalanced-learn==$(python -c 'import imblearn; print(imblearn.__version__)')"
du -sh .gpu .whl
