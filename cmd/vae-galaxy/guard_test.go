package main

import (
	"context"
	"errors"
	"log"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"torchlab/internal/galaxy/galaxytest"
	"torchlab/internal/metrics"
	"torchlab/internal/runrec"
	"torchlab/internal/train"
	"torchlab/torch/checkpoint"
	"torchlab/torch/torchrt"
)

// TestDivergenceGuard injects a NaN loss at step 7 (epoch 2 of 3; 4 steps
// an epoch, a checkpoint after every epoch). With --on-divergence stop the
// run fails naming the step and leaves the epoch-1 checkpoint as it was;
// with skip it finishes and summary.json counts the skipped step.
func TestDivergenceGuard(t *testing.T) {
	torchrt.Lock()
	data := galaxytest.FakeZoo(t, 40)
	inject := func(step int, loss float64) float64 {
		if step == 6 {
			return math.NaN()
		}
		return loss
	}

	stop := filepath.Join(t.TempDir(), "stop")
	cfg := testConfig(t, data, stop, "--arch", "mlp", "--on-divergence", "stop")
	cfg.lossSeen = inject
	var before []byte
	cfg.afterStep = func(step int64, _ float64) {
		if step == 5 { // the loop wrote the epoch-1 checkpoint after step 4
			var err error
			if before, err = os.ReadFile(filepath.Join(stop, "checkpoint", "checkpoint.npz")); err != nil {
				t.Error(err)
			}
		}
	}
	err := runTrain(context.Background(), cfg, log.Default())
	if !errors.Is(err, train.ErrDiverged) || !strings.Contains(err.Error(), "step 7: loss NaN") {
		t.Fatalf("stop: got %v, want a divergence error naming step 7", err)
	}
	after, rerr := os.ReadFile(filepath.Join(stop, "checkpoint", "checkpoint.npz"))
	if rerr != nil || len(before) == 0 || string(after) != string(before) {
		t.Errorf("stop: the epoch-1 checkpoint changed or is gone (%v)", rerr)
	}
	var meta checkpoint.Meta
	if err := metrics.ReadJSON(filepath.Join(stop, "checkpoint", "checkpoint.json"), &meta); err != nil || meta.Step != 4 {
		t.Errorf("stop: checkpoint step %d (%v), want 4", meta.Step, err)
	}

	skip := filepath.Join(t.TempDir(), "skip")
	cfg = testConfig(t, data, skip, "--arch", "mlp", "--on-divergence", "skip")
	cfg.lossSeen = inject
	if err := runTrain(context.Background(), cfg, log.Default()); err != nil {
		t.Fatalf("skip: %v", err)
	}
	var s runrec.Summary
	if err := metrics.ReadJSON(filepath.Join(skip, "summary.json"), &s); err != nil {
		t.Fatal(err)
	}
	if s.Results["diverged_steps_skipped"] != 1 || s.Results["steps"] != 12 {
		t.Errorf("skip: summary results %v: want 12 steps, 1 skipped", s.Results)
	}
	if !strings.Contains(strings.Join(s.Notes, " "), "1 diverged step(s) skipped: steps 7") {
		t.Errorf("skip: notes %q do not name the skipped step", s.Notes)
	}
}
