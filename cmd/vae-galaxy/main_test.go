package main

import (
	"context"
	"errors"
	"io"
	"log"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"

	"torchlab/internal/cli"
	"torchlab/internal/crashtest"
	"torchlab/internal/galaxy"
	"torchlab/internal/galaxy/galaxytest"
	"torchlab/internal/metrics"
	"torchlab/internal/runrec"
	"torchlab/internal/train"
	"torchlab/internal/vaeplots"
	"torchlab/models/vae"
	"torchlab/torch/checkpoint"
	"torchlab/torch/tensors"
	"torchlab/torch/torchrt"
)

func testConfig(t *testing.T, data, out string, extra ...string) Config {
	t.Helper()
	args := append([]string{"--data-dir", data, "--out", out, "--cache-dir", filepath.Join(data, "cache"),
		"--crop", "32", "--image-size", "32", "--batch-size", "8", "--epochs", "3", "--z-dim", "4",
		"--test-fraction", "0.25", "--threads", "1", "--lr", "2e-3", "--save-every", "1"}, extra...)
	cfg, err := parseTrain(args, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func rows(t *testing.T, out, split string) (step, recon []float64) {
	t.Helper()
	tab, err := metrics.Read(filepath.Join(out, "metrics.csv"))
	if err != nil {
		t.Fatal(err)
	}
	step, recon, err = tab.Series("step", "recon", "split", split)
	if err != nil {
		t.Fatal(err)
	}
	return step, recon
}

// TestTrainResumePlots trains a conv VAE for three epochs on a tiny fake
// Galaxy Zoo; the loss must fall and every figure appear. The same run
// interrupted in the middle of epoch 2 and resumed must end with the same
// numbers, and the plots subcommand must redraw the figures.
func TestTrainResumePlots(t *testing.T) {
	torchrt.Lock()
	data := galaxytest.FakeZoo(t, 40)
	full := filepath.Join(t.TempDir(), "conv")
	if err := runTrain(context.Background(), testConfig(t, data, full), log.Default()); err != nil {
		t.Fatal(err)
	}
	steps, trainRecon := rows(t, full, "train")
	_, test := rows(t, full, "test")
	if len(trainRecon) != 3 || len(test) != 3 || steps[2] != 12 {
		t.Fatalf("want 3 train and 3 test rows up to step 12 (27 images, batch 8), have steps %v, %d test rows", steps, len(test))
	}
	t.Logf("train recon %v, test recon %v", trainRecon, test)
	if !(trainRecon[2] < 0.9*trainRecon[0]) {
		t.Errorf("train recon did not fall: %v", trainRecon)
	}
	for _, f := range []string{runrec.FigReconCurve, runrec.FigReconstruction, runrec.FigLatentPCA, runrec.FigLatentTSNE, runrec.FigLatentLDA, vaeplots.LatentTable, runrec.FigClassSamples, runrec.FigClassSamplesAll, runrec.FigWeightsFilters, runrec.FigWeightsMatrix, "summary.json", "checkpoint/checkpoint.npz"} {
		if _, err := os.Stat(filepath.Join(full, f)); err != nil {
			t.Errorf("missing output: %v", err)
		}
	}

	var summary runrec.Summary
	if err := metrics.ReadJSON(filepath.Join(full, "summary.json"), &summary); err != nil {
		t.Fatal(err)
	}
	// 30 training galaxies, 10 % of them (3) held out for validation.
	if r := summary.Results; r["train_images"] != 27 || r["val_images"] != 3 || r["test_images"] != 10 {
		t.Errorf("summary.json split: %v train, %v validation, %v test images; want 27, 3 and 10", r["train_images"], r["val_images"], r["test_images"])
	}
	if r := summary.Results; !(r[runrec.GradNormMedian] > 0 && r[runrec.GradNormMedian] <= r[runrec.GradNormP99] && r[runrec.GradNormP99] <= r[runrec.GradNormMax]) {
		t.Errorf("summary.json gradient norms: median %v, p99 %v, max %v; want 0 < median <= p99 <= max",
			r[runrec.GradNormMedian], r[runrec.GradNormP99], r[runrec.GradNormMax])
	}
	if sp := summary.Split; sp == nil || sp.Train != 27 || sp.Val != 3 || sp.StratifiedBy != "class" {
		t.Errorf("summary.json split %+v", sp)
	}
	if b := summary.Best; b == nil || !b.Found || b.Metric != "val_neg_elbo" || !checkpoint.Exists(filepath.Join(full, "best")) {
		t.Errorf("summary.json best %+v; want a best validation -ELBO checkpoint in <out>/best", b)
	}

	// Interrupt at step 6 (mid epoch 2), then resume.
	part := filepath.Join(t.TempDir(), "conv")
	ctx, cancel := context.WithCancel(context.Background())
	cfg := testConfig(t, data, part)
	cfg.afterStep = func(step int64, _ float64) {
		if step == 6 {
			cancel()
		}
	}
	if err := runTrain(ctx, cfg, log.Default()); !errors.Is(err, cli.ErrInterrupted) {
		t.Fatalf("interrupted run returned %v, want cli.ErrInterrupted", err)
	}
	var stopped runrec.Summary
	if err := metrics.ReadJSON(filepath.Join(part, "summary.json"), &stopped); err != nil ||
		len(stopped.Notes) == 0 || !strings.Contains(stopped.Notes[0], "stopped at step 6") {
		t.Fatalf("interrupted run's summary: %+v, %v; want a note that it stopped at step 6", stopped.Notes, err)
	}
	if err := runTrain(context.Background(), testConfig(t, data, part, "--resume"), log.Default()); err != nil {
		t.Fatal(err)
	}
	// A resumed run's training time counts the sessions before it.
	var after runrec.Summary
	if err := metrics.ReadJSON(filepath.Join(part, "summary.json"), &after); err != nil {
		t.Fatal(err)
	}
	if after.Seconds <= stopped.Seconds || after.Seconds != after.Results["train_seconds"] {
		t.Errorf("resumed summary's seconds %v (results.train_seconds %v), interrupted one's %v: want the whole run's training time, more than the interrupted session's", after.Seconds, after.Results["train_seconds"], stopped.Seconds)
	}
	_, resumed := rows(t, part, "test")
	if len(resumed) != 3 {
		t.Fatalf("resumed run has %d test rows, want 3", len(resumed))
	}
	// The same validation split across the resume: the same val rows.
	_, valFull := rows(t, full, "val")
	_, valPart := rows(t, part, "val")
	if len(valFull) != 3 || len(valPart) != 3 {
		t.Fatalf("val rows: uninterrupted %d, resumed %d, want 3", len(valFull), len(valPart))
	}
	for i := range valFull {
		if math.Abs(valPart[i]-valFull[i]) > 1e-3*valFull[i] {
			t.Errorf("val recon row %d: resumed %.5f, uninterrupted %.5f", i, valPart[i], valFull[i])
		}
	}
	for i := range test {
		if math.Abs(resumed[i]-test[i]) > 1e-3*test[i] {
			t.Errorf("test recon row %d: resumed %.5f, uninterrupted %.5f", i, resumed[i], test[i])
		}
	}
	// The whole training split in eval mode: every 5 epochs (the default)
	// and at the end, so once in 3 epochs, the same after the resume.
	fullStep, fullRecon := rows(t, full, runrec.TrainFull)
	_, partRecon := rows(t, part, runrec.TrainFull)
	if len(fullStep) != 1 || fullStep[0] != 12 || len(partRecon) != 1 {
		t.Fatalf("train-full rows at steps %v (resumed run: %d rows), want one at step 12 in each", fullStep, len(partRecon))
	}
	t.Logf("train-full recon %.3f (resumed %.3f), summary.json's train recon %.3f", fullRecon[0], partRecon[0], summary.Results["train_recon"])
	if !(fullRecon[0] < trainRecon[0]) || math.Abs(partRecon[0]-fullRecon[0]) > 1e-3*fullRecon[0] {
		t.Errorf("train-full recon %.5f (resumed %.5f); want below the first epoch's running mean %.5f and the same after the resume",
			fullRecon[0], partRecon[0], trainRecon[0])
	}
	// finish reuses the last step's evaluations rather than running them again.
	if r := summary.Results["train_recon"]; r != fullRecon[0] {
		t.Errorf("train-full recon at the end %v, summary.json's whole-split train recon %v: want the same evaluation", fullRecon[0], r)
	}
	if _, valRecon := rows(t, full, "val"); summary.Results["val_recon"] != valRecon[len(valRecon)-1] {
		t.Errorf("summary.json's val recon %v, metrics.csv's last %v: want the same evaluation", summary.Results["val_recon"], valRecon[len(valRecon)-1])
	}
	if _, err := parseTrain([]string{"--data-dir", data, "--out", part, "--resume", "--z-dim", "8"}, io.Discard, io.Discard); err == nil ||
		!strings.Contains(err.Error(), "--z-dim 8") {
		t.Errorf("resume with another --z-dim: err = %v, want one naming --z-dim", err)
	}

	// Redraw from metrics.csv and the checkpoint.
	if err := os.Remove(filepath.Join(full, runrec.FigClassSamples)); err != nil {
		t.Fatal(err)
	}
	if err := dispatch(context.Background(), []string{"plots", "--out", full, "--data-dir", data, "--threads", "1", "--class", "edge-on"}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(full, runrec.FigClassSamples)); err != nil {
		t.Errorf("plots did not redraw the samples: %v", err)
	}
	cmp := t.TempDir()
	if err := dispatch(context.Background(), []string{"plots", "--compare", full, part, "--out", cmp}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(cmp, runrec.FigReconCompare)); err != nil {
		t.Errorf("no comparison figure: %v", err)
	}
	checkIWAE(t, full, data)
}

// checkIWAE scores the best model of the run in out with the iwae
// subcommand. The bound is the log of a mean of the same weights whose
// log's mean is the ELBO estimate, so it can only be the higher one
// (Jensen); the ELBO estimate from 200 samples per image must agree with
// the training's own evaluation (one sample and the closed-form KL per
// image), averaged over 50 draws: two estimates of one expectation. (A
// model trained this briefly has a wide posterior, so one draw per image
// varies by ~40 nats over 10 images.)
func checkIWAE(t *testing.T, out, data string) {
	t.Helper()
	run, err := loadRun(out, train.BestDir(out), data, "")
	if err != nil {
		t.Fatal(err)
	}
	negELBO := 0.0
	for range 50 {
		s, err := evaluate(run.model, run.data.TestX, run.data.TestCond, 1, 256, nil)
		if err != nil {
			t.Fatal(err)
		}
		negELBO += (s.recon + s.kl) / 50
	}
	run.data.Drop()
	args := []string{"iwae", "--out", out, "--data-dir", data, "--threads", "1", "--k", "200", "--subset-size", "4", "--subset-k", "600", "--chunk", "70"}
	if err := dispatch(context.Background(), args, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	var rep runrec.IWAE
	if err := metrics.ReadJSON(filepath.Join(out, "iwae.json"), &rep); err != nil {
		t.Fatal(err)
	}
	t.Logf("iwae.json: %+v, subset %+v; evaluation's -ELBO %.2f", rep.Test, rep.Subset, negELBO)
	if rep.Test.Images != 10 || rep.Test.K != 200 || rep.Subset == nil || rep.Subset.Images != 4 || rep.Subset.K != 600 || rep.Dims != 3*32*32 {
		t.Fatalf("iwae.json counts: %+v", rep)
	}
	if !(rep.Test.NLL <= rep.Test.ELBO) || !(rep.Test.NLL > 0) {
		t.Errorf("bound %.3f nats above the ELBO's %.3f, or not positive", rep.Test.NLL, rep.Test.ELBO)
	}
	if math.Abs(rep.Test.ELBO-negELBO) > 0.02*negELBO {
		t.Errorf("200-sample -ELBO %.2f, the evaluation's (mean of 50) %.2f", rep.Test.ELBO, negELBO)
	}
	if want := rep.Test.NLL / (3 * 32 * 32 * math.Ln2); math.Abs(rep.Test.NLLBits-want) > 1e-9 {
		t.Errorf("bits/dim %v, want %v", rep.Test.NLLBits, want)
	}
	// The per-image scores average to iwae.json's bound, and only the
	// subset's images have the subset-k column.
	tab, err := metrics.Read(filepath.Join(out, iwaeImagesFile))
	if err != nil {
		t.Fatal(err)
	}
	perImage, _, err := tab.Series("log_p_bound_k200", "elbo_k200", "", "")
	if err != nil {
		t.Fatal(err)
	}
	_, subsetCol, err := tab.Series("log_p_bound_k200", "log_p_bound_k600", "", "")
	if err != nil {
		t.Fatal(err)
	}
	mean := 0.0
	for _, v := range perImage {
		mean -= v / float64(len(perImage))
	}
	if len(perImage) != 10 || math.Abs(mean-rep.Test.NLL) > 1e-3 || len(subsetCol) != 4 {
		t.Errorf("%s: %d images with mean -bound %.4f (iwae.json %.4f), %d subset values; want 10, equal, 4",
			iwaeImagesFile, len(perImage), mean, rep.Test.NLL, len(subsetCol))
	}
	if _, err := parseIWAE([]string{"--out", out, "--from", "newest"}, io.Discard, io.Discard); err == nil {
		t.Error("iwae --from newest accepted")
	}
	// Two ranks share the batches of images out (the first rank takes one
	// of the 10 test images' 3 batches, the second two) and must write what
	// one process wrote: each batch draws from its own seed.
	crashtest.RunRanks(t, args, 2)
	var two runrec.IWAE
	if err := metrics.ReadJSON(filepath.Join(out, "iwae.json"), &two); err != nil {
		t.Fatal(err)
	}
	if rep.Ranks != 1 || two.Ranks != 2 || two.Test.Images != 10 || two.Subset == nil || two.Subset.Images != 4 {
		t.Fatalf("ranks %d and %d; two ranks' counts %+v", rep.Ranks, two.Ranks, two)
	}
	for _, c := range []struct {
		what     string
		one, two float64
	}{{"test bound", rep.Test.NLL, two.Test.NLL}, {"test ELBO", rep.Test.ELBO, two.Test.ELBO},
		{"subset bound", rep.Subset.NLL, two.Subset.NLL}, {"subset bound at k", rep.SubsetAt.NLL, two.SubsetAt.NLL}} {
		if math.Abs(c.one-c.two) > 1e-9*math.Abs(c.one) {
			t.Errorf("%s: one process %.9f, two ranks %.9f", c.what, c.one, c.two)
		}
	}
}

func TestConditionalTrains(t *testing.T) {
	torchrt.Lock()
	data := galaxytest.FakeZoo(t, 40)
	out := filepath.Join(t.TempDir(), "cvae")
	cfg := testConfig(t, data, out, "--arch", "mlp", "--conditional", "--epochs", "2", "--kl-warmup", "1", "--free-bits", "0.1")
	if err := runTrain(context.Background(), cfg, log.Default()); err != nil {
		t.Fatal(err)
	}
	_, train := rows(t, out, "train")
	if len(train) != 2 {
		t.Fatalf("want 2 train rows, have %d", len(train))
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--arch", "vgg"},
		{"--arch", "conv", "--image-size", "48"},
		{"--class", "elliptical"},
		{"--batch-size", "1"},
		{"stray"},
	} {
		if _, err := parseTrain(args, io.Discard, io.Discard); err == nil {
			t.Errorf("flags %q: want an error", args)
		}
	}
	cfg, err := parseTrain([]string{"--arch", "resnet"}, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Out != "out/vae-galaxy/resnet" {
		t.Errorf("default --out %q, want out/vae-galaxy/resnet", cfg.Out)
	}
}

func TestSchedules(t *testing.T) {
	if b := betaAt(0, 10, 1, 0); b != 1 {
		t.Errorf("no warm-up: beta %v, want 1", b)
	}
	if b := betaAt(9, 10, 2, 2); math.Abs(b-1) > 1e-12 {
		t.Errorf("half-way through a 2-epoch warm-up: beta %v, want 1 (half of 2)", b)
	}
	if b := betaAt(100, 10, 2, 2); b != 2 {
		t.Errorf("after warm-up: beta %v, want 2", b)
	}
	for _, c := range []struct{ n, batch, want int }{{30, 8, 4}, {33, 8, 4}, {32, 8, 4}, {34, 8, 5}, {5, 8, 1}} {
		if got := galaxy.StepsPerEpoch(c.n, c.batch); got != int64(c.want) {
			t.Errorf("galaxy.StepsPerEpoch(%d, %d) = %d, want %d", c.n, c.batch, got, c.want)
		}
	}
}

// TestWeightFiguresEveryArch draws the weight figures of a fresh model of
// each architecture: the tiles of one grid must share a size whatever the
// architecture's first layers are.
func TestWeightFiguresEveryArch(t *testing.T) {
	torchrt.Lock()
	for _, arch := range []string{"mlp", "conv", "resnet"} {
		vs := nn.NewVarStore(gotch.CPU)
		m, err := vae.New(vs.Root(), vae.Config{Arch: arch, ImageSize: 32, ZDim: 4}.WithDefaults())
		if err != nil {
			t.Fatal(err)
		}
		named, err := tensors.Named(vs)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if err := vaeplots.DrawWeights(dir, m, named); err != nil {
			t.Fatalf("%s: %v", arch, err)
		}
		for _, f := range []string{runrec.FigWeightsFilters, runrec.FigWeightsMatrix} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("%s: %v", arch, err)
			}
		}
	}
}

// TestSplitSeedKeepsTheSplit: --seed changes the initialisation but not the
// split; --split-seed changes the split; a configuration from before
// --split-seed (split_seed 0) splits by its --seed as it did.
func TestSplitSeedKeepsTheSplit(t *testing.T) {
	torchrt.Lock()
	data := galaxytest.FakeZoo(t, 40)
	testIDs := func(extra ...string) []int64 {
		cfg := testConfig(t, data, t.TempDir(), extra...)
		d, err := galaxy.Load(cfg.dataOptions(), log.Default())
		if err != nil {
			t.Fatal(err)
		}
		defer d.Drop()
		return d.TestIDs
	}
	base := testIDs("--seed", "1")
	if !slices.Equal(testIDs("--seed", "2"), base) {
		t.Error("--seed 2 changed the test split")
	}
	if slices.Equal(testIDs("--seed", "1", "--split-seed", "2"), base) {
		t.Error("--split-seed 2 kept the test split of --split-seed 1")
	}
	old := testConfig(t, data, t.TempDir(), "--seed", "2")
	old.SplitSeed = 0 // as read from an old checkpoint's config
	if old.DataSeed() != 2 {
		t.Errorf("an old configuration with --seed 2 splits with seed %d, want 2", old.DataSeed())
	}
}
