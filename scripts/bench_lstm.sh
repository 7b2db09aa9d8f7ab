#!/usr/bin/env bash
# Training speed of the char-LSTM: the Go binary (batches of similar length
# from length buckets, state taken at each tweet's last character) against
# two PyTorch references, same model, machine and threads, alternating in
# one run: plain (random padded one-hot batches, nn.LSTM, what the
# assignment's code would be) and best-effort (what an expert would write:
# the same length bucketing as Go, tweets padded into one tensor once,
# one-hot as a row lookup). The headline ratio is against best-effort.
# Prints iterations/s and peak RSS of each run, the means and the ratio.
# Both use one OpenBLAS thread (OPENBLAS_NUM_THREADS=1 for Python, the Go
# default --blas-threads 1): the per-step products are too small to split.
#
# Go runs twice per round: libtorch's LSTM (the default) and --fused-lstm
# (torch/lstmfused, hand-written forward and backward in C++).
#
# Usage: scripts/bench_lstm.sh [iterations=1000] [rounds=2] [threads=1]
# (one thread is the Go binary's fastest setting; both get the same).
# Takes the machine-wide heavy-job lock (/tmp/torchlab-heavy.lock) itself.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
heavy_lock "$0" "$@"
iters=${1:-1000}
rounds=${2:-2}
threads=${3:-1}

data=$(find_data tweets)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/lstm-tweets" ./cmd/lstm-tweets
# Evaluation is not part of the timed steps; a 200-tweet test file keeps
# the Go run's start and end evaluations short.
head -201 "$data/tweets/tweetstest.csv" > "$tmp/test.csv"

printf '%-12s %5s %10s %14s\n' impl round "it/s" "peak RSS MB"
go_sum=0 fused_sum=0 py_sum=0 best_sum=0
# go_run NAME [flags...]: one timed Go training run; sets run_its.
go_run() {
	local name=$1
	shift
	rm -rf "$tmp/out"
	/usr/bin/time -f '%M' -o "$tmp/go.rss" "$tmp/lstm-tweets" train --data-dir "$data" \
		--test "$tmp/test.csv" --iterations "$iters" --eval-every "$((iters + 1))" \
		--train-eval-size 200 --threads "$threads" --blas-threads 1 --out "$tmp/out" "$@" 2> "$tmp/go.log" ||
		{ cat "$tmp/go.log" >&2; exit 1; }
	run_its=$(/usr/bin/python3 -c 'import json,sys; print("%.2f" % json.load(open(sys.argv[1]))["results"]["steps_per_second"])' "$tmp/out/summary.json")
	printf '%-12s %5s %10s %14.0f\n' "$name" "$r" "$run_its" "$(echo "$(cat "$tmp/go.rss") / 1024" | bc -l)"
}
for r in $(seq 1 "$rounds"); do
	go_run go
	go_its=$run_its
	go_run go-fused --fused-lstm
	fused_its=$run_its
	fused_sum=$(echo "$fused_sum + $fused_its" | bc -l)

	OPENBLAS_NUM_THREADS=1 /usr/bin/time -f '%M' -o "$tmp/py.rss" /usr/bin/python3 scripts/reference/lstm_tweets.py bench \
		--data "$data/tweets/tweetstrain.csv" --iterations "$iters" --threads "$threads" \
		--optimizer adam --lr 1e-4 --out "$tmp/py.npz" > "$tmp/py.log"
	py_its=$(awk '{for (i = 1; i < NF; i++) if ($i == "it_per_s") printf "%.2f", $(i + 1)}' "$tmp/py.log")
	printf '%-12s %5s %10s %14.0f\n' pytorch "$r" "$py_its" "$(echo "$(cat "$tmp/py.rss") / 1024" | bc -l)"
	OPENBLAS_NUM_THREADS=1 /usr/bin/time -f '%M' -o "$tmp/best.rss" /usr/bin/python3 scripts/reference/lstm_tweets.py bench \
		--data "$data/tweets/tweetstrain.csv" --iterations "$iters" --threads "$threads" --best-effort \
		--optimizer adam --lr 1e-4 --out "$tmp/py.npz" > "$tmp/best.log"
	best_its=$(awk '{for (i = 1; i < NF; i++) if ($i == "it_per_s") printf "%.2f", $(i + 1)}' "$tmp/best.log")
	printf '%-12s %5s %10s %14.0f\n' best-effort "$r" "$best_its" "$(echo "$(cat "$tmp/best.rss") / 1024" | bc -l)"
	best_sum=$(echo "$best_sum + $best_its" | bc -l)
	go_sum=$(echo "$go_sum + $go_its" | bc -l)
	py_sum=$(echo "$py_sum + $py_its" | bc -l)
done
go_mean=$(echo "$go_sum / $rounds" | bc -l)
py_mean=$(echo "$py_sum / $rounds" | bc -l)
best_mean=$(echo "$best_sum / $rounds" | bc -l)
fused_mean=$(echo "$fused_sum / $rounds" | bc -l)
printf '\nmean it/s: go %.2f, go --fused-lstm %.2f, pytorch plain %.2f, pytorch best-effort %.2f\n' \
	"$go_mean" "$fused_mean" "$py_mean" "$best_mean"
printf 'go --fused-lstm/best-effort = %.2fx, go/best-effort = %.2fx, go/plain = %.2fx (threads %s, %s iterations, batch 32, Adam)\n' \
	"$(echo "$fused_mean / $best_mean" | bc -l)" "$(echo "$go_mean / $best_mean" | bc -l)" "$(echo "$go_mean / $py_mean" | bc -l)" "$threads" "$iters"
