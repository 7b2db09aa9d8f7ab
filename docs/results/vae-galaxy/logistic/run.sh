#!/usr/bin/env bash
# The discretised-likelihood runs of docs/results/vae-galaxy/logistic: every
# model on ONE data split (--split-seed 1, the committed classifier's), with
# init seeds 1, 2, 3 (--seed: initialisation, batch order, noise), so that
# architectures compare image by image on the same test galaxies.
#
#   nohup bash docs/results/vae-galaxy/logistic/run.sh mlp:1 mlp:2 mlp:3 >> /tmp/vae-logistic.log 2>&1 &
#
# Each run: at most $EPOCHS epochs (default 200), stopping when the
# validation -ELBO has not improved for $PATIENCE epochs (default 10); the
# divergence guard skips a step whose loss is non-finite or 100x the median
# of the last 100 (each skip is logged and counted in summary.json). Then
# the importance-weighted bound on the best-validation model: k=100 on the
# whole test split and k=1000 on its first 200 images, per image in
# iwae_images.csv; then the figures, class samples judged by the committed
# classifier. One process with two libtorch threads (scripts/bench_dist.sh
# found it faster than two ranks for every model on the bundled sample).
# A run resumes from its checkpoint when started again. Takes the
# machine-wide heavy-job lock for each step.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
R=docs/results/vae-galaxy/logistic
EPOCHS=${EPOCHS:-200}
PATIENCE=${PATIENCE:-10}
THREADS=${THREADS:-2} # libtorch threads; 1 leaves a core to other work on a 2-core machine
[ $# -gt 0 ] || set -- mlp:1 conv:1 resnet:1
for spec in "$@"; do
  case ${spec%%:*} in mlp|conv|resnet|resnet-iaf) ;; *) echo "run.sh: unknown architecture in $spec" >&2; exit 2 ;; esac
done
# -buildvcs=true: summary.json names the commit of these binaries.
go build -buildvcs=true -o bin/vae-galaxy ./cmd/vae-galaxy
for spec in "$@"; do
  arch=${spec%%:*} seed=1
  [ "$spec" = "$arch" ] || seed=${spec#*:}
  out=$R/seed$seed/$arch
  resume=()
  [ -f "$out/checkpoint/checkpoint.json" ] && resume=(--resume)
  echo "== $arch seed $seed: up to $EPOCHS epochs (patience $PATIENCE) ${resume[*]}, $(date -u +%FT%TZ)"
  flock /tmp/torchlab-heavy.lock bin/vae-galaxy train --arch "$arch" --likelihood logistic --split-seed 1 --seed "$seed" \
    --epochs "$EPOCHS" --patience "$PATIENCE" --on-divergence skip --image-size 64 --threads "$THREADS" --out "$out" "${resume[@]}"
  echo "== $arch seed $seed: iwae, $(date -u +%FT%TZ)"
  flock /tmp/torchlab-heavy.lock bin/vae-galaxy iwae --out "$out" --k 100 --subset-size 200 --subset-k 1000 --threads "$THREADS"
  echo "== $arch seed $seed: figures judged by the classifier, $(date -u +%FT%TZ)"
  flock /tmp/torchlab-heavy.lock bin/vae-galaxy plots --out "$out" --judge docs/results/vae-galaxy/classifier --threads "$THREADS"
done
/usr/bin/python3 "$R/summarize.py" "$R" || echo "run.sh: summarize.py failed (the runs themselves are done)" >&2
echo "== done, $(date -u +%FT%TZ)"
