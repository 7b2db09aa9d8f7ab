package main

import (
	"context"
	"path/filepath"
	"testing"

	"torchlab/internal/golden"
	"torchlab/torch/torchrt"
)

// TestFirst20LossesUnchanged pins the first 20 training losses of each
// architecture on fixed seeds bit for bit: a refactor of the training code
// must not move them.
func TestFirst20LossesUnchanged(t *testing.T) {
	torchrt.Lock()
	data := fakeGalaxyZoo(t, 40)
	for _, arch := range []string{"mlp", "conv", "resnet"} {
		t.Run(arch, func(t *testing.T) {
			// 30 training galaxies in batches of 8: 4 steps an epoch.
			cfg := testConfig(t, data, filepath.Join(t.TempDir(), arch), "--arch", arch, "--epochs", "5",
				"--val-fraction", "0") // the fixtures predate the validation split
			var losses []float64
			cfg.afterStep = func(_ int64, loss float64) { losses = append(losses, loss) }
			if err := runTrain(context.Background(), cfg); err != nil {
				t.Fatal(err)
			}
			golden.Losses(t, filepath.Join("testdata", "first20_losses_"+arch+".json"), losses)
		})
	}
}
