package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"torchlab/internal/crashtest"
	"torchlab/internal/galaxy/galaxytest"
	"torchlab/internal/metrics"
	"torchlab/internal/runrec"
	"torchlab/torch/torchrt"
)

func TestMain(m *testing.M) { crashtest.Main(m, main) }

// TestBadFlagsExit: bad values exit 2 with a message naming them, before
// data loading, with no --out created (crashtest.BadFlags); training on
// missing data exits 1.
func TestBadFlagsExit(t *testing.T) {
	train := crashtest.TrainArgs
	crashtest.BadFlags(t, []crashtest.BadFlag{
		{Args: []string{"trian"}, Code: 2, Want: "(did you mean train?)"},
		{Args: train("--lr", "0"), Code: 2, Want: "--lr must be > 0 (got 0)"},
		{Args: train("--val-fraction", "0"), Code: 2, Want: "--val-fraction must be in (0, 1) (got 0)"},
		{Args: train("--epoch", "1"), Code: 2, Want: "unknown flag --epoch (did you mean --epochs?)"},
		{Args: train(), Code: 1, Want: "no-data"},
	})
}

// TestTrainAndResume trains the classifier for one epoch on a fake Galaxy
// Zoo through the command line, then resumes it to a second epoch:
// summary.json counts both epochs' steps and names the best validation
// step.
func TestTrainAndResume(t *testing.T) {
	torchrt.Lock()
	data := galaxytest.FakeZoo(t, 40)
	out := filepath.Join(t.TempDir(), "classifier")
	args := []string{"train", "--data-dir", data, "--out", out, "--cache-dir", filepath.Join(data, "cache"),
		"--crop", "32", "--image-size", "32", "--batch-size", "8", "--test-fraction", "0.25", "--threads", "1"}
	if err := run(append(args, "--epochs", "1"), io.Discard, os.Stderr); err != nil {
		t.Fatal(err)
	}
	if err := run(append(args, "--epochs", "2", "--resume"), io.Discard, os.Stderr); err != nil {
		t.Fatal(err)
	}
	var summary runrec.Summary
	if err := metrics.ReadJSON(filepath.Join(out, "summary.json"), &summary); err != nil {
		t.Fatal(err)
	}
	// 30 training galaxies less 3 for validation: 27 = 3 batches of 8 and
	// one of 3, 4 steps an epoch.
	if steps := summary.Results["steps"]; steps != 8 || summary.Best == nil || !summary.Best.Found {
		t.Errorf("summary: %v steps, best %+v; want 8 steps and a best validation step", steps, summary.Best)
	}
	if acc, ok := summary.Results["test_accuracy"]; !ok || !(acc >= 0 && acc <= 1) {
		t.Errorf("test accuracy %v (present %v), want one in [0, 1]", acc, ok)
	}
}
