#!/usr/bin/env bash
# (Moved to docs/results/vae-galaxy/snapshot-32px/ after it ran: it wrote into
# docs/results/vae-galaxy/A then, as below. The current run is ../run.sh.)
# The real run of docs/results/vae-galaxy, sized to what one session of the
# 2-core machine could give it: the three architectures for the same number
# of epochs at 32x32, then the extras on the mlp (a conditional VAE, KL
# warm-up and free bits, against the plain mlp), the comparison figures and
# results.md. bench.txt comes from an earlier run of scripts/bench_vae.sh at
# 64x64 (its resnet row failed on a figure bug fixed since).
#
#   nohup flock /tmp/torchlab-heavy.lock bash docs/results/vae-galaxy/run.sh > vae-run.log 2>&1 &
set -euo pipefail
echo "this is the record of the 32x32 snapshot run; it would now overwrite the 64x64 runs. Use ../run.sh" >&2; exit 1
cd "$(dirname "$0")/../../.."
R=docs/results/vae-galaxy
N=${EPOCHS:-12}
SIZE=${IMAGE_SIZE:-32}
go build -o bin/vae-galaxy ./cmd/vae-galaxy
train() { bin/vae-galaxy train --epochs "$N" --image-size "$SIZE" --threads 2 "$@"; }

for a in conv mlp resnet; do
  echo "== $a, $N epochs at ${SIZE}x${SIZE}, $(date -u +%FT%TZ)"
  train --arch "$a" --out "$R/$a"
done
bin/vae-galaxy plots --compare "$R/mlp" --compare "$R/conv" --compare "$R/resnet" --out "$R"

W=$(( N / 4 > 0 ? N / 4 : 1 ))
echo "== extras on mlp: conditional, KL warm-up over $W epochs, free bits 0.5, $(date -u +%FT%TZ)"
train --arch mlp --conditional --out "$R/mlp-cvae"
train --arch mlp --kl-warmup "$W" --out "$R/mlp-warmup"
train --arch mlp --free-bits 0.5 --out "$R/mlp-freebits"
bin/vae-galaxy plots --compare "$R/mlp" --compare "$R/mlp-warmup" --compare "$R/mlp-freebits" --compare "$R/mlp-cvae" --out "$R/mlp-variants"
/usr/bin/python3 "$R/summarize.py"
echo "== done, $(date -u +%FT%TZ)"
