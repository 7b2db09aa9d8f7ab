#!/usr/bin/env bash
# Data-parallel training on this machine: 2 ranks x 1 thread (torchlab-run,
# c10d Gloo over loopback) against 1 process x 2 threads, same global batch,
# for the LSTM (iterations/s, fused kernel, batch 32) and the conv and
# resnet VAEs (seconds per training epoch, batch 64). For the 2-rank runs rank 0's log
# gives the collectives' share of the wall time (time inside all-reduce,
# broadcast and the per-step stop vote, waiting for the other rank
# included).
#
#   scripts/bench_dist.sh
#   LSTM_ITERS=2000 VAE_EPOCHS=2 scripts/bench_dist.sh
#   JOBS=resnet scripts/bench_dist.sh     # some of: lstm conv resnet
#
# Takes the machine-wide heavy-job lock itself.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/lib.sh
heavy_lock "$0" "$@"

LSTM_ITERS=${LSTM_ITERS:-2000}
VAE_EPOCHS=${VAE_EPOCHS:-2}
JOBS=${JOBS:-lstm conv resnet}
tweets=$(find_data tweets)
galaxies=$(find_data galaxyzoo)
for c in lstm-tweets vae-galaxy torchlab-run; do go build -o "bin/$c" "./cmd/$c"; done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

share() { # the collectives' share of rank 0's wall time, from its log
  grep -o '[0-9.]*% of the' "$1" | tail -1 | cut -d% -f1
}
# LAUNCH is the launcher (none, or torchlab-run) and THREADS the thread
# flags of the next run.
lstm() { # lstm NAME: iterations/s of a fused-LSTM run
  local name=$1
  "${LAUNCH[@]}" bin/lstm-tweets train "${THREADS[@]}" --data-dir "$tweets" --fused-lstm --iterations "$LSTM_ITERS" \
    --eval-every "$LSTM_ITERS" --train-eval-size 500 --out "$tmp/$name" >"$tmp/$name.log" 2>&1 \
    || { cat "$tmp/$name.log" >&2; exit 1; }
  /usr/bin/python3 -c 'import json,sys; print("%.1f" % json.load(open(sys.argv[1]))["results"]["steps_per_second"])' "$tmp/$name/summary.json"
}
vae() { # vae NAME ARCH: seconds of the last training epoch
  local name=$1 arch=$2
  "${LAUNCH[@]}" bin/vae-galaxy train "${THREADS[@]}" --data-dir "$galaxies" --arch "$arch" --epochs "$VAE_EPOCHS" --save-every 1000 \
    --out "$tmp/$name" >"$tmp/$name.log" 2>&1 || { cat "$tmp/$name.log" >&2; exit 1; }
  awk -F, '$3=="train"{prev=cur; cur=$8} END{printf "%.1f\n", (prev==""?cur:cur-prev)}' "$tmp/$name/metrics.csv"
}

printf '%-28s %14s %14s %10s %s\n' "job" "1 proc x 2 thr" "2 ranks x 1 thr" "2r/1p" "collectives' share (2 ranks)"
single() { LAUNCH=(env); THREADS=(--threads 2); }
ranks() { LAUNCH=(bin/torchlab-run --nproc 2 --threads 1 --); THREADS=(); }
for job in $JOBS; do
  case $job in
  lstm)
    single; one=$(lstm lstm1)
    ranks; two=$(lstm lstm2)
    printf '%-28s %14s %14s %10.2f %s%%\n' "LSTM iterations/s" "$one" "$two" "$(awk -v a="$two" -v b="$one" 'BEGIN{print a/b}')" "$(share "$tmp/lstm2.log")"
    ;;
  conv|resnet)
    single; one=$(vae "${job}1" "$job")
    ranks; two=$(vae "${job}2" "$job")
    printf '%-28s %14s %14s %10.2f %s%%\n' "$job VAE s/epoch (lower)" "$one" "$two" "$(awk -v a="$one" -v b="$two" 'BEGIN{print a/b}')" "$(share "$tmp/${job}2.log")"
    ;;
  *) echo "bench_dist: unknown job $job (want lstm, conv or resnet)" >&2; exit 2 ;;
  esac
done
echo "(2r/1p is the speed-up of 2 ranks over 1 process: iterations/s ratio, or epoch-time ratio inverted)"
