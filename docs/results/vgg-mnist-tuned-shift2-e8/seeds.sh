#!/usr/bin/env bash
# The chosen VGG recipe (batch norm, 2-pixel shifts, 8 epochs) with init
# seeds 2 and 3 beside this folder's seed 1, on the same split; seeds.md is
# the table over the three. About 1.9 h per seed on 2 idle cores.
#
#   nohup bash docs/results/vgg-mnist-tuned-shift2-e8/seeds.sh >> /tmp/vgg-seeds.log 2>&1 &
cd "$(dirname "$0")/../../.." && exec bash scripts/run_seeds.sh docs/results/vgg-mnist-tuned-shift2-e8 steps 6880 \
  "The chosen VGG11 recipe over init seeds" "MNIST's 10,000 test images" vgg-mnist \
  --threads 2 --epochs 8 --batch-norm --augment-shift 2 --train-eval-size 0
