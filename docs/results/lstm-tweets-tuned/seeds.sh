#!/usr/bin/env bash
# The chosen LSTM recipe (chosen.txt: Adam 1e-3, cosine schedule, weight
# decay 1e-5, 10 % of characters dropped, 100,000 iterations) with init
# seeds 2 and 3 beside the committed seed 1 (this folder's own run), all on
# the data split of --split-seed 1, so the three differ only in
# initialisation, batch order and dropped characters. Each run trains in
# out/lstm-seeds/seed<S> (resuming from its checkpoint when started again);
# its summary, metrics, best.json and accuracy curve are copied to
# seeds/seed<S>/, and seeds.md gives the best-validation checkpoint's test
# accuracy over the three seeds (mean ± standard error).
#
#   nohup bash docs/results/lstm-tweets-tuned/seeds.sh >> /tmp/lstm-seeds.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/../../.."
R=docs/results/lstm-tweets-tuned
go build -buildvcs=true -o bin/lstm-tweets ./cmd/lstm-tweets
for seed in ${SEEDS:-2 3}; do
  out=out/lstm-seeds/seed$seed
  resume=()
  [ -f "$out/checkpoint/checkpoint.json" ] && resume=(--resume)
  if ! [ -f "$out/summary.json" ] || ! /usr/bin/python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["results"].get("iterations",0)>=100000 else 1)' "$out/summary.json"; then
    echo "== seed $seed into $out ${resume[*]}, $(date -u +%FT%TZ)"
    flock /tmp/torchlab-heavy.lock bin/lstm-tweets train --fused-lstm --threads 1 --blas-threads 1 --batch-size 32 \
      --optimizer adam --seed "$seed" --split-seed 1 --lr 1e-3 --schedule cosine --weight-decay 1e-5 \
      --iterations 100000 --eval-every 1000 --char-dropout 0.1 --out "$out" "${resume[@]}"
  fi
  mkdir -p "$R/seeds/seed$seed"
  cp "$out/summary.json" "$out/metrics.csv" "$out/best/best.json" "$out/accuracy.png" "$R/seeds/seed$seed/"
done
/usr/bin/python3 - "$R" <<'PY'
import json, math, os, statistics, sys
root = sys.argv[1]
runs = [("1", os.path.join(root, "summary.json"))]
runs += [(d[4:], os.path.join(root, "seeds", d, "summary.json")) for d in sorted(os.listdir(os.path.join(root, "seeds")))]
rows = []
for seed, path in runs:
    s = json.load(open(path))
    r = s["results"]
    rows.append((seed, r["best_step"], r["best_val_accuracy"], r["best_test_accuracy"], r["test_accuracy"], s["command"]))
def mean_se(v):
    return statistics.mean(v), (statistics.stdev(v) / math.sqrt(len(v)) if len(v) > 1 else float("nan"))
lines = ["# The chosen LSTM recipe over init seeds", "",
         "Written by `seeds.sh`. Same recipe and data split (`--split-seed 1`); the seed sets initialisation, batch",
         "order and dropped characters. The checkpoint is chosen on validation in each run; its test accuracy is",
         "reported, never used to choose. Test set: the 9,934 tweets of the test CSV.", "",
         "| seed | best-validation iteration | validation accuracy | test accuracy (best-validation checkpoint) | test accuracy (last iteration) |",
         "|---|---|---|---|---|"]
for seed, step, val, test, last, _ in rows:
    lines.append(f"| {seed} | {step:,} | {100*val:.2f} % | {100*test:.2f} % | {100*last:.2f} % |")
for name, i in [("validation accuracy", 2), ("test accuracy, best-validation checkpoint", 3), ("test accuracy, last iteration", 4)]:
    m, e = mean_se([r[i] for r in rows])
    lines.append("")
    lines.append(f"**{name}: {100*m:.2f} ± {100*e:.2f} %** (mean ± standard error over {len(rows)} seeds)")
lines += ["", "Commands:", ""] + [f"- seed {seed}: `{cmd}`" for seed, *_, cmd in rows]
open(os.path.join(root, "seeds.md"), "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
