#!/usr/bin/env bash
# Seconds per training epoch of the Galaxy Zoo VAE for each architecture:
# Go (bin/vae-galaxy, images decoded once and cached, one tensor per split)
# against the PyTorch reference reading the same JPEGs the usual way (PIL
# decode, centre crop, resize in a Dataset, DataLoader with 2 workers).
# Both train on the same number of images (the 80% train split; Go holds out
# no validation split here, as the reference does not) with batch 64,
# Adam, 2 libtorch threads. The epoch time is that of the last epoch (the
# first one warms up allocators and the DataLoader's workers); Go's excludes
# the test evaluation and the one-off decoding (metrics.csv's seconds column
# counts optimiser steps, batch gathering included).
#
#   scripts/bench_vae.sh                 # all three archs, 2 epochs each
#   ARCHS=conv EPOCHS=3 LIMIT=1000 BLAS_THREADS=1 scripts/bench_vae.sh
#
# Takes the machine-wide heavy-job lock (/tmp/torchlab-heavy.lock) itself.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/lib.sh
heavy_lock "$0" "$@"

ARCHS=${ARCHS:-"mlp conv resnet"}
EPOCHS=${EPOCHS:-2}
THREADS=${THREADS:-2}
# Go's --blas-threads (empty: the binary's default); PyTorch keeps OpenBLAS's.
BLAS_THREADS=${BLAS_THREADS:-}
LIMIT=${LIMIT:-0}
PY=/usr/bin/python3

data=$(find_data galaxyzoo)
"$PY" -c "import torch, PIL" 2>/dev/null || { echo "bench_vae: $PY lacks torch or PIL (apt-get install python3-torch python3-pil)" >&2; exit 1; }

go build -o bin/vae-galaxy ./cmd/vae-galaxy
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

printf '%-8s %12s %12s %12s %10s %8s %s\n' arch go_s/epoch torch_s/epoch best_s/epoch go/best go/torch images
for arch in $ARCHS; do
  bin/vae-galaxy train --arch "$arch" --epochs "$EPOCHS" --limit "$LIMIT" --val-fraction 0 --data-dir "$data" \
    --out "$tmp/$arch" --threads "$THREADS" ${BLAS_THREADS:+--blas-threads "$BLAS_THREADS"} --save-every 1000 >"$tmp/$arch.log" 2>&1 \
    || { cat "$tmp/$arch.log" >&2; exit 1; }
  # Train-only seconds are cumulative in metrics.csv; the last epoch is the
  # difference of the last two train rows.
  go_s=$(awk -F, '$3=="train"{prev=cur; cur=$8} END{print (prev==""?cur:cur-prev)}' "$tmp/$arch/metrics.csv")
  images=$(grep -o '[0-9]* train, ' "$tmp/$arch.log" | head -1 | cut -d' ' -f1)
  [ -n "$images" ] || { echo "bench_vae: no 'N train' split line in $arch's log:" >&2; cat "$tmp/$arch.log" >&2; exit 1; }
  py_json=$("$PY" scripts/reference/vae_galaxy.py bench --arch "$arch" --epochs "$EPOCHS" --limit "$LIMIT" \
    --data-dir "$data/galaxyzoo" --threads "$THREADS" --workers 2 --out /dev/null)
  py_s=$(echo "$py_json" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["seconds_per_epoch"])')
  # Best effort: the images decoded once into a tensor, no DataLoader.
  best_json=$("$PY" scripts/reference/vae_galaxy.py bench --arch "$arch" --epochs "$EPOCHS" --limit "$LIMIT" \
    --data-dir "$data/galaxyzoo" --threads "$THREADS" --preloaded --out /dev/null)
  best_s=$(echo "$best_json" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["seconds_per_epoch"])')
  printf '%-8s %12.2f %12.2f %12.2f %10.2f %8.2f %s\n' "$arch" "$go_s" "$py_s" "$best_s" \
    "$(awk -v a="$go_s" -v b="$best_s" 'BEGIN{print a/b}')" "$(awk -v a="$go_s" -v b="$py_s" 'BEGIN{print a/b}')" "$images"
done
