#!/usr/bin/env bash
# Step 4 of the tuned char-LSTM (after run.sh): all runs of the chosen
# variant overfit after ~40,000 iterations, so try two regularisers on it,
# each a complete 100,000-iteration run in out/lstm-regularised/<name>/:
#   dropout0.3      --dropout 0.3 (on the final hidden state)
#   chardrop0.1     --char-dropout 0.1 (training characters replaced by NUL)
# and keep whichever of them and the committed model has the best
# validation accuracy (best/best.json); the test accuracy is written down,
# never read here. A winner replaces this folder's run (figures, metrics,
# summary, best/) and chosen.txt says so.
#
#   nohup bash docs/results/lstm-tweets-tuned/regularise.sh >> /tmp/lstm-run.log 2>&1 &
#
# Each run takes the heavy-job lock and continues from its checkpoint.
set -euo pipefail
cd "$(dirname "$0")/../../.."
R=docs/results/lstm-tweets-tuned
O=out/lstm-regularised
# -buildvcs=true: summary.json names the commit this binary was built from,
# even when the checkout moves on during the run (some machines set
# -buildvcs=false in GOFLAGS).
go build -buildvcs=true -o bin/lstm-tweets ./cmd/lstm-tweets
lr=$(awk '$1=="lr"{print $2}' "$R/chosen.txt")
# The chosen variant's flags (cosine + weight decay 1e-5), as run.sh ran it.
common=(--fused-lstm --threads 1 --blas-threads 1 --batch-size 32 --optimizer adam --seed 1
  --lr "$lr" --schedule cosine --weight-decay 1e-5 --iterations 100000 --eval-every 1000)

for spec in "dropout0.3:--dropout 0.3" "chardrop0.1:--char-dropout 0.1"; do
  name=${spec%%:*} flags=${spec#*:}
  out=$O/$name resume=()
  if [ -f "$out/summary.json" ] && /usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; sys.exit(0 if max(r.get("steps",0), r.get("iterations",0))>=100000 else 1)' "$out/summary.json"; then
    continue # finished
  fi
  [ -f "$out/checkpoint/checkpoint.json" ] && resume=(--resume)
  echo "== $name ($flags): $(date -u +%FT%TZ)"
  # shellcheck disable=SC2086 # flags are two words on purpose
  flock /tmp/torchlab-heavy.lock bin/lstm-tweets train "${common[@]}" $flags --out "$out" "${resume[@]}"
done

winner=$(/usr/bin/python3 - "$R" "$O" <<'PY'
import json, os, sys
committed, trials = sys.argv[1], sys.argv[2]
rows = [(json.load(open(os.path.join(committed, "best", "best.json")))["value"], "committed")]
for d in sorted(os.listdir(trials)):
    rows.append((json.load(open(os.path.join(trials, d, "best", "best.json")))["value"], d))
for acc, d in rows:
    print(f"{d}: best validation accuracy {acc:.4f}", file=sys.stderr)
print(max(rows)[1])
PY
)
echo "== chosen on validation: $winner"
if [ "$winner" != committed ]; then
  find "$R" -mindepth 1 ! -name run.sh ! -name regularise.sh ! -name README.md -delete
  cp -r "$O/$winner/." "$R/"
  rm -rf "$R/checkpoint"
  { echo "lr $lr"; echo "variant cosine-wd1e-5"; echo "regulariser $winner"; } > "$R/chosen.txt"
  bin/lstm-tweets plots --out "$R"
fi
echo "== done, $(date -u +%FT%TZ)"
