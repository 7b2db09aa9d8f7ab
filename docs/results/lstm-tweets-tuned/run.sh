#!/usr/bin/env bash
# The tuned char-LSTM of docs/results/lstm-tweets-tuned, every choice made
# on the validation split (5 % of the training CSV); test accuracy is
# written down but never read here.
#
# 1. Learning rate: 20,000 iterations each at lr 3e-4, 1e-3 and 3e-3 (Adam,
#    batch 32, constant rate, the fused LSTM) in out/lstm-lr-search/lr<LR>/;
#    the best validation accuracy (best.json) picks the rate.
# 2. Variant: complete 100,000-iteration runs at that rate in
#    out/lstm-variants/<variant>/: constant rate; cosine decay to 0;
#    cosine with weight decay 1e-5. The best validation accuracy picks one.
# 3. The chosen run (figures, metrics, summary and its best-validation
#    checkpoint; not its last checkpoint) is copied here.
#
# Each run continues from its checkpoint, so the script can be stopped and
# started again with the same command:
#
#   nohup flock /tmp/torchlab-heavy.lock bash docs/results/lstm-tweets-tuned/run.sh >> /tmp/lstm-run.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/../../.."
R=docs/results/lstm-tweets-tuned
S=out/lstm-lr-search
V=out/lstm-variants
# -buildvcs=true: summary.json names the commit this binary was built from,
# even when the checkout moves on during the run (some machines set
# -buildvcs=false in GOFLAGS).
go build -buildvcs=true -o bin/lstm-tweets ./cmd/lstm-tweets
common=(--fused-lstm --threads 1 --blas-threads 1 --batch-size 32 --optimizer adam --seed 1)

run() { # run OUT ITERATIONS EVAL_EVERY LR [FLAGS...]
  local out=$1 its=$2 every=$3 lr=$4 resume=()
  shift 4
  if [ -f "$out/summary.json" ] && /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); r=d["results"]; sys.exit(0 if max(r.get("steps",0), r.get("iterations",0))>=int(sys.argv[2]) else 1)' "$out/summary.json" "$its"; then
    return 0 # finished
  fi
  [ -f "$out/checkpoint/checkpoint.json" ] && resume=(--resume)
  echo "== lr $lr $*: $its iterations into $out ${resume[*]}, $(date -u +%FT%TZ)"
  bin/lstm-tweets train "${common[@]}" --lr "$lr" --iterations "$its" --eval-every "$every" --out "$out" "$@" "${resume[@]}"
}

# best DIR: prints the name of DIR's subfolder whose best.json has the
# highest validation accuracy, after a table of all of them on stderr.
best() {
  /usr/bin/python3 - "$1" <<'PY'
import json, os, sys
rows = []
for d in sorted(os.listdir(sys.argv[1])):
    b = json.load(open(os.path.join(sys.argv[1], d, "best", "best.json")))
    rows.append((b["value"], d, b["step"]))
for acc, d, step in rows:
    print(f"{d}: best validation accuracy {acc:.4f} at iteration {step}", file=sys.stderr)
print(max(rows)[1])
PY
}

for lr in 3e-4 1e-3 3e-3; do
  run "$S/lr$lr" 20000 2000 "$lr"
done
lr=$(best "$S"); lr=${lr#lr}
echo "== learning rate chosen on validation: $lr"

run "$V/constant" 100000 1000 "$lr"
run "$V/cosine" 100000 1000 "$lr" --schedule cosine
run "$V/cosine-wd1e-5" 100000 1000 "$lr" --schedule cosine --weight-decay 1e-5
variant=$(best "$V")
echo "== variant chosen on validation: $variant"

find "$R" -mindepth 1 ! -name run.sh -delete
cp -r "$V/$variant/." "$R/"
rm -rf "$R/checkpoint"
{ echo "lr $lr"; echo "variant $variant"; } > "$R/chosen.txt"
bin/lstm-tweets plots --out "$R"
echo "== done, $(date -u +%FT%TZ)"
