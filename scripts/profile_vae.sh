#!/usr/bin/env bash
# Where a VAE training step's time goes, in Go: libtorch's op profile of
# --profile-steps training steps (after 5 warm-up steps; time and FLOPs by
# kind of work and the top ops), for each architecture as one process x 2
# threads and as two ranks x 1 thread (rank 0's profile), and the share of
# CPU samples in OpenMP's barriers (perf, when it can sample), on the full
# training split at 64x64, batch 64. Writes DIR/ARCH-MODE.md and prints them.
#
#   scripts/profile_vae.sh [DIR]                 # default out/profile
#   ARCHS=resnet MODES=ranks STEPS=20 scripts/profile_vae.sh
#
# Takes the machine-wide heavy-job lock itself.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/lib.sh
heavy_lock "$0" "$@"

DIR=${1:-out/profile}
ARCHS=${ARCHS:-conv resnet}
MODES=${MODES:-single ranks}
STEPS=${STEPS:-10}
data=$(find_data galaxyzoo)
# One epoch of 5 warm-up steps, the profiled ones, as many unprofiled and
# one spare, on the
# first galaxies: 72 % of them train (20 % test, 10 % of the rest validation).
galaxies=$(((2 * STEPS + 6) * 64 * 100 / 72))
mkdir -p "$DIR" bin
for c in vae-galaxy torchlab-run; do go build -o "bin/$c" "./cmd/$c"; done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# gomp_share PID SECONDS: percent of the process's CPU samples inside
# libgomp (OpenMP's barrier spin and sleep), or "-" without perf.
gomp_share() {
  local pid=$1 secs=$2
  command -v perf >/dev/null || { echo -; return; }
  perf record -q -F 499 -p "$pid" -o "$tmp/perf.data" -- sleep "$secs" >/dev/null 2>&1 || { echo -; return; }
  perf report -q -i "$tmp/perf.data" --sort dso --stdio 2>/dev/null |
    awk '$2 ~ /libgomp/ {gsub("%","",$1); s+=$1} END{printf "%.1f\n", s}'
}

for arch in $ARCHS; do
  for mode in $MODES; do
    out=$tmp/$arch-$mode
    case $mode in
    single) launch=(env); threads=(--threads 2); how="one process x 2 threads" ;;
    ranks) launch=(bin/torchlab-run --nproc 2 --threads 1 --); threads=(); how="two ranks x 1 thread, rank 0's profile" ;;
    *) echo "profile_vae: unknown mode $mode (want single or ranks)" >&2; exit 2 ;;
    esac
    cmd=("${launch[@]}" bin/vae-galaxy train "${threads[@]}" --data-dir "$data" --arch "$arch" --epochs 1
      --data-size "$galaxies" --train-eval-every 0 --save-every 1000 --profile-steps "$STEPS" --out "$out")
    "${cmd[@]}" >"$out.log" 2>&1 &
    pid=$!
    # perf samples the training process (rank 0's) while its steps run.
    share=-
    for _ in $(seq 60); do
      sleep 1
      trainer=$(pgrep -f -n "bin/vae-galaxy train.*--out $out") || continue
      grep -q ' step' "$out.log" 2>/dev/null && { share=$(gomp_share "$trainer" 10); break; }
    done
    wait "$pid" || { cat "$out.log" >&2; exit 1; }
    {
      echo "# $arch VAE, $how"
      echo
      echo "Command: \`${cmd[*]}\` (on $(git rev-parse --short HEAD), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
      echo
      echo "CPU samples in OpenMP (libgomp, barrier spin/sleep) during 10 s of steps, by perf: ${share} %"
      echo
      sed 1,2d "$out/op_profile.md"
    } >"$DIR/$arch-$mode.md"
    cat "$DIR/$arch-$mode.md"
  done
done
