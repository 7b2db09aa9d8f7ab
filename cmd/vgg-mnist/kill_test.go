package main

import (
	"fmt"
	"path/filepath"
	"testing"

	"torchlab/internal/crashtest"
)

func TestMain(m *testing.M) { crashtest.Main(m, main) }

// TestKillResumeMetricsOnce kills a run with SIGKILL after it wrote
// evaluations beyond its last checkpoint, resumes it, and finds every
// evaluation's rows exactly once.
func TestKillResumeMetricsOnce(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	args := []string{"train", "--out", out, "--threads", "1", "--data-fraction", fmt.Sprint(40.0 / 60000), "--test-data-fraction", "0.01",
		"--train-eval-size", "16", "--batch-size", "8", "--epochs", "3", "--eval-every", "1", "--hidden", "64"}
	var want []string
	for step := 1; step <= 15; step++ { // 37 training images (3 held out) in batches of 8: 5 steps an epoch
		want = append(want, fmt.Sprintf("%d train", step), fmt.Sprintf("%d val", step), fmt.Sprintf("%d test", step))
	}
	crashtest.Run{Out: out, Args: args, ResumeArgs: append(args, "--resume"), StepColumn: "step", KillBeyond: true, Want: want}.Check(t)
}
