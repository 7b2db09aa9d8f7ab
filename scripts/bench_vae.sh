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

# go_s: Go as the runs train (contiguous weights unless run.sh passes
# --channels-last); go_cl_s: Go with --channels-last; best_cl_s: PyTorch
# best-effort with model and batches channels-last (the usual recipe). mlp
# has no convolutions, so its channels-last columns are "-". The ratios set
# the faster Go layout against the faster best-effort layout.
go_epoch() { # go_epoch ARCH OUT [FLAGS...]: seconds of the last training epoch
  local arch=$1 out=$2
  shift 2
  bin/vae-galaxy train --arch "$arch" --epochs "$EPOCHS" --data-size "$LIMIT" --val-fraction 0 --data-dir "$data" \
    --out "$out" --threads "$THREADS" ${BLAS_THREADS:+--blas-threads "$BLAS_THREADS"} --save-every 1000 "$@" >"$out.log" 2>&1 \
    || { cat "$out.log" >&2; return 1; }
  # Train-only seconds are cumulative in metrics.csv; the last epoch is the
  # difference of the last two train rows.
  awk -F, '$3=="train"{prev=cur; cur=$8} END{print (prev==""?cur:cur-prev)}' "$out/metrics.csv"
}
py_epoch() { # py_epoch ARCH [FLAGS...]: PyTorch's seconds per epoch
  local arch=$1
  shift
  local out rc=0
  out=$("$PY" scripts/reference/vae_galaxy.py bench --arch "$arch" --epochs "$EPOCHS" --limit "$LIMIT" \
    --data-dir "$data/galaxyzoo" --threads "$THREADS" --out /dev/null "$@") || rc=$?
  if ((rc != 0)); then # 139 and 134: a signal inside libtorch, named here rather than as a JSON error
    echo "bench_vae: the PyTorch reference (--arch $arch $*) failed with exit status $rc" >&2
    return 1
  fi
  "$PY" -c 'import json,sys; print(json.load(sys.stdin)["seconds_per_epoch"])' <<<"$out"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
fmin() { awk -v a="$1" -v b="$2" 'BEGIN{print (b == "-" || a < b) ? a : b}'; }
f2() { if [ "$1" = - ]; then echo -; else printf '%.2f' "$1"; fi; }

# Go's GFLOP/s (its faster layout): training FLOPs per image by the
# reference's count (vae_galaxy.py flops: 6 x the forward multiply-adds of
# the convolutions and linear layers) x images / epoch seconds, as a share of
# the measured peak (the best of OpenBLAS's and oneDNN's large products) and
# of the theoretical FMA peak, both from bin/peak at the same threads
# (bench.sh passes its measurement in BENCH_PEAK_JSON).
peak_file=${BENCH_PEAK_JSON:-}
if [ -z "$peak_file" ] || ! "$PY" -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["threads"] != int(sys.argv[2]))' "$peak_file" "$THREADS" 2>/dev/null; then
  peak_file=$tmp/peak.json
  go build -o bin/peak ./cmd/peak
  bin/peak --threads "$THREADS" --json > "$peak_file"
fi
read -r peak_meas peak_fma < <("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["measured_gflops"], d["fma_gflops"])' "$peak_file")

printf '%-8s %10s %10s %10s %10s %10s %8s %8s %6s %8s %6s %6s\n' arch go_s go_cl_s torch_s best_s best_cl_s go/best go/torch images GFLOP/s %meas %fma
for arch in $ARCHS; do
  go_s=$(go_epoch "$arch" "$tmp/$arch")
  images=$(grep -o '[0-9]* train, ' "$tmp/$arch.log" | head -1 | cut -d' ' -f1)
  [ -n "$images" ] || { echo "bench_vae: no 'N train' split line in $arch's log:" >&2; cat "$tmp/$arch.log" >&2; exit 1; }
  go_cl_s=- best_cl_s=-
  [ "$arch" = mlp ] || go_cl_s=$(go_epoch "$arch" "$tmp/$arch-cl" --channels-last)
  py_s=$(py_epoch "$arch" --workers 2)
  # Best effort: the images decoded once into a tensor, no DataLoader.
  best_s=$(py_epoch "$arch" --preloaded)
  [ "$arch" = mlp ] || best_cl_s=$(py_epoch "$arch" --preloaded --channels-last)
  go_fast=$(fmin "$go_s" "$go_cl_s")
  flops=$("$PY" scripts/reference/vae_galaxy.py flops --arch "$arch" --out /dev/null |
    "$PY" -c 'import json,sys; print(json.load(sys.stdin)["train_flops_per_image"])')
  gflops=$(awk -v f="$flops" -v n="$images" -v s="$go_fast" 'BEGIN{printf "%.1f", f * n / s / 1e9}')
  printf '%-8s %10.2f %10s %10.2f %10.2f %10s %8s %8s %6s %8s %5.0f%% %5.0f%%\n' "$arch" "$go_s" "$(f2 "$go_cl_s")" "$py_s" "$best_s" "$(f2 "$best_cl_s")" \
    "$(ratio "$go_fast" "$(fmin "$best_s" "$best_cl_s")")" "$(ratio "$go_fast" "$py_s")" "$images" "$gflops" \
    "$(awk -v g="$gflops" -v p="$peak_meas" 'BEGIN{print 100 * g / p}')" "$(awk -v g="$gflops" -v p="$peak_fma" 'BEGIN{print 100 * g / p}')"
done
echo "(GFLOP/s: Go's faster layout; %meas and %fma: its share of the measured peak, $peak_meas GFLOP/s, and of the FMA peak, $peak_fma GFLOP/s; bin/peak says what each is)"
