#!/usr/bin/env bash
# One committed recipe again with other init seeds, on the committed run's
# data split (--split-seed 1), and the table over all its seeds.
#
#   bash scripts/run_seeds.sh RESULTS_DIR DONE_KEY DONE_VALUE TITLE TEST_SET COMMAND FLAG...
#
# RESULTS_DIR is the committed seed-1 run. For each seed in $SEEDS (default
# "2 3") it runs `bin/COMMAND train FLAG... --seed S --split-seed 1` into
# out/seeds/<RESULTS_DIR's name>/seed<S>, under the machine-wide heavy-job
# lock, resuming from its checkpoint when started again; a run is done when
# its summary.json has results.DONE_KEY >= DONE_VALUE. The run's summary,
# metrics, best.json and accuracy curve are copied to RESULTS_DIR/seeds/seed<S>/
# and scripts/seed_table.py writes RESULTS_DIR/seeds.md and seeds.json (it refuses runs of
# another recipe or split).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 6 ] || { sed -n '2,14p' "$0" >&2; exit 2; }
R=$1 key=$2 want=$3 title=$4 testset=$5 cmd=$6
shift 6
# -buildvcs=true: summary.json names the commit of this binary.
go build -buildvcs=true -o "bin/$cmd" "./cmd/$cmd"
for seed in ${SEEDS:-2 3}; do
  out=out/seeds/$(basename "$R")/seed$seed
  if ! [ -f "$out/summary.json" ] || ! /usr/bin/python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["results"].get(sys.argv[2],0)>=float(sys.argv[3]) else 1)' "$out/summary.json" "$key" "$want"; then
    resume=()
    [ -f "$out/checkpoint/checkpoint.json" ] && resume=(--resume)
    echo "== $cmd seed $seed into $out ${resume[*]}, $(date -u +%FT%TZ)"
    flock /tmp/torchlab-heavy.lock "bin/$cmd" train "$@" --seed "$seed" --split-seed 1 --out "$out" "${resume[@]}"
  fi
  mkdir -p "$R/seeds/seed$seed"
  cp "$out/summary.json" "$out/metrics.csv" "$out/best/best.json" "$out/accuracy.png" "$R/seeds/seed$seed/"
done
/usr/bin/python3 scripts/seed_table.py "$R/seeds.md" "$title" "$testset" "$R" "$R"/seeds/seed*
echo "== done, $(date -u +%FT%TZ)"
