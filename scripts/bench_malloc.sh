#!/usr/bin/env bash
# bench_malloc.sh LABEL [VAR=VALUE...]: how the memory allocator under
# libtorch changes a short resnet VAE run (2 ranks of 1 thread, the first
# 1,000 galaxies at 64x64, 3 epochs, every evaluation after every epoch,
# train-full included), run with the given environment. torchrt links
# jemalloc with decay off; TAGS=glibc_malloc builds without it, and
# MALLOC_CONF overrides torchrt's settings:
#
#   scripts/bench_malloc.sh jemalloc-keep
#   TAGS=glibc_malloc scripts/bench_malloc.sh glibc
#   scripts/bench_malloc.sh jemalloc-defaults MALLOC_CONF=dirty_decay_ms:10000,muzzy_decay_ms:0
#
# Prints wall, user and system seconds and minor page faults of the ranks
# (GNU time counts the waited-for children), then the metrics.csv rows.
# Output in /tmp/mb-LABEL. Takes the heavy-job lock.
set -euo pipefail
cd "$(dirname "$0")/.."
label=$1
shift
bin=/tmp/mb-bin-$label
for c in vae-galaxy torchlab-run; do go build -tags "${TAGS:-}" -o "$bin/$c" "./cmd/$c"; done
rm -rf "/tmp/mb-$label"
flock /tmp/torchlab-heavy.lock env "$@" /usr/bin/time -f "$label: wall %e s, user %U s, sys %S s, minor faults %R" \
  "$bin/torchlab-run" --nproc 2 --threads 1 -- "$bin/vae-galaxy" train --arch resnet --epochs 3 --image-size 64 \
  --data-size 1000 --train-eval-every 1 --seed 1 --out "/tmp/mb-$label" > "/tmp/mb-$label.log" 2>&1
tail -1 "/tmp/mb-$label.log"
awk -F, 'NR>1{print $1, $3, $8}' "/tmp/mb-$label/metrics.csv" | tr '\n' ';'
echo
