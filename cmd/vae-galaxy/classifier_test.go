package main

import (
	"context"
	"io"
	"log"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"torchlab/internal/galaxy"
	"torchlab/internal/galaxy/galaxytest"
	"torchlab/internal/metrics"
	"torchlab/internal/runrec"
	"torchlab/internal/train"
	"torchlab/torch/checkpoint"
	"torchlab/torch/torchrt"
)

// TestClassifierTrainsAndJudges trains the galaxy classifier on the fake
// Galaxy Zoo, whose five classes are blobs of different shapes, expects it
// well above chance (0.2) on the test galaxies, then lets it judge a VAE's
// samples through plots --judge.
func TestClassifierTrainsAndJudges(t *testing.T) {
	torchrt.Lock()
	data := galaxytest.FakeZoo(t, 40)
	out := filepath.Join(t.TempDir(), "classifier")
	trainClassifier(t, data, out, 12, 32)
	var summary runrec.Summary
	if err := metrics.ReadJSON(filepath.Join(out, "summary.json"), &summary); err != nil {
		t.Fatal(err)
	}
	acc := summary.Results["test_accuracy"]
	t.Logf("test accuracy %.3f (best validation step %d)", acc, summary.Best.Step)
	if !(acc >= 0.5) {
		t.Errorf("classifier test accuracy %.3f on blobs of five shapes; want >= 0.5 (chance 0.2)", acc)
	}
	if !checkpoint.Exists(train.BestDir(out)) || summary.Best == nil || summary.Best.Metric != "val_accuracy" {
		t.Errorf("no best validation checkpoint: %+v", summary.Best)
	}

	vaeOut := filepath.Join(t.TempDir(), "conv")
	if err := runTrain(context.Background(), testConfig(t, data, vaeOut, "--epochs", "1"), log.Default()); err != nil {
		t.Fatal(err)
	}
	if err := dispatch(context.Background(), []string{"plots", "--out", vaeOut, "--data-dir", data, "--threads", "1", "--judge", out}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	type judgedFile struct {
		Results map[string]float64 `json:"results"`
		Notes   []string           `json:"notes"`
	}
	var judged judgedFile
	if err := metrics.ReadJSON(filepath.Join(vaeOut, "samples.json"), &judged); err != nil {
		t.Fatal(err)
	}
	if got := judged.Results["judge_test_accuracy"]; math.Abs(got-acc) > 1e-9 || !strings.Contains(strings.Join(judged.Notes, "\n"), "accuracy on real test images") {
		t.Errorf("the judge's accuracy on the test images %.3f, the classifier's summary says %.3f (notes %q)", got, acc, judged.Notes)
	}
	if a, ok := judged.Results["samples_judge_agreement_latent_region"]; !ok || a < 0 || a > 1 {
		t.Errorf("samples.json has no judged sample agreement in [0, 1]: %v", judged.Results)
	}
	// A VAE of another split seed has another test split, part of the
	// classifier's training split: the judge reports its own test
	// accuracy, saying so.
	seed2 := filepath.Join(t.TempDir(), "conv")
	if err := runTrain(context.Background(), testConfig(t, data, seed2, "--epochs", "1", "--seed", "2", "--split-seed", "2"), log.Default()); err != nil {
		t.Fatal(err)
	}
	if err := dispatch(context.Background(), []string{"plots", "--out", seed2, "--data-dir", data, "--threads", "1", "--judge", out}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	var judged2 judgedFile
	if err := metrics.ReadJSON(filepath.Join(seed2, "samples.json"), &judged2); err != nil {
		t.Fatal(err)
	}
	if got := judged2.Results["judge_test_accuracy"]; got != acc || !strings.Contains(strings.Join(judged2.Notes, "\n"), "its own test images (seed 1") {
		t.Errorf("seed 2's judge accuracy %v with notes %q; want the classifier's own %v, saying so", got, judged2.Notes, acc)
	}

	// A classifier of another image size is refused, naming both sizes.
	other := filepath.Join(t.TempDir(), "classifier64")
	trainClassifier(t, data, other, 1, 64)
	err := dispatch(context.Background(), []string{"plots", "--out", vaeOut, "--data-dir", data, "--threads", "1", "--judge", other}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "64x64") || !strings.Contains(err.Error(), "32x32") {
		t.Errorf("judge of 64x64 images for a 32x32 VAE: err = %v", err)
	}
}

// trainClassifier trains the galaxy classifier on the fake Galaxy Zoo in
// data into out, as galaxy-classifier train does.
func trainClassifier(t *testing.T, data, out string, epochs, size int) {
	t.Helper()
	cfg := galaxy.ClassifierConfig{Epochs: epochs, BatchSize: 8, LR: 2e-3, ImageSize: size, Crop: 32, TestFraction: 0.25,
		ValFraction: 0.1, CacheDir: filepath.Join(data, "cache"), Workers: 2}
	cfg.DataDir, cfg.Out, cfg.Threads, cfg.BLASThreads, cfg.Seed = data, out, 1, 1, 1
	cfg.OnDivergence, cfg.Factor = train.OnDivergenceStop, 100
	if err := galaxy.TrainClassifier(context.Background(), cfg, log.Default()); err != nil {
		t.Fatal(err)
	}
}
