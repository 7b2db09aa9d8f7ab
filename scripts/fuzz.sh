#!/usr/bin/env bash
# make fuzz: run every Go fuzz target (func FuzzX in a _test.go file) for
# FUZZTIME each (default 60s; FUZZMINIMIZETIME, default 5s, bounds the
# minimising of each new input), one at a time on one worker, and print the
# executions of each. A crasher stops the script; go test saves its input
# under the package's testdata/fuzz/FuzzX/, which is committed with the fix.
# The seed corpora (f.Add and testdata/fuzz) already run in make test.
set -euo pipefail
cd "$(dirname "$0")/.."
time=${FUZZTIME:-60s}
# A new input is minimised before fuzzing goes on; go's default limit
# (60s) would spend a 60s run minimising one JPEG.
minimize=${FUZZMINIMIZETIME:-5s}
export GOFLAGS=${GOFLAGS:--trimpath}
summary=()
while IFS= read -r file; do
  dir=./$(dirname "$file")
  for target in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(f \*testing\.F).*/\1/p' "$file"); do
    echo "fuzz: $dir $target for $time"
    log=$(mktemp)
    if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$time" -fuzzminimizetime "$minimize" -parallel 1 "$dir" 2>&1 | tee "$log" | grep -v '^fuzz: elapsed'; then
      echo "fuzz: $dir $target FAILED; the input is in $dir/testdata/fuzz/$target/" >&2
      exit 1
    fi
    execs=$(sed -n 's/^fuzz: elapsed: [^,]*, execs: \([0-9]*\).*/\1/p' "$log" | sort -n | tail -1)
    summary+=("$(printf '%-18s %-22s %12s execs in %s' "$dir" "$target" "${execs:-?}" "$time")")
    rm -f "$log"
  done
done < <(git ls-files '*_test.go' | xargs grep -l '^func Fuzz[A-Za-z0-9_]*(f \*testing\.F)' | sort)
printf '%s\n' "${summary[@]}"
