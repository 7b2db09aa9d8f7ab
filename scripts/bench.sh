#!/usr/bin/env bash
# Speed of each part against its PyTorch references (plain and best-effort),
# on this machine, in one run. Each bench_*.sh prints its own table; this
# runs them one after another (never two at once: a benchmark needs the
# cores to itself) and writes all of it, with the machine's facts, to
# docs/results/bench.md (BENCH_OUT to write elsewhere).
# It takes the heavy-job lock itself, once for all parts (the parts see
# TORCHLAB_HEAVY_LOCKED and do not take it again): do not wrap it in
# `flock /tmp/torchlab-heavy.lock`, which would wait on itself forever.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
heavy_lock "$0" "$@"
mkdir -p bin
out=${BENCH_OUT:-docs/results/bench.md}
tmp=$(mktemp)
part_log=$(mktemp)
trap 'rm -f "$tmp" "$part_log"' EXIT
{
  echo "# Benchmarks (make bench)"
  echo
  echo "Written by \`make bench\` (scripts/bench.sh) on $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)."
  echo
  echo "| machine | |"
  echo "|---|---|"
  echo "| cores | $(nproc) ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')) |"
  echo "| memory | $(free -g | awk '/Mem:/{print $2}') GiB |"
  echo "| libtorch | $(/usr/bin/python3 -c 'import torch; print(torch.__version__)' 2>/dev/null || echo unknown) (Debian) |"
  echo "| BLAS | $(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || echo unknown) |"
  echo
  echo "Peaks a workload's GFLOP/s is a share of (\`bin/peak\`, torch/peak: the measured one is the"
  echo "best of OpenBLAS's and oneDNN's large float32 products in one process at $(nproc) threads;"
  echo "the theoretical one is cores x clock x FLOPs per cycle, with what it assumes):"
  echo
  echo '```'
} > "$tmp"
status=0
echo "== peak =="
# The parts read the peaks from BENCH_PEAK_JSON rather than measure them again.
export BENCH_PEAK_JSON=$(mktemp)
trap 'rm -f "$tmp" "$part_log" "$BENCH_PEAK_JSON"' EXIT
if ! { go build -o bin/peak ./cmd/peak && bin/peak --threads "$(nproc)" --json-file "$BENCH_PEAK_JSON"; } 2>&1 | tee -a "$tmp"; then
  echo "bench peak failed" >&2
  echo "(failed)" >> "$tmp"
  status=1
fi
{
  echo '```'
  echo
  echo "Each table compares Go with PyTorch written plainly and PyTorch written for speed"
  echo "(best-effort: data preloaded as tensors, the LSTM with Go's length bucketing); the"
  echo "headline ratio is against best-effort. Threads as each script says."
  echo
} >> "$tmp"
# The epoch bench's single rounds moved by 10-20 % between runs on this
# 2-core machine (docs/performance.md), so it takes the median of several.
vgg_epoch_rounds=${VGG_EPOCH_ROUNDS:-3}
for part in vgg vgg_epoch lstm vae dist; do
  script="scripts/bench_${part}.sh"
  args=()
  [ "$part" = vgg_epoch ] && args=("$vgg_epoch_rounds")
  echo "== $part =="
  { echo "## $part"; echo; echo '```'; } >> "$tmp"
  failed=0
  bash "$script" "${args[@]}" 2>&1 | tee "$part_log" || failed=1
  # Go's module downloads (a fresh clone's first build) are not results. A
  # crash's goroutine dump would bury the tables: bench.md keeps its first
  # lines (the error and the crashing goroutine) and says how many it left.
  grep -v '^go: downloading' "$part_log" | awk '
    /^goroutine [0-9]+ .*:$/ && ++g > 1 { cut = 1 }
    cut { left++; next }
    { print }
    END { if (left) printf "(%d more lines of the crash'"'"'s goroutine dump left out; rerun the part to see them)\n", left }' >> "$tmp" || true
  if ((failed)); then
    echo "bench $part failed" >&2
    echo "(failed)" >> "$tmp"
    status=1
  fi
  { echo '```'; echo; } >> "$tmp"
done
mkdir -p "$(dirname "$out")"
cp "$tmp" "$out"
echo "wrote $out"
exit $status
