#!/usr/bin/env bash
# What a new user sees: clone the committed main into an empty temp folder
# outside this work tree (no ../shared beside it), with an empty Go module
# cache and no TORCHLAB_DATA, then run the README's two commands there.
#
#   bash scripts/fresh-clone-check.sh [--keep] [--fresh-build-cache] [--only test|demo|bench] [--bench]
#
# --bench also runs `make bench` in the clone after the other two (45 min
# on 2026-12-05) and copies the clone's docs/results/bench.md over this work
# tree's, to be reviewed and committed. --only bench runs make bench alone.
# --fresh-build-cache also empties Go's build cache (adds ~5 minutes: gotch
# is compiled again). Uncommitted changes are not in the clone: commit first.
# It takes the heavy-job lock itself, for all three (make bench inside then
# does not take it again): do not wrap it in `flock /tmp/torchlab-heavy.lock`,
# which would wait on itself forever.
# Prints the time of each command; exits non-zero if either fails.
set -euo pipefail
cd "$(dirname "$0")/.."
# The lock first: heavy_lock re-runs this script with its arguments, which
# the loop below shifts away.
if [ "${1:-}" != -h ] && [ "${1:-}" != --help ]; then
  . scripts/lib.sh
  heavy_lock "$0" "$@"
fi
keep=0 fresh_build=0 only="" bench=0
while (($#)); do
  case "$1" in
    --keep) keep=1; shift ;;
    --fresh-build-cache) fresh_build=1; shift ;;
    --only) only=$2; shift 2 ;;
    --bench) bench=1; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "fresh-clone-check: unknown argument $1" >&2; exit 2 ;;
  esac
done
case $only in ""|test|demo) ;; bench) bench=1 ;; *) echo "fresh-clone-check: --only takes test, demo or bench, not $only" >&2; exit 2 ;; esac
repo=$(pwd)
tmp=$(mktemp -d /tmp/torchlab-fresh.XXXXXX)
cleanup() {
  if ((keep)); then echo "fresh-clone-check: kept $tmp"; else chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"; fi
}
trap cleanup EXIT
for d in "$tmp" "$(dirname "$tmp")" /; do
  if [ -e "$d/shared/data" ]; then
    echo "fresh-clone-check: $d/shared/data exists, so the clone would find data beside it" >&2
    exit 1
  fi
done

git clone -q "$repo" "$tmp/torchlab"
cd "$tmp/torchlab"
echo "fresh-clone-check: clone of $(git rev-parse --short HEAD) in $tmp/torchlab"
unset TORCHLAB_DATA DATA_DIR
export GOMODCACHE="$tmp/gomodcache" XDG_CACHE_HOME="$tmp/cache" GOFLAGS=-modcacherw
if ((fresh_build)); then export GOCACHE="$tmp/gocache"; fi

timings=()
status=0
targets=(test demo)
((bench)) && targets+=(bench)
for target in "${targets[@]}"; do
  [ -z "$only" ] || [ "$only" = "$target" ] || [ "$target" = bench ] || continue
  start=$SECONDS
  echo "=== fresh-clone-check: make $target"
  if make "$target" 2>&1 | tee "$tmp/make-$target.log"; then result=passed; else result=FAILED; status=1; fi
  timings+=("make $target: $result in $(((SECONDS - start) / 60))m$(((SECONDS - start) % 60))s")
done
if [ -z "$only" ] || [ "$only" = test ]; then
  # The data tests must run here on the bundled sample (MNIST from the
  # module cache); only those of the full data's own counts may skip.
  echo "=== fresh-clone-check: the data tests, verbose"
  go test -count=1 -v -run 'Real|Sample|Locate|Full' ./datasets/ 2>&1 |
    grep -E -- '^(--- |ok|FAIL)|: (tweets|galaxyzoo|mnist): |checks the full' || status=1
fi
if ((bench)) && [ -f docs/results/bench.md ]; then
  cp docs/results/bench.md "$repo/docs/results/bench.md"
  echo "fresh-clone-check: copied the clone's bench.md to $repo/docs/results/bench.md"
fi
echo
echo "=== fresh-clone-check: $( ((status)) && echo FAILED || echo passed )"
printf '  %s\n' "${timings[@]}"
exit $status
