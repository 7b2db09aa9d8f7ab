package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"torchlab/internal/crashtest"
	"torchlab/internal/metrics"
)

// TestBadFlagsExit: each bad vgg-mnist command line exits 2 naming the
// flag and the value (or the nearest subcommand or flag) before any data
// is read, and leaves no --out behind (see crashtest.BadFlags); good flags
// on missing data are a failed run: exit 1, no --out left either.
func TestBadFlagsExit(t *testing.T) {
	train := crashtest.TrainArgs
	crashtest.BadFlags(t, []crashtest.BadFlag{
		{Args: nil, Code: 2, Want: "no subcommand: say which (train, plots, export)"},
		{Args: []string{"trian"}, Code: 2, Want: `unknown subcommand "trian" (did you mean train?)`},
		{Args: []string{"--epochs", "1"}, Code: 2, Want: "'vgg-mnist train --epochs 1'"},
		{Args: train("--epoch", "1"), Code: 2, Want: "unknown flag --epoch (did you mean --epochs?)"},
		{Args: train("--lr", "-0.01"), Code: 2, Want: "--lr must be > 0 (got -0.01)"},
		{Args: train("--epochs", "0"), Code: 2, Want: "--epochs must be >= 1 (got 0)"},
		{Args: train("--epochs", "many"), Code: 2, Want: `invalid argument "many" for "--epochs"`},
		{Args: train("--schedule", "cosin"), Code: 2, Want: `--schedule must be one of cosine, constant (got "cosin")`},
		{Args: train("--data-fraction", "1.5"), Code: 2, Want: "--data-fraction must be in (0, 1] (got 1.5)"},
		{Args: train("--subset", "2"), Code: 2, Want: "--data-fraction must be in (0, 1] (got 2)"}, // the old spelling
		{Args: train("--augment-shift", "9"), Code: 2, Want: "--augment-shift must be 0 to 4 pixels"},
		{Args: train("--threads", "-1"), Code: 2, Want: "--threads must be >= 0"},
		{Args: train("--resume", "--overwrite"), Code: 2, Want: "--overwrite replaces it: give one"},
		{Args: train("stray"), Code: 2, Want: `unexpected argument "stray"`},
		{Args: []string{"plots", "--out", "$OUT", "--outt", "x"}, Code: 2, Want: "did you mean --out?"},
		{Args: train(), Code: 1, Want: "no-data"},
	})
}

// TestSecondTrainKeepsTheFirstRun: a second train into a folder that holds
// a run exits 2 naming the folder, --resume and --overwrite, and leaves
// every file of the first run byte for byte; with --overwrite it trains
// afresh (its metrics.csv starts again at step 1).
func TestSecondTrainKeepsTheFirstRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	args := []string{"train", "--out", out, "--threads", "1", "--data-fraction", fmt.Sprint(40.0 / 60000), "--test-data-fraction", "0.01",
		"--train-eval-size", "16", "--batch-size", "8", "--epochs", "1", "--hidden", "64"}
	if _, stderr, code := crashtest.Exec(t, args...); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}
	before := tree(t, out)
	for _, want := range []string{"metrics.csv", "summary.json", "checkpoint/checkpoint.json", "best/best.json"} {
		if _, ok := before[want]; !ok {
			t.Fatalf("the first run left no %s: %v", want, before)
		}
	}
	_, stderr, code := crashtest.Exec(t, append(args, "--epochs", "2")...)
	if code != 2 || !strings.Contains(stderr, out+" already holds a run") || !strings.Contains(stderr, "--resume") || !strings.Contains(stderr, "--overwrite") {
		t.Errorf("second run: exit %d, stderr:\n%s\nwant exit 2 naming %s, --resume and --overwrite", code, stderr, out)
	}
	after := tree(t, out)
	if len(after) != len(before) {
		t.Errorf("files after the second run %d, before %d", len(after), len(before))
	}
	for name, b := range before {
		if !bytes.Equal(after[name], b) {
			t.Errorf("%s changed", name)
		}
	}

	if _, stderr, code := crashtest.Exec(t, append(args, "--overwrite", "--max-steps", "1")...); code != 0 {
		t.Fatalf("--overwrite: exit %d\n%s", code, stderr)
	}
	if got := metricSteps(t, out); got != "1 1 1" {
		t.Errorf("after --overwrite --max-steps 1, metrics.csv rows at steps %s, want the new run's evaluation at its stop only (1 1 1)", got)
	}
}

// metricSteps is the step column of out/metrics.csv, space-separated.
func metricSteps(t *testing.T, out string) string {
	t.Helper()
	tab, err := metrics.Read(filepath.Join(out, "metrics.csv"))
	if err != nil {
		t.Fatal(err)
	}
	steps, err := tab.Column("step")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(steps, " ")
}

// tree is every file under dir (by its path under dir) and its bytes.
func tree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)], err = os.ReadFile(path)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
