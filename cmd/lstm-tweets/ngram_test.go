package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"torchlab/internal/cli"
	"torchlab/internal/metrics"
	"torchlab/internal/runrec"
	"torchlab/torch/torchrt"
)

// TestNGramBaselineTrains trains the n-gram baseline (--model ngram) with
// the same loop on the emoticon tweets: its mean loss falls, summary.json
// names the model and its shape, the best validation model is kept, and
// predict refuses the run (it takes the LSTM's).
func TestNGramBaselineTrains(t *testing.T) {
	torchrt.Lock()
	_, args := fixture(t)
	out := t.TempDir()
	cfg, err := parseTrain(append([]string{"--out", out, "--model", "ngram", "--iterations", "60", "--eval-every", "20"}, args...), os.Stdout, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	var losses []float64
	cfg.afterStep = func(_ int, loss float64) { losses = append(losses, loss) }
	if err := runTrain(context.Background(), cfg, cli.Logger(os.Stderr)); err != nil {
		t.Fatal(err)
	}
	first, last := mean(losses[:10]), mean(losses[50:])
	t.Logf("mean loss of steps 1-10 %.4f, of steps 51-60 %.4f", first, last)
	if !(last < first-0.1) {
		t.Errorf("loss did not fall by 0.1: %.4f -> %.4f", first, last)
	}
	var sum runrec.Summary
	if err := metrics.ReadJSON(filepath.Join(out, "summary.json"), &sum); err != nil {
		t.Fatal(err)
	}
	conf, _ := sum.Config.(map[string]any)
	ngram, _ := conf["ngram"].(map[string]any)
	if conf["arch"] != "ngram" || ngram["buckets"] != float64(1<<18) || sum.Best == nil || !sum.Best.Found {
		t.Errorf("summary config arch %v, ngram %v, best %+v; want ngram with 2^18 buckets and a best step", conf["arch"], ngram, sum.Best)
	}
	if _, _, _, err := loadModel(filepath.Join(out, "best")); err == nil {
		t.Error("predict's loadModel took an n-gram run")
	}
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
