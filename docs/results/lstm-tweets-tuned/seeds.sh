#!/usr/bin/env bash
# The chosen LSTM recipe (chosen.txt) with init seeds 2 and 3 beside this
# folder's seed 1, on the same split; seeds.md is the table over the three.
#
#   nohup bash docs/results/lstm-tweets-tuned/seeds.sh >> /tmp/lstm-seeds.log 2>&1 &
cd "$(dirname "$0")/../../.." && exec bash scripts/run_seeds.sh docs/results/lstm-tweets-tuned steps 100000 \
  "The chosen LSTM recipe over init seeds" "the 9,934 tweets of the test CSV" lstm-tweets \
  --fused-lstm --threads 1 --blas-threads 1 --batch-size 32 --optimizer adam --lr 1e-3 --schedule cosine \
  --weight-decay 1e-5 --iterations 100000 --eval-every 1000 --char-dropout 0.1
