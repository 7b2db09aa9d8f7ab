package main

import (
	"context"
	"errors"
	"io"
	"log"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"torchlab/internal/cli"
	"torchlab/internal/galaxy/galaxytest"
	"torchlab/internal/runrec"
	"torchlab/torch/torchrt"
)

// TestResnetIAFTrainsResumesScores trains --arch resnet-iaf for three
// epochs with the discretised likelihood and free bits: the loss falls,
// summary.json has each group's KL (adding up to the KL), a run
// interrupted mid-epoch and resumed ends with the same test numbers, plots
// redraws what it can and says what it skips, and iwae scores the test
// images (checkIWAE: bound <= ELBO, the ELBO estimate agrees with the
// training's evaluation, two ranks write what one process writes).
func TestResnetIAFTrainsResumesScores(t *testing.T) {
	torchrt.Lock()
	data := galaxytest.FakeZoo(t, 40)
	flags := []string{"--arch", "resnet-iaf", "--likelihood", "logistic", "--free-bits", "0.01", "--spatial-z", "2"}
	full := filepath.Join(t.TempDir(), "iaf")
	if err := runTrain(context.Background(), testConfig(t, data, full, flags...), log.Default()); err != nil {
		t.Fatal(err)
	}
	_, trainRecon := rows(t, full, "train")
	_, test := rows(t, full, "test")
	t.Logf("train recon %v, test recon %v", trainRecon, test)
	if len(trainRecon) != 3 || !(trainRecon[2] < trainRecon[0]) {
		t.Errorf("train recon %v: want 3 rows, falling", trainRecon)
	}
	summary, err := runrec.Read(full)
	if err != nil {
		t.Fatal(err)
	}
	r := summary.Results
	z1, ok1 := r["test_kl_z1"]
	z2, ok2 := r["test_kl_z2"]
	if !ok1 || !ok2 || math.Abs(z1+z2-r["test_kl"]) > 1e-6*math.Abs(r["test_kl"])+1e-9 {
		t.Errorf("summary.json: test_kl_z1 %v (%v), test_kl_z2 %v (%v), test_kl %v: want both, adding up", z1, ok1, z2, ok2, r["test_kl"])
	}
	for _, f := range []string{runrec.FigReconCurve, runrec.FigReconstruction, runrec.FigWeightsFilters, runrec.FigWeightsMatrix, runrec.FigPriorSamples} {
		if _, err := os.Stat(filepath.Join(full, f)); err != nil {
			t.Errorf("missing output: %v", err)
		}
	}
	if len(summary.Notes) == 0 || !strings.Contains(strings.Join(summary.Notes, " "), "resnet-iaf: the latent figures") {
		t.Errorf("summary.json notes %q: want one saying which figures resnet-iaf skips", summary.Notes)
	}

	part := filepath.Join(t.TempDir(), "iaf")
	ctx, cancel := context.WithCancel(context.Background())
	cfg := testConfig(t, data, part, flags...)
	cfg.afterStep = func(step int64, _ float64) {
		if step == 6 {
			cancel()
		}
	}
	if err := runTrain(ctx, cfg, log.Default()); !errors.Is(err, cli.ErrInterrupted) {
		t.Fatalf("interrupted run returned %v, want cli.ErrInterrupted", err)
	}
	if err := runTrain(context.Background(), testConfig(t, data, part, append(flags, "--resume")...), log.Default()); err != nil {
		t.Fatal(err)
	}
	_, resumed := rows(t, part, "test")
	if len(resumed) != len(test) {
		t.Fatalf("resumed run has %d test rows, want %d", len(resumed), len(test))
	}
	for i := range test {
		if math.Abs(resumed[i]-test[i]) > 1e-3*math.Abs(test[i]) {
			t.Errorf("test recon row %d: resumed %.5f, uninterrupted %.5f", i, resumed[i], test[i])
		}
	}
	if err := dispatch(context.Background(), []string{"plots", "--out", full, "--data-dir", data, "--threads", "1"}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	checkIWAE(t, full, data)
}

// TestConditionalResnetIAFTrains trains a conditional resnet-iaf (class
// into the encoder's head and FiLM on every decoder stage) for two epochs:
// it trains, draws the per-class prior samples and scores them: the share
// the judge (here the 5-NN) assigns to their class, overall and per class.
func TestConditionalResnetIAFTrains(t *testing.T) {
	torchrt.Lock()
	data := galaxytest.FakeZoo(t, 40)
	out := filepath.Join(t.TempDir(), "ciaf")
	cfg := testConfig(t, data, out, "--arch", "resnet-iaf", "--conditional", "--epochs", "2", "--iaf-steps", "1")
	if err := runTrain(context.Background(), cfg, log.Default()); err != nil {
		t.Fatal(err)
	}
	if _, tr := rows(t, out, "train"); len(tr) != 2 {
		t.Fatalf("want 2 train rows, have %d", len(tr))
	}
	if _, err := os.Stat(filepath.Join(out, runrec.FigPriorSamples)); err != nil {
		t.Errorf("no per-class prior samples: %v", err)
	}
	summary, err := runrec.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	key := runrec.SampleAgreement(runrec.JudgeKNN, runrec.GenPrior)
	all, ok := summary.Results[key]
	perClass := 0
	for k := range summary.Results {
		if strings.HasPrefix(k, key+"_") {
			perClass++
		}
	}
	if !ok || !(all >= 0 && all <= 1) || perClass < 2 {
		t.Errorf("summary.json %s = %v (%v), %d per-class keys: want a share in [0, 1] and one per class", key, all, ok, perClass)
	}
}
