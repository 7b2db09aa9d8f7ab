#!/usr/bin/env bash
# Training throughput of VGG11 (MNIST shape 1x32x32, batch 64, SGD momentum)
# in Go (bin/bench vgg) and in the PyTorch reference, alternating runs on
# the same machine with the same threads, plus peak RSS and the Go run's
# GFLOP/s as a share of two peaks: the measured one (the best of OpenBLAS's
# and oneDNN's large products, in the same Go process at the same threads)
# and the machine's theoretical FMA peak (torch/peak says what it assumes).
#
#   scripts/bench_vgg.sh [rounds]    (default 2 rounds: Go, PyTorch, Go, PyTorch)
#
# Environment: THREADS (default 2), STEPS (30), WARMUP (5), BATCH (64),
# BLAS_THREADS (Go's --blas-threads; default: the binary's).
# Runs under flock /tmp/torchlab-heavy.lock so no other heavy job shares the CPU.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${1:-2}
threads=${THREADS:-2}
steps=${STEPS:-30}
warmup=${WARMUP:-5}
batch=${BATCH:-64}
blas=${BLAS_THREADS:-} # Go's --blas-threads (empty: the binary's default)
. scripts/lib.sh
heavy_lock "$0" "$@"

go build -o bin/bench ./cmd/bench
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for r in $(seq 1 "$rounds"); do
  echo "round $r/$rounds: Go" >&2
  bin/bench vgg --threads "$threads" --steps "$steps" --warmup "$warmup" --batch-size "$batch" ${blas:+--blas-threads "$blas"} > "$tmp/go-$r.json"
  echo "round $r/$rounds: PyTorch" >&2
  /usr/bin/python3 scripts/reference/vgg_mnist.py bench --threads "$threads" --steps "$steps" \
    --warmup "$warmup" --batch-size "$batch" --out "$tmp/py-$r.json"
done

/usr/bin/python3 - "$tmp" "$rounds" <<'EOF'
import json, statistics, sys
tmp, rounds = sys.argv[1], int(sys.argv[2])
go = [json.load(open(f"{tmp}/go-{r}.json")) for r in range(1, rounds + 1)]
py = [json.load(open(f"{tmp}/py-{r}.json")) for r in range(1, rounds + 1)]
med = lambda rs, k: statistics.median(r[k] for r in rs)
g, p = med(go, "images_per_second"), med(py, "images_per_second")
mb = lambda v: f"{v / 2**20:.0f} MB"
print(f"VGG11 training, 1x32x32, batch {go[0]['batch_size']}, {go[0]['threads']} threads, "
      f"{go[0]['steps']} timed steps, median of {rounds} alternating runs")
print(f"{'':24}{'Go (gotch)':>14}{'PyTorch':>14}")
print(f"{'images/s':24}{g:>14.1f}{p:>14.1f}")
runs = lambda rs: " ".join("%.1f" % r["images_per_second"] for r in rs)
print(f"{'runs (images/s)':24}{runs(go):>14}{runs(py):>14}")
print(f"{'peak RSS':24}{mb(max(r['peak_rss_bytes'] for r in go)):>14}{mb(max(r['peak_rss_bytes'] for r in py)):>14}")
print(f"Go / PyTorch images/s: {g / p:.3f}")
gf, mm, fma = med(go, "gflops"), med(go, "matmul_gflops"), go[0]["fma_gflops"]
print(f"measured peak: {mm:.1f} GFLOP/s, the best of OpenBLAS's sgemm {med(go, 'openblas_gflops'):.1f} "
      f"and oneDNN's 1x1 convolution {med(go, 'onednn_gflops'):.1f} (medians), in the Go process at its threads")
print(f"theoretical FMA peak: {go[0]['fma']}")
print(f"Go training GFLOP/s: {gf:.1f}: {100 * gf / mm:.0f}% of the measured peak, {100 * gf / fma:.0f}% of the FMA peak")
EOF
