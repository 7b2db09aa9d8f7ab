package main

import (
	"testing"

	"torchlab/internal/golden"
	"torchlab/torch/torchrt"
)

// TestFirst20LossesUnchanged pins the first 20 training losses on fixed
// seeds bit for bit: a refactor of the training code must not move them.
// On a machine the fixture has no values for, within 1e-6 of each recorded
// loss: a few times the spread measured between kernel sets
// (docs/robustness.md).
func TestFirst20LossesUnchanged(t *testing.T) {
	torchrt.Lock()
	cfg := smallConfig(t, 320, 16, 1)
	cfg.MaxSteps = 20
	cfg.EvalEvery = 10
	cfg.ValFraction = 0 // the fixture predates the validation split
	res := mustTrain(t, cfg)
	golden.Losses(t, "testdata/first20_losses.json", res.Losses, 1e-6)
}
