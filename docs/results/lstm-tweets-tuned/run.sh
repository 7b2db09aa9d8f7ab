#!/usr/bin/env bash
# The tuned char-LSTM of docs/results/lstm-tweets-tuned, in two phases:
#
# 1. Learning-rate search on the validation split: 20,000 iterations each
#    at lr 3e-4, 1e-3 and 3e-3 (Adam, batch 32, the fused LSTM), in
#    out/lstm-lr-search/lr<LR>/. The choice is the best validation accuracy
#    of each run (best.json); test accuracy is not read.
# 2. One complete 100,000-iteration run at the chosen rate, here, keeping the
#    best-validation checkpoint in best/.
#
# Each run continues from its checkpoint, so the script can be stopped and
# started again with the same command:
#
#   nohup flock /tmp/torchlab-heavy.lock bash docs/results/lstm-tweets-tuned/run.sh >> /tmp/lstm-run.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/../../.."
R=docs/results/lstm-tweets-tuned
S=out/lstm-lr-search
go build -o bin/lstm-tweets ./cmd/lstm-tweets
common=(--fused-lstm --threads 1 --blas-threads 1 --batch-size 32 --optimizer adam --seed 1)

run() { # run OUT ITERATIONS EVAL_EVERY LR
  local out=$1 its=$2 every=$3 lr=$4 resume=()
  [ -f "$out/checkpoint/checkpoint.json" ] && resume=(--resume)
  [ -f "$out/summary.json" ] && [ ! -f "$out/checkpoint/checkpoint.json" ] && return 0
  if [ -f "$out/summary.json" ] && /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["results"].get("iterations",0)>=int(sys.argv[2]) else 1)' "$out/summary.json" "$its"; then
    return 0 # finished
  fi
  echo "== lr $lr: $its iterations into $out ${resume[*]}, $(date -u +%FT%TZ)"
  bin/lstm-tweets train "${common[@]}" --lr "$lr" --iterations "$its" --eval-every "$every" --out "$out" "${resume[@]}"
}

for lr in 3e-4 1e-3 3e-3; do
  run "$S/lr$lr" 20000 2000 "$lr"
done
best=$(/usr/bin/python3 - "$S" <<'PY'
import json, os, sys
rows = []
for d in sorted(os.listdir(sys.argv[1])):
    b = json.load(open(os.path.join(sys.argv[1], d, "best", "best.json")))
    rows.append((b["value"], d[2:], b["step"]))
for acc, lr, step in rows:
    print(f"lr {lr}: best validation accuracy {acc:.4f} at iteration {step}", file=sys.stderr)
print(max(rows)[1])
PY
)
echo "== chosen on validation: lr $best"
echo "$best" > "$R/chosen_lr.txt"
run "$R" 100000 1000 "$best"
bin/lstm-tweets plots --out "$R"
echo "== done, $(date -u +%FT%TZ)"
