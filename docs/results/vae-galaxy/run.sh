#!/usr/bin/env bash
# The 200-epoch runs of docs/results/vae-galaxy at 64x64 with a validation
# split (10 %, stratified by class; it picks the best epoch), one
# architecture and seed after another, each followed by its importance-
# weighted bound on the test set (vae-galaxy iwae). Each run continues from
# its own checkpoint, so the script can be stopped (SIGINT or SIGTERM saves
# a checkpoint) and started again, across sessions, with the same command:
#
#   nohup bash docs/results/vae-galaxy/run.sh conv:1 resnet:1 conv:2 >> /tmp/vae-run.log 2>&1 &
#
# Arguments are ARCH[-VARIANT][:SEED] (seed 1 when left out); the run goes
# to seedSEED/ARCH[-VARIANT]. Variants, the ideas of issue 17 item 5:
#   cvae    --conditional (encoder and decoder also get the one-hot class)
#   z128    --z-dim 128 (a larger latent)
# When the galaxy classifier has been trained ($R/classifier/best), each
# run's figures are redrawn with it judging the class samples (samples.json).
# Every architecture trains as one process with two libtorch threads, the
# fastest way on an idle 2-core machine (docs/performance.md, "the
# threading question"); RANKS=2 trains and scores the resnet as two
# data-parallel ranks of one thread each instead (torchlab-run --nproc 2),
# as the committed seed1/seed2 resnet runs were. EPOCHS
# (default 200) sets the total; a later run with a larger total continues.
# Takes the machine-wide heavy-job lock for each run.
set -euo pipefail
cd "$(dirname "$0")/../../.."
R=docs/results/vae-galaxy
EPOCHS=${EPOCHS:-200}
[ $# -gt 0 ] || set -- mlp:1 conv:1 resnet:1
variant_flags() { # variant_flags VARIANT: the training flags of a variant
  case $1 in
    "") ;;
    cvae) echo --conditional ;;
    z128) echo --z-dim 128 ;;
    *) return 1 ;;
  esac
}
for spec in "$@"; do
  name=${spec%%:*} arch=${name%%-*} variant=
  [ "$name" = "$arch" ] || variant=${name#*-}
  case $arch in mlp|conv|resnet) ;; *) echo "run.sh: unknown architecture in $spec (want mlp, conv or resnet)" >&2; exit 2 ;; esac
  variant_flags "$variant" > /dev/null || { echo "run.sh: unknown variant in $spec (want cvae or z128)" >&2; exit 2; }
done

# -buildvcs=true: summary.json names the commit these binaries were built
# from, even when the checkout moves on during the runs (some machines set
# -buildvcs=false in GOFLAGS).
for c in vae-galaxy torchlab-run; do go build -buildvcs=true -o "bin/$c" "./cmd/$c"; done
for spec in "$@"; do
  name=${spec%%:*} seed=1
  [ "$spec" = "$name" ] || seed=${spec#*:}
  arch=${name%%-*} variant=
  [ "$name" = "$arch" ] || variant=${name#*-}
  read -r -a extra <<< "$(variant_flags "$variant")"
  out=$R/seed$seed/$name
  resume=()
  [ -f "$out/checkpoint/checkpoint.json" ] && resume=(--resume)
  launch=() threads=(--threads 2)
  [ "$arch" = resnet ] && [ "${RANKS:-1}" = 2 ] && launch=(bin/torchlab-run --nproc 2 --threads 1 --) threads=()
  # A resumed run keeps its configuration, so the variant's flags go only to a new one.
  ((${#resume[@]})) && extra=()
  echo "== $name seed $seed: $EPOCHS epochs at 64x64 ${extra[*]} ${resume[*]}, $(date -u +%FT%TZ)"
  flock /tmp/torchlab-heavy.lock "${launch[@]}" bin/vae-galaxy train --arch "$arch" --epochs "$EPOCHS" --image-size 64 \
    --seed "$seed" "${threads[@]}" --out "$out" "${extra[@]}" "${resume[@]}"
  echo "== $name seed $seed: iwae, $(date -u +%FT%TZ)"
  flock /tmp/torchlab-heavy.lock "${launch[@]}" bin/vae-galaxy iwae --out "$out" "${threads[@]}"
  if [ -d "$R/classifier/best" ]; then
    echo "== $name seed $seed: figures judged by the classifier, $(date -u +%FT%TZ)"
    flock /tmp/torchlab-heavy.lock bin/vae-galaxy plots --out "$out" --judge "$R/classifier" --threads 2
  fi
done
# The seed runs' validation and test curves in one figure, the runs of one
# model (seed1/conv, seed2/conv) as their mean and range.
runs=()
for name in mlp conv resnet $(ls -d "$R"/seed*/*-*/ 2>/dev/null | xargs -rn1 basename | sort -u); do
  for d in "$R"/seed*/"$name"; do [ -f "$d/metrics.csv" ] && runs+=("$d"); done
done
((${#runs[@]})) && bin/vae-galaxy plots --compare "${runs[@]}" --out "$R"
/usr/bin/python3 "$R/summarize.py" "$R" || echo "run.sh: summarize.py failed (the runs themselves are done)" >&2
echo "== done, $(date -u +%FT%TZ)"
