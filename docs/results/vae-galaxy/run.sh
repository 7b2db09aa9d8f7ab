#!/usr/bin/env bash
# The real run of docs/results/vae-galaxy: a short benchmark to measure the
# epoch times, then the three architectures for the same number of epochs,
# chosen so that the three main runs take about 40 minutes on this machine,
# then the extras on the cheap mlp (a conditional VAE, KL warm-up and free
# bits against the plain mlp) and the comparison figures.
#
#   nohup flock /tmp/torchlab-heavy.lock bash docs/results/vae-galaxy/run.sh > /tmp/vae-run.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/../../.."
R=docs/results/vae-galaxy
BUDGET=${BUDGET:-2400}   # seconds for the three main runs
go build -o bin/vae-galaxy ./cmd/vae-galaxy

echo "== benchmark (1000 galaxies, 2 epochs), $(date -u +%FT%TZ)"
TORCHLAB_HEAVY_LOCKED=1 LIMIT=1000 EPOCHS=2 scripts/bench_vae.sh | tee "$R/bench.txt" \
  || echo "benchmark failed; falling back to N=${FALLBACK_EPOCHS:=15}"

# Full train split is 3251 images; the benchmark's is 800. Evaluation on the
# 813 test images adds roughly 10%.
N=$(awk -v budget="$BUDGET" 'NR>1 {s[$1]=$2*3251/800} END {
  if (!("conv" in s) || !("resnet" in s) || !("mlp" in s)) {print fb; exit}
  t=s["conv"]+s["resnet"]+s["mlp"]; if (t<=0) {print fb; exit}
  n=int(budget/(1.1*t)); if (n<3) n=3; if (n>200) n=200; print n}' fb="${FALLBACK_EPOCHS:-15}" "$R/bench.txt")
echo "== epochs per architecture: $N"

for a in conv mlp resnet; do
  echo "== $a, $(date -u +%FT%TZ)"
  bin/vae-galaxy train --arch "$a" --epochs "$N" --out "$R/$a" --threads 2
done
bin/vae-galaxy plots --compare "$R/mlp" "$R/conv" "$R/resnet" --out "$R"

W=$(( N / 4 > 0 ? N / 4 : 1 ))
echo "== extras on mlp: conditional, KL warm-up over $W epochs, free bits 0.5, $(date -u +%FT%TZ)"
bin/vae-galaxy train --arch mlp --conditional --epochs "$N" --out "$R/mlp-cvae" --threads 2
bin/vae-galaxy train --arch mlp --kl-warmup "$W" --epochs "$N" --out "$R/mlp-warmup" --threads 2
bin/vae-galaxy train --arch mlp --free-bits 0.5 --epochs "$N" --out "$R/mlp-freebits" --threads 2
bin/vae-galaxy plots --compare "$R/mlp" "$R/mlp-warmup" "$R/mlp-freebits" "$R/mlp-cvae" --out "$R/mlp-variants"
/usr/bin/python3 "$R/summarize.py"
echo "== done, $(date -u +%FT%TZ)"
