package main

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"torchlab/internal/crashtest"
)

// TestBadFlagsExit: lstm-tweets' usage errors (train and predict) exit 2
// with the flag and its value named, checked before the data is looked
// for (crashtest.BadFlags); a missing model or missing data exit 1.
func TestBadFlagsExit(t *testing.T) {
	train := crashtest.TrainArgs
	crashtest.BadFlags(t, []crashtest.BadFlag{
		{Args: nil, Code: 2, Want: "no subcommand: say which (train, predict, plots, export)"},
		{Args: []string{"predcit"}, Code: 2, Want: `unknown subcommand "predcit" (did you mean predict?)`},
		{Args: train("--iteration", "5"), Code: 2, Want: "unknown flag --iteration (did you mean --iterations?)"},
		{Args: train("--lr", "-0.001"), Code: 2, Want: "--lr must be > 0 (got -0.001)"},
		{Args: train("--batch-size", "0"), Code: 2, Want: "--batch-size must be >= 1 (got 0)"},
		{Args: train("--optimizer", "rmsprop"), Code: 2, Want: `--optimizer must be one of adam, sgd (got "rmsprop")`},
		{Args: train("--val-fraction", "1"), Code: 2, Want: "--val-fraction must be in [0, 1) (got 1)"},
		{Args: train("--eval-every", "0"), Code: 2, Want: "--eval-every must be >= 1 (got 0)"},
		{Args: train("--schedule", "linear"), Code: 2, Want: `--schedule must be one of`},
		{Args: train("--blas-threads", "-2"), Code: 2, Want: "--blas-threads must be >= 0"},
		{Args: train("--model", "gru"), Code: 2, Want: `--model must be one of lstm, ngram (got "gru")`},
		{Args: train("--model", "ngram", "--fused-lstm"), Code: 2, Want: "--model must be lstm with --dropout or --fused-lstm"},
		{Args: []string{"predict", "--out", "$OUT", "--fil", "x"}, Code: 2, Want: "did you mean --file?"},
		{Args: []string{"predict", "--out", "$OUT", "--file", "x", "more text"}, Code: 2, Want: "not both"},
		{Args: []string{"predict", "--out", "$OUT", "text"}, Code: 1, Want: "no model in "},
		{Args: train(), Code: 1, Want: "no-data"},
	})
}

// TestOldSpellings: the flags renamed to the shared vocabulary still take
// their old spelling, set the same value, and say the new one in one line.
func TestOldSpellings(t *testing.T) {
	var stderr bytes.Buffer
	cfg, err := parseTrain([]string{"--eval-batch", "7", "--train-sample", "9"}, io.Discard, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.EvalBatch != 7 || cfg.TrainSample != 9 {
		t.Errorf("--eval-batch 7 --train-sample 9 set %d and %d", cfg.EvalBatch, cfg.TrainSample)
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "--eval-batch has been deprecated, use --eval-batch-size") ||
		!strings.Contains(lines[1], "--train-sample has been deprecated, use --train-eval-size") {
		t.Errorf("stderr %q, want one line per old spelling naming the new one", stderr.String())
	}
	var help bytes.Buffer
	if _, err := parseTrain([]string{"--help"}, &help, io.Discard); !errors.Is(err, pflag.ErrHelp) || strings.Contains(help.String(), "--eval-batch ") {
		t.Errorf("--help (%v) lists the old spelling:\n%s", err, help.String())
	}
}
