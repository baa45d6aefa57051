#!/usr/bin/env bash
# The study (../shared/seed/) reproduced on this 2-core CPU: examples/seed_study_cpu.toml (the bundled
# all-MiniLM-L6-v2 fine-tuned, 9 techniques x 3 seeds, full SMS spam split) with ONE epoch instead of
# the file's three, so that it fits in about an hour (3 epochs: ~2.6 h of training at ~41 samples/s).
# The run folder (27 fine-tuned models, ~2.5 GB) goes to $STUDY_OUT; the tables and the report are
# copied into benchmarks/study_cpu/.
#   IMBLAB_DATA_DIR=../shared/data bash benchmarks/study_cpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out="${STUDY_OUT:-../imblab-study-cpu}"
export HF_HUB_OFFLINE=1
started=$(date +%s)
imblab compare --config examples/seed_study_cpu.toml --epochs 1 --out "$out"
seconds=$(( $(date +%s) - started ))
echo "wall seconds: $seconds"
mkdir -p benchmarks/study_cpu
echo "$seconds" > benchmarks/study_cpu/wall_seconds.txt
cp "$out"/summary.md "$out"/results.csv "$out"/probes.csv "$out"/differences.csv "$out"/report.html benchmarks/study_cpu/
