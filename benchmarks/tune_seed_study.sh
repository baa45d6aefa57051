#!/usr/bin/env bash
# Issue 12's benchmark: every technique of the `seed` group at its defaults and tuned (30 Optuna trials each on
# the validation split, then 3 seeds on test), TF-IDF backend, on sms_spam and hate_speech, with wall times.
# Outputs go to $TUNE_OUT/<data> (default ../imblab-tune-bench); the summaries and tuning.json are copied into
# benchmarks/tune_seed_study/<data>/.
#   IMBLAB_DATA_DIR=../shared/data bash benchmarks/tune_seed_study.sh [sms_spam] [hate_speech]
# EXTRA="--workers 2" runs the trials and runs on two local processes (the wall time is then recorded with it).
# Long on a 2-core machine: run it when the machine is quiet (`uptime`).
set -euo pipefail
cd "$(dirname "$0")/.."
root="${TUNE_OUT:-../imblab-tune-bench}"
python="${PYTHON:-python}"
export HF_HUB_OFFLINE=1
datasets=("$@")
[ ${#datasets[@]} -gt 0 ] || datasets=(sms_spam hate_speech)
mkdir -p benchmarks/tune_seed_study
for data in "${datasets[@]}"; do
  out="$root/$data"
  echo "load before $data: $(cut -d' ' -f1-3 /proc/loadavg)"
  started=$(date +%s)
  # shellcheck disable=SC2086  # EXTRA is a list of flags
  "$python" -m imblab compare "$data" --backend tfidf --techniques seed --seeds 3 --tune 30 --out "$out" ${EXTRA:-}
  seconds=$(( $(date +%s) - started ))
  echo "$data: compare --tune 30 ${EXTRA:-} wall seconds: $seconds (load after: $(cut -d' ' -f1-3 /proc/loadavg))"
  mkdir -p "benchmarks/tune_seed_study/$data"
  echo "$seconds ${EXTRA:-}" > "benchmarks/tune_seed_study/$data/wall_seconds.txt"
  cp "$out"/summary.md "$out"/results.csv "$out"/differences.csv "$out"/tuning.json "benchmarks/tune_seed_study/$data/"
done
