#!/usr/bin/env bash
# Speed of each part against its PyTorch reference, on this machine, in one
# run. Each bench_*.sh prints its own table; this runs them one after another
# (never two at once: a benchmark needs the cores to itself).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bin
status=0
for part in vgg vgg_epoch lstm vae; do
  script="scripts/bench_${part}.sh"
  if [ -f "$script" ]; then
    echo "== $part =="
    bash "$script" || { echo "bench $part failed" >&2; status=1; }
  else
    echo "== $part: no benchmark yet ($script) =="
  fi
done
exit $status
