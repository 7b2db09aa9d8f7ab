#!/usr/bin/env bash
# The VGG11 recipe search of docs/results/vgg-mnist-tuned, on validation
# only (5,000 of MNIST's 60,000 training images, stratified, seed 1):
#
# 1. Screening: each variant trains 1 epoch (its cosine schedule over that
#    epoch; ~10 min each, so the whole search fits one 3-hour session) into
#    out/vgg-search/<variant>/; the best validation accuracy (best/best.json)
#    picks one:
#      plain       the assignment's VGG11 (no batch norm), Adam 1e-4, dropout 0.5
#      bn          --batch-norm
#      bn-shift2   --batch-norm --augment-shift 2 (training images shifted by up to 2 px)
# 2. The chosen variant trains 5 epochs into docs/results/vgg-mnist-tuned,
#    with its train loss measured in eval mode on the whole training split
#    (--train-eval-size 0), as the issue's bar (< 0.005) asks.
# 3. Full-length round: one epoch is too short to judge augmentation (it
#    slows the fit of the training set on purpose: bn-shift2 screened
#    0.0004 below bn), and the 5-epoch bn run fitted its training split
#    almost perfectly (99.98 %) while missing the test bar, so bn-shift2
#    also trains 5 epochs, into docs/results/vgg-mnist-tuned-shift2, and
#    the best validation accuracy picks between the two 5-epoch runs.
#    (The test bar is what said "search further"; which run is chosen is
#    still read off validation only.)
# 4. Round 3: validation chose bn-shift2 in round 2, but its train loss
#    (0.0093) was still falling at the end of its 5-epoch cosine, above the
#    bar of 0.005, so the same recipe trains 8 epochs (its cosine over 8),
#    into docs/results/vgg-mnist-tuned-shift2-e8 (~1 h 45 min here), and
#    the best validation accuracy picks among the three 5- and 8-epoch runs.
#
# Test accuracy is written down by each run and never read here. Each run
# takes the heavy-job lock and continues from its checkpoint, so the same
# command picks up where a stopped one left off:
#
#   nohup bash docs/results/vgg-mnist/search.sh >> /tmp/vgg-search.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/../../.."
S=out/vgg-search
T=docs/results/vgg-mnist-tuned
# -buildvcs=true: summary.json names the commit this binary was built from
# (this machine sets -buildvcs=false in GOFLAGS).
go build -buildvcs=true -o bin/vgg-mnist ./cmd/vgg-mnist
T2=docs/results/vgg-mnist-tuned-shift2
T3=docs/results/vgg-mnist-tuned-shift2-e8
declare -A FLAGS=([plain]="" [bn]="--batch-norm" [bn-shift2]="--batch-norm --augment-shift 2")

run() { # run OUT EPOCHS [FLAGS...]
  local out=$1 epochs=$2 resume=()
  shift 2
  if [ -f "$out/summary.json" ] && ! grep -q 'continue with --resume' "$out/summary.json"; then
    return 0 # finished
  fi
  [ -f "$out/checkpoint/checkpoint.json" ] && resume=(--resume)
  echo "== $out: $epochs epochs $* ${resume[*]}, $(date -u +%FT%TZ)"
  flock /tmp/torchlab-heavy.lock bin/vgg-mnist train --threads 2 --epochs "$epochs" --out "$out" "$@" "${resume[@]}"
}

screen() {
  for v in plain bn bn-shift2; do
    # shellcheck disable=SC2086 # the flags are words on purpose
    run "$S/$v" 1 ${FLAGS[$v]}
  done
}
best_by_val() { # best_by_val DIR... prints the DIR whose best/best.json has the highest value
  /usr/bin/python3 - "$@" <<'PY'
import json, os, sys
rows = []
for d in sys.argv[1:]:
    b = json.load(open(os.path.join(d, "best", "best.json")))
    rows.append((b["value"], d, b["step"]))
for acc, d, step in rows:
    print(f"{d}: best validation accuracy {acc:.4f} at step {step}", file=sys.stderr)
print(max(rows)[1])
PY
}
# The screening's choice is recorded in chosen.txt (out/ is not committed, so
# on a new machine it is the only record): screen again only without it.
if [ -f "$T/chosen.txt" ]; then
  chosen=$(awk '$1 == "variant" {print $2; exit}' "$T/chosen.txt")
else
  screen
  chosen=$(basename "$(best_by_val "$S"/plain "$S"/bn "$S"/bn-shift2)")
fi
echo "== variant chosen on validation: $chosen"
# shellcheck disable=SC2086
run "$T" 5 ${FLAGS[$chosen]} --train-eval-size 0
[ -f "$T/chosen.txt" ] || echo "variant $chosen" > "$T/chosen.txt"
run "$T2" 5 ${FLAGS[bn-shift2]} --train-eval-size 0
if ! grep -q '^round 2 ' "$T/chosen.txt"; then
  final=$(best_by_val "$T" "$T2")
  echo "== 5-epoch run chosen on validation: $final"
  echo "round 2 (5 epochs each, $T against $T2): $final" >> "$T/chosen.txt"
fi
run "$T3" 8 ${FLAGS[bn-shift2]} --train-eval-size 0
if ! grep -q '^round 3 ' "$T/chosen.txt"; then
  final=$(best_by_val "$T" "$T2" "$T3")
  echo "== run chosen on validation: $final"
  echo "round 3 ($T, $T2 and $T3): $final" >> "$T/chosen.txt"
fi
echo "== done, $(date -u +%FT%TZ)"
