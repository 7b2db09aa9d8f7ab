package main

import (
	"errors"
	"fmt"

	"torchlab/datasets"
	"torchlab/internal/cli"
	"torchlab/internal/galaxy"
	"torchlab/internal/runrec"
	"torchlab/models/vae"
)

// Config is the train subcommand's configuration; the checkpoint stores it.
type Config struct {
	cli.Common
	Arch      string  `json:"arch"`
	Epochs    int     `json:"epochs"`
	BatchSize int     `json:"batch_size"`
	LR        float64 `json:"lr"`
	ZDim      int64   `json:"z_dim"`
	Beta      float64 `json:"beta"`
	ImageSize int     `json:"image_size"`
	Crop      int     `json:"crop"`
	EvalEvery int     `json:"eval_every"`
	// TrainEvalEvery evaluates the whole training split in eval mode every
	// this many epochs (0: never); the "train" rows are a running mean of
	// training-mode batch losses, which lags and differs from it.
	TrainEvalEvery int     `json:"train_eval_every"`
	SaveEvery      int     `json:"save_every"`
	Class          string  `json:"class"`
	TestFraction   float64 `json:"test_fraction"`
	ValFraction    float64 `json:"val_fraction"` // of the training galaxies, stratified by class
	SkipBad        bool    `json:"skip_bad"`
	CacheDir       string  `json:"cache_dir"`
	Limit          int     `json:"limit"`
	Workers        int     `json:"workers"`
	Conditional    bool    `json:"conditional"`
	KLWarmup       int     `json:"kl_warmup"`
	FreeBits       float64 `json:"free_bits"`
	// ChannelsLast trains with the 4-D weights laid out channels-last
	// (fused.SetChannelsLast), so oneDNN's convolutions run in NHWC; the
	// values are the same, so a run may switch it when resumed.
	ChannelsLast bool `json:"channels_last,omitempty"`
	// Likelihood is the decoder's p(x|z) (vae.Likelihood; "" in old runs:
	// bernoulli).
	Likelihood   string  `json:"likelihood,omitempty"`
	ClipGradNorm float64 `json:"clip_grad_norm,omitempty"` // max 2-norm of the gradients (0: no clipping)
	// Patience stops the run when the validation -ELBO has not improved for
	// this many epochs (0: never).
	Patience int `json:"patience,omitempty"`
	// SpatialZ and IAFSteps are resnet-iaf's: channels of its spatial
	// latent group and flow steps per group (other archs ignore them).
	SpatialZ int64 `json:"spatial_z,omitempty"`
	IAFSteps int64 `json:"iaf_steps,omitempty"`

	// afterStep, when set (tests), is called after every optimiser step.
	afterStep func(step int64, loss float64)
	// lossSeen, when set (tests), replaces the loss the divergence guard
	// sees at a step: a way to inject a diverged step.
	lossSeen func(step int, loss float64) float64
}

// likelihoodNames are --likelihood's values.
func likelihoodNames() []string {
	out := make([]string, len(vae.Likelihoods))
	for i, l := range vae.Likelihoods {
		out[i] = string(l)
	}
	return out
}

// Check returns a UsageError for each flag whose value is wrong.
func (c Config) Check() error {
	if err := errors.Join(
		cli.OneOf("arch", c.Arch, vae.Archs...),
		cli.Need("image-size", c.ImageSize, c.ImageSize > 0 && (c.Arch == "mlp" || c.ImageSize%32 == 0), "a positive multiple of 32 for --arch conv, resnet and resnet-iaf"),
		cli.Need("crop", c.Crop, c.Crop > 0, "> 0"),
		cli.Need("z-dim", c.ZDim, c.ZDim >= 1, ">= 1"),
		cli.Need("epochs", c.Epochs, c.Epochs >= 1, ">= 1"),
		cli.Need("batch-size", c.BatchSize, c.BatchSize >= 2, ">= 2"),
		cli.Need("lr", c.LR, c.LR > 0, "> 0"),
		cli.Need("beta", c.Beta, c.Beta >= 0, ">= 0"),
		cli.Need("eval-every", c.EvalEvery, c.EvalEvery >= 0, ">= 0"),
		cli.Need("train-eval-every", c.TrainEvalEvery, c.TrainEvalEvery >= 0, ">= 0"),
		cli.Need("save-every", c.SaveEvery, c.SaveEvery >= 1, ">= 1"),
		cli.Need("kl-warmup", c.KLWarmup, c.KLWarmup >= 0, ">= 0"),
		cli.Need("free-bits", c.FreeBits, c.FreeBits >= 0, ">= 0"),
		cli.Need("data-size", c.Limit, c.Limit >= 0, ">= 0"),
		cli.Need("workers", c.Workers, c.Workers >= 1, ">= 1"),
		cli.Need("test-fraction", c.TestFraction, c.TestFraction > 0 && c.TestFraction < 1, "in (0, 1)"),
		cli.Need("val-fraction", c.ValFraction, c.ValFraction >= 0 && c.ValFraction < 1, "in [0, 1)"),
		cli.OneOf("likelihood", c.Likelihood, likelihoodNames()...),
		cli.Need("clip-grad-norm", c.ClipGradNorm, c.ClipGradNorm >= 0, ">= 0 (0: no clipping)"),
		cli.Need("patience", c.Patience, c.Patience >= 0, ">= 0"),
		cli.Need("spatial-z", c.SpatialZ, c.Arch != "resnet-iaf" || c.SpatialZ >= 1, ">= 1 for --arch resnet-iaf"),
		cli.Need("iaf-steps", c.IAFSteps, c.Arch != "resnet-iaf" || c.IAFSteps >= 1, ">= 1 for --arch resnet-iaf"),
		cli.Need("patience", c.Patience, c.Patience == 0 || c.ValFraction > 0, "0 without a validation split (--val-fraction 0)"),
	); err != nil {
		return err
	}
	if _, err := datasets.ParseClass(c.Class); err != nil {
		return &cli.UsageError{Err: fmt.Errorf("--class: %w", err)}
	}
	if err := c.modelConfig().WithDefaults().Check(); err != nil {
		return &cli.UsageError{Err: err}
	}
	return nil
}

// dataOptions is how training and redrawing load the galaxies: the same
// settings give the same split and the same cached tensors.
func (c Config) dataOptions() galaxy.Options {
	return galaxy.Options{DataDir: c.DataDir, CacheDir: c.CacheDir, Crop: c.Crop, Size: c.ImageSize,
		Workers: c.Workers, SkipBad: c.SkipBad, Limit: c.Limit, TestFraction: c.TestFraction, ValFraction: c.ValFraction, Seed: c.DataSeed(),
		Conditional: c.Conditional}
}

// modelConfig is the model part of the run's configuration.
func (c Config) modelConfig() vae.Config {
	m := vae.Config{Arch: c.Arch, ZDim: c.ZDim, ImageSize: int64(c.ImageSize), Conditional: c.Conditional,
		NumClasses: datasets.NumClasses, Likelihood: vae.Likelihood(c.Likelihood)}
	if c.Arch == "resnet-iaf" {
		m.SpatialZ, m.IAFSteps = c.SpatialZ, c.IAFSteps
	}
	return m
}

// metricsHeader is metrics.csv's header: one row per evaluation and split;
// loss = recon + beta*kl (train: averaged over the steps since the last row,
// with the beta of each step), seconds = training time so far.
var metricsHeader = []string{runrec.ColEpoch, runrec.ColStep, runrec.ColSplit, runrec.ColLoss, runrec.ColRecon, runrec.ColKL, runrec.ColBeta, runrec.ColSeconds}

// split says what a run of c trains, validates and tests on (d).
func (c Config) split(d *galaxy.Data) *runrec.Split {
	return &runrec.Split{Train: d.NTrain, Val: d.NVal, Test: d.NTest, Unit: "galaxies",
		ValFraction: c.ValFraction, ValSeed: galaxy.ValSeed(c.DataSeed()), SplitSeed: c.DataSeed(), StratifiedBy: "class",
		TrainEval: "running mean of batch losses"}
}
