#!/usr/bin/env bash
# make assignment: the whole assignment as specified, part by part, then
# docs/results/assignment.md with each part's wall and training time, its
# machine and its main result beside the committed run's.
#
#   bash scripts/assignment.sh                      # every part (hours)
#   PARTS="vgg lstm" bash scripts/assignment.sh     # some parts
#   SMOKE=1 bash scripts/assignment.sh              # tiny settings, minutes
#
# The parts (PARTS, in this order): cnn (cnn-calc's answers), vgg (VGG11 on
# MNIST, 5 epochs), lstm (the char-LSTM, 100,000 iterations, batch 32, lr
# 1e-4, the fused LSTM), vae-mlp, vae-conv, vae-resnet (200 epochs at 64x64,
# the BCE loss, seed 1), report. The flags are those of the committed runs
# (docs/results/*/README.md, vae-galaxy/run.sh); every other setting is the
# commands' default. Each part goes to its own folder under OUT: a training
# part that its summary.json says finished all its steps is skipped, one
# with a checkpoint resumes (--resume), so the script can be stopped
# (Ctrl-C saves a checkpoint) and run again, piece by piece, across
# sessions. The page is written after each part.
#
# Environment:
#   OUT          the parts' folder (out/assignment; SMOKE: out/assignment-smoke)
#   MD           the page (docs/results/assignment.md; SMOKE: OUT/assignment.md,
#                and a smoke run refuses to write docs/results/assignment.md)
#   PARTS        the parts to run (default all)
#   DATA_DIR     the data folder (default: scripts/lib.sh's find_data; SMOKE
#                takes tweets and galaxies from the bundled sample)
#   RESNET_RANKS the resnet's data-parallel ranks of one thread each (default
#                1: one process with 2 threads, the fastest way on an idle
#                machine, docs/performance.md; 2: two ranks)
# Takes the machine-wide heavy-job lock (/tmp/torchlab-heavy.lock) itself.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
heavy_lock "$0" "$@"

SMOKE=${SMOKE:-0}
ALL_PARTS="cnn vgg lstm vae-mlp vae-conv vae-resnet report"
PARTS=${PARTS:-$ALL_PARTS}
RESNET_RANKS=${RESNET_RANKS:-1}
THREADS=$(nproc)
committed_md=docs/results/assignment.md

# --- The assignment's settings (SMOKE: tiny ones) ---
VGG_EPOCHS=5
LSTM_ITERATIONS=100000
VAE_EPOCHS=200
vgg_extra=() lstm_extra=() vae_extra=()
if [ "$SMOKE" = 1 ]; then
  VGG_EPOCHS=1
  LSTM_ITERATIONS=200
  VAE_EPOCHS=1
  # A stratified 1 % of MNIST (~550 training images), 2 % of its test set.
  vgg_extra=(--data-fraction 0.01 --test-data-fraction 0.02 --train-eval-size 200)
  lstm_extra=(--eval-every 100 --train-eval-size 500)
  vae_extra=(--data-size 300)
  OUT=${OUT:-out/assignment-smoke}
  MD=${MD:-$OUT/assignment.md}
else
  OUT=${OUT:-out/assignment}
  MD=${MD:-$committed_md}
fi
# --- end of settings ---

if [ "$SMOKE" = 1 ] && [ "$(realpath -m "$MD")" = "$(realpath -m "$committed_md")" ]; then
  echo "assignment: a smoke run does not write $committed_md (set MD elsewhere)" >&2
  exit 2
fi
for part in $PARTS; do
  case " $ALL_PARTS " in *" $part "*) ;; *) echo "assignment: unknown part $part (the parts: $ALL_PARTS)" >&2; exit 2 ;; esac
done

data_for() { # data_for SUB: the data folder holding SUB/
  if [ -n "${DATA_DIR:-}" ]; then echo "$DATA_DIR"; return; fi
  if [ "$SMOKE" = 1 ] && [ -d "datasets/sample/$1" ]; then echo datasets/sample; return; fi
  find_data "$1"
}

echo "=== assignment: building the commands into bin/"
# -buildvcs=true: summary.json names the commit the binaries were built from.
go build -buildvcs=true -o bin/ ./cmd/cnn-calc ./cmd/vgg-mnist ./cmd/lstm-tweets ./cmd/vae-galaxy \
  ./cmd/torchlab-run ./cmd/report ./cmd/assignment
mkdir -p "$OUT"
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//' || echo unknown)

page_flags=(--command "make assignment")
[ "$SMOKE" = 1 ] && page_flags=(--command "SMOKE=1 make assignment" --smoke)
write_page() {
  bin/assignment write --dir "$OUT" --md "$MD" --commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
    --want "vgg=$VGG_EPOCHS,lstm=$LSTM_ITERATIONS,vae-mlp=$VAE_EPOCHS,vae-conv=$VAE_EPOCHS,vae-resnet=$VAE_EPOCHS" \
    "${page_flags[@]}"
  echo "=== assignment: wrote $MD"
}

# part NAME DIR WANT COMMAND...: run one part unless it is done, resuming
# it when it has a checkpoint; log the session's wall time in DIR, write
# the page, and stop the script if the part failed.
part() {
  local name=$1 dir=$2 want=$3
  shift 3
  local status state why
  status=$(bin/assignment status --part "$name" --dir "$dir" --want "$want")
  state=${status%%$'\t'*} why=${status#*$'\t'}
  local extra=()
  case $state in
    done) echo "=== assignment: $name: done ($why), skipped"; return 0 ;;
    resume) extra=(--resume) ;;
    new)
      mkdir -p "$dir"
      : > "$dir/assignment-sessions.tsv"
      # A training command refuses a folder holding a run without --overwrite.
      case $name in cnn|report) ;; *) extra=(--overwrite) ;; esac ;;
  esac
  echo
  echo "=== assignment: $name ($state: $why): $* ${extra[*]}"
  local start=$SECONDS start_unix rc=0
  start_unix=$(date +%s)
  "$@" "${extra[@]}" || rc=$?
  printf '%s\t%s\t%s\t%s\t%s\n' "$start_unix" $((SECONDS - start)) "$rc" "$cpu" "$THREADS" >> "$dir/assignment-sessions.tsv"
  write_page
  if ((rc != 0)); then
    echo "assignment: $name stopped with exit status $rc; run the script again to continue it" >&2
    exit "$rc"
  fi
}

cnn_part() { # cnn_part DIR: the answers, written whole or not at all
  bin/cnn-calc --markdown --threads "$THREADS" > "$1/cnn-basics.md.tmp" && mv "$1/cnn-basics.md.tmp" "$1/cnn-basics.md"
}

report_part() { # report_part DIR: the VAEs' comparison figure, then the report
  local vae=()
  for arch in mlp conv resnet; do [ -f "$OUT/vae-galaxy/$arch/summary.json" ] && vae+=(--compare "$OUT/vae-galaxy/$arch"); done
  if ((${#vae[@]})); then bin/vae-galaxy plots --threads "$THREADS" --out "$OUT/vae-galaxy" "${vae[@]}"; fi
  bin/report --threads "$THREADS" --out "$1" --vgg-dir "$OUT/vgg-mnist" --lstm-dir "$OUT/lstm-tweets" --vae-dir "$OUT/vae-galaxy"
}

for name in $PARTS; do
  case $name in
    cnn) part cnn "$OUT/cnn" 0 cnn_part "$OUT/cnn" ;;
    vgg)
      part vgg "$OUT/vgg-mnist" "$VGG_EPOCHS" bin/vgg-mnist train --data-dir "$(data_for mnist)" --out "$OUT/vgg-mnist" \
        --threads 2 --epochs "$VGG_EPOCHS" "${vgg_extra[@]}" ;;
    lstm)
      # One libtorch thread, the command's default and the committed run's.
      part lstm "$OUT/lstm-tweets" "$LSTM_ITERATIONS" bin/lstm-tweets train --data-dir "$(data_for tweets)" \
        --out "$OUT/lstm-tweets" --fused-lstm --iterations "$LSTM_ITERATIONS" --batch-size 32 --lr 1e-4 "${lstm_extra[@]}" ;;
    vae-*)
      arch=${name#vae-}
      launch=() threads=(--threads 2)
      if [ "$arch" = resnet ] && ((RESNET_RANKS > 1)); then
        launch=(bin/torchlab-run --nproc "$RESNET_RANKS" --threads 1 --) threads=()
      fi
      part "$name" "$OUT/vae-galaxy/$arch" "$VAE_EPOCHS" "${launch[@]}" bin/vae-galaxy train --data-dir "$(data_for galaxyzoo)" \
        --arch "$arch" --epochs "$VAE_EPOCHS" --image-size 64 --likelihood bernoulli --seed 1 "${threads[@]}" \
        --out "$OUT/vae-galaxy/$arch" "${vae_extra[@]}" ;;
    report) part report "$OUT/report" 0 report_part "$OUT/report" ;;
  esac
done
write_page
echo "=== assignment: done; the page: $MD"
