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
    exec env TORCHLAB_HEAVY_LOCKED=1 flock /tmp/torchlab-heavy.lock bash "$self" "$@"
  fi
}

# find_data SUB prints the data folder that holds SUB/: $TORCHLAB_DATA, else
# ./data, else a shared/data beside this folder or any folder above it (as
# the binaries' --data-dir default does). It fails naming SUB.
find_data() {
  local sub=$1
  if [ -n "${TORCHLAB_DATA:-}" ]; then echo "$TORCHLAB_DATA"; return; fi
  if [ -d "data/$sub" ]; then echo data; return; fi
  local d=$PWD
  while [ "$d" != / ]; do
    if [ -d "$d/../shared/data/$sub" ]; then echo "$d/../shared/data"; return; fi
    d=$(dirname "$d")
  done
  echo "$(basename "$0"): no data folder with $sub/ (set TORCHLAB_DATA)" >&2
  return 1
}
