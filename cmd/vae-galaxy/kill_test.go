package main

import (
	"fmt"
	"path/filepath"
	"testing"
	"torchlab/internal/galaxy/galaxytest"

	"torchlab/internal/crashtest"
)

func TestMain(m *testing.M) { crashtest.Main(m, main) }

// TestKillResumeMetricsOnce kills a run with SIGKILL after it wrote
// evaluations beyond its last checkpoint, resumes it, and finds every
// evaluation's rows exactly once.
func TestKillResumeMetricsOnce(t *testing.T) {
	data := galaxytest.FakeZoo(t, 40)
	out := filepath.Join(t.TempDir(), "conv")
	args := []string{"train", "--data-dir", data, "--out", out, "--cache-dir", filepath.Join(data, "cache"),
		"--crop", "32", "--image-size", "32", "--batch-size", "8", "--epochs", "8", "--z-dim", "4",
		"--test-fraction", "0.25", "--threads", "1", "--save-every", "1", "--eval-every", "1", "--arch", "conv"}
	var want []string
	for step := 1; step <= 32; step++ { // 27 training images (3 held out) in batches of 8: 4 steps an epoch
		want = append(want, fmt.Sprintf("%d train", step))
		if step%20 == 0 || step == 32 { // the whole training split every 5 epochs (--train-eval-every) and at the end
			want = append(want, fmt.Sprintf("%d train-full", step))
		}
		want = append(want, fmt.Sprintf("%d val", step), fmt.Sprintf("%d test", step))
	}
	crashtest.Run{Out: out, Args: args, ResumeArgs: append(args, "--resume"), StepColumn: "step", KillBeyond: true, Want: want}.Check(t)
}
