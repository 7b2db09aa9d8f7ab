package main

import (
	"fmt"

	"torchlab/datasets"
	"torchlab/internal/cli"
	"torchlab/internal/train"
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
	Likelihood string `json:"likelihood,omitempty"`
	// SplitSeed draws the train/validation/test split; Seed the
	// initialisation, the batch order and the noise. 0 (runs from before
	// --split-seed) means Seed drew both.
	SplitSeed    int64   `json:"split_seed,omitempty"`
	ClipGradNorm float64 `json:"clip_grad_norm,omitempty"` // max 2-norm of the gradients (0: no clipping)
	// Patience stops the run when the validation -ELBO has not improved for
	// this many epochs (0: never).
	Patience int `json:"patience,omitempty"`
	train.GuardConfig

	// afterStep, when set (tests), is called after every optimiser step.
	afterStep func(step int64, loss float64)
	// lossSeen, when set (tests), replaces the loss the divergence guard
	// sees at a step: a way to inject a diverged step.
	lossSeen func(step int, loss float64) float64
}

// splitSeed is the seed of the run's data split.
func (c Config) splitSeed() int64 {
	if c.SplitSeed == 0 {
		return c.Seed
	}
	return c.SplitSeed
}

func (c Config) check() error {
	if c.SplitSeed < 0 {
		return fmt.Errorf("--split-seed must be >= 1 (got %d)", c.SplitSeed)
	}
	if !(c.ClipGradNorm >= 0) {
		return fmt.Errorf("--clip-grad-norm must be >= 0 (got %v)", c.ClipGradNorm)
	}
	if c.Patience < 0 {
		return fmt.Errorf("--patience must be >= 0 (got %d)", c.Patience)
	}
	if c.Patience > 0 && c.ValFraction == 0 {
		return fmt.Errorf("--patience %d needs a validation split (--val-fraction > 0)", c.Patience)
	}
	if err := c.GuardConfig.Check(); err != nil {
		return err
	}
	if c.Epochs < 1 || c.BatchSize < 2 || !(c.LR > 0) || !(c.Beta >= 0) || c.EvalEvery < 0 || c.TrainEvalEvery < 0 || c.SaveEvery < 1 ||
		c.KLWarmup < 0 || c.FreeBits < 0 || c.Limit < 0 || !(c.ValFraction >= 0 && c.ValFraction < 1) {
		return fmt.Errorf("invalid flags: need epochs >= 1, batch size >= 2, lr > 0, beta >= 0, save-every >= 1 and non-negative eval-every, train-eval-every, kl-warmup, free-bits, limit, val-fraction in [0, 1) (have %+v)", c)
	}
	if _, err := datasets.ParseClass(c.Class); err != nil {
		return err
	}
	return c.modelConfig().WithDefaults().Check()
}

// dataOptions is how training and redrawing load the galaxies: the same
// settings give the same split and the same cached tensors.
func (c Config) dataOptions() dataOptions {
	return dataOptions{DataDir: c.DataDir, CacheDir: c.CacheDir, Crop: c.Crop, Size: c.ImageSize,
		Workers: c.Workers, SkipBad: c.SkipBad, Limit: c.Limit, TestFraction: c.TestFraction, ValFraction: c.ValFraction, Seed: c.splitSeed(),
		Conditional: c.Conditional}
}

// modelConfig is the model part of the run's configuration.
func (c Config) modelConfig() vae.Config {
	return vae.Config{Arch: c.Arch, ZDim: c.ZDim, ImageSize: int64(c.ImageSize), Conditional: c.Conditional,
		NumClasses: datasets.NumClasses, Likelihood: vae.Likelihood(c.Likelihood)}
}

// metricsHeader is metrics.csv's header: one row per evaluation and split;
// loss = recon + beta*kl (train: averaged over the steps since the last row,
// with the beta of each step), seconds = training time so far.
var metricsHeader = []string{"epoch", "step", "split", "loss", "recon", "kl", "beta", "seconds"}
