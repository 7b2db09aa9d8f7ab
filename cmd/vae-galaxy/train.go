package main

import (
	"context"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/datasets"
	"torchlab/internal/cli"
	"torchlab/internal/metrics"
	"torchlab/internal/progress"
	"torchlab/internal/train"
	"torchlab/models/vae"
	"torchlab/torch/checkpoint"
	"torchlab/torch/optim"
	"torchlab/torch/tensors"
	"torchlab/torch/torchrt"
)

// Config is the train subcommand's configuration; the checkpoint stores it.
type Config struct {
	cli.Common
	Arch         string  `json:"arch"`
	Epochs       int     `json:"epochs"`
	BatchSize    int     `json:"batch_size"`
	LR           float64 `json:"lr"`
	ZDim         int64   `json:"z_dim"`
	Beta         float64 `json:"beta"`
	ImageSize    int     `json:"image_size"`
	Crop         int     `json:"crop"`
	EvalEvery    int     `json:"eval_every"`
	SaveEvery    int     `json:"save_every"`
	Class        string  `json:"class"`
	TestFraction float64 `json:"test_fraction"`
	SkipBad      bool    `json:"skip_bad"`
	CacheDir     string  `json:"cache_dir"`
	Limit        int     `json:"limit"`
	Workers      int     `json:"workers"`
	Conditional  bool    `json:"conditional"`
	KLWarmup     int     `json:"kl_warmup"`
	FreeBits     float64 `json:"free_bits"`

	// afterStep, when set (tests), is called after every optimiser step.
	afterStep func(step int64, loss float64)
}

func (c Config) check() error {
	if c.Epochs < 1 || c.BatchSize < 2 || !(c.LR > 0) || !(c.Beta >= 0) || c.EvalEvery < 0 || c.SaveEvery < 1 ||
		c.KLWarmup < 0 || c.FreeBits < 0 || c.Limit < 0 {
		return fmt.Errorf("invalid flags: need epochs >= 1, batch size >= 2, lr > 0, beta >= 0, save-every >= 1 and non-negative eval-every, kl-warmup, free-bits, limit (have %+v)", c)
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
		Workers: c.Workers, SkipBad: c.SkipBad, Limit: c.Limit, TestFraction: c.TestFraction, Seed: c.Seed,
		Conditional: c.Conditional}
}

// modelConfig is the model part of the run's configuration.
func (c Config) modelConfig() vae.Config {
	return vae.Config{Arch: c.Arch, ZDim: c.ZDim, ImageSize: int64(c.ImageSize), Conditional: c.Conditional,
		NumClasses: datasets.NumClasses}
}

// metricsHeader is metrics.csv's header: one row per evaluation and split;
// loss = recon + beta*kl (train: averaged over the steps since the last row,
// with the beta of each step), seconds = training time so far.
var metricsHeader = []string{"epoch", "step", "split", "loss", "recon", "kl", "beta", "seconds"}

// trainer holds the state of one training run; it is the loop's
// train.Task.
type trainer struct {
	cfg        Config
	model      *vae.VAE
	vs         *nn.VarStore
	opt        *optim.Optimizer
	data       *galaxyData
	metrics    *metrics.Writer
	ckDir      string
	perEpoch   int64   // optimiser steps per epoch
	seconds    float64 // training time in optimiser steps, all sessions (excludes evaluation)
	epochStart time.Time
	epochTime  []float64
	order      []int // the current epoch's order
	orderOf    int64 // the epoch that order is of (-1: none yet)
	acc        runningMean
}

func runTrain(ctx context.Context, cfg Config) error {
	started := time.Now()
	if err := cfg.Runtime(); err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return err
	}
	data, err := loadData(cfg.dataOptions())
	if err != nil {
		return err
	}
	defer data.Drop()

	t := &trainer{cfg: cfg, data: data, ckDir: filepath.Join(cfg.Out, "checkpoint"), orderOf: -1}
	var named map[string]*ts.Tensor
	dev, err := cfg.TorchDevice()
	if err != nil {
		return err
	}
	if t.model, t.vs, named, err = buildModel(cfg.modelConfig(), dev); err != nil {
		return err
	}
	if t.opt, err = optim.New(optim.Config{Name: "adam", LR: cfg.LR}, named); err != nil {
		return err
	}
	t.perEpoch = stepsPerEpoch(data.nTrain, cfg.BatchSize)
	start, prior := 0, 0.0
	if cfg.Resume {
		meta, err := checkpoint.Load(t.ckDir, named, t.opt)
		if err != nil {
			return err
		}
		start, prior, t.seconds = int(meta.Step), meta.Seconds, meta.StepSeconds
		log.Printf("resumed from %s at step %d (epoch %d)", t.ckDir, start, int64(start)/t.perEpoch)
	}
	if t.metrics, err = train.OpenMetrics(filepath.Join(cfg.Out, "metrics.csv"), metricsHeader, "step", cfg.Resume, start); err != nil {
		return err
	}
	defer t.metrics.Close()

	perEpoch := int(t.perEpoch)
	evalEvery := cfg.EvalEvery
	if evalEvery == 0 {
		evalEvery = perEpoch
	}
	plan := train.Plan{Label: cfg.Arch, Unit: "step", Start: start, Total: perEpoch * cfg.Epochs,
		EvaluateAt: train.Every(evalEvery),
		SaveAt: func(done int) bool {
			return done%perEpoch == 0 && (done/perEpoch)%cfg.SaveEvery == 0
		},
		PriorSeconds: prior}
	if cfg.afterStep != nil {
		plan.AfterStep = func(done int, loss float64) { cfg.afterStep(int64(done), loss) }
	}
	res, err := train.Run(ctx, plan, t, os.Stderr)
	if err != nil {
		return err
	}
	if res.Interrupted {
		note := fmt.Sprintf("stopped at step %d of %d; continue with --resume", res.Done, plan.Total)
		if err := t.writeSummary(started, res, map[string]float64{}, []string{note}); err != nil {
			return err
		}
		return fmt.Errorf("step %d, %s: %w", res.Done, t.ckDir, cli.ErrInterrupted)
	}
	return t.finish(started, res)
}

// Step runs optimiser step `step` on its batch of the epoch's order.
func (t *trainer) Step(step int) (train.StepReport, error) {
	epoch, b := int64(step)/t.perEpoch, int64(step)%t.perEpoch
	if epoch != t.orderOf {
		t.order, t.orderOf = train.EpochOrder(t.cfg.Seed, int(epoch), t.data.nTrain), epoch
		t.epochStart = time.Now()
	}
	beta := betaAt(int64(step), t.perEpoch, t.cfg.Beta, t.cfg.KLWarmup)
	begin := time.Now()
	s, err := t.trainStep(batchIndices(t.order, b, t.cfg.BatchSize), beta)
	if err != nil {
		return train.StepReport{}, err
	}
	t.seconds += time.Since(begin).Seconds()
	t.acc.add(s, beta)
	if b == t.perEpoch-1 {
		t.epochTime = append(t.epochTime, time.Since(t.epochStart).Seconds())
	}
	return train.StepReport{Loss: s.loss, Fields: []progress.Field{{Name: "loss", Value: s.loss, Format: "%.1f"},
		{Name: "recon", Value: s.recon, Format: "%.1f"}, {Name: "kl", Value: s.kl, Format: "%.1f"}}}, nil
}

// stepStats are one step's (or one evaluation's) batch-averaged losses.
type stepStats struct{ loss, recon, kl float64 }

// trainStep runs one optimiser step on the training images at idx; every
// tensor it makes is freed when it returns.
func (t *trainer) trainStep(idx []int64, beta float64) (stepStats, error) {
	x, cond, err := t.data.batch(t.data.trainX, t.data.trainCond, idx)
	if err != nil {
		return stepStats{}, err
	}
	defer x.MustDrop()
	if cond != nil {
		defer cond.MustDrop()
	}
	if err := t.opt.ZeroGrad(); err != nil {
		return stepStats{}, err
	}
	logits, mu, logvar, err := t.model.Forward(x, cond, nil, true)
	if err != nil {
		return stepStats{}, err
	}
	defer logits.MustDrop()
	defer mu.MustDrop()
	defer logvar.MustDrop()
	loss, nll, kl, err := vae.Loss(logits, x, mu, logvar, beta, t.cfg.FreeBits)
	if err != nil {
		return stepStats{}, err
	}
	defer loss.MustDrop()
	defer nll.MustDrop()
	defer kl.MustDrop()
	if err := loss.Backward(); err != nil {
		return stepStats{}, fmt.Errorf("backward: %w", err)
	}
	if err := t.opt.Step(); err != nil {
		return stepStats{}, err
	}
	return readStats(loss, nll, kl)
}

func readStats(loss, nll, kl *ts.Tensor) (stepStats, error) {
	var s stepStats
	var err error
	for _, p := range []struct {
		dst *float64
		t   *ts.Tensor
	}{{&s.loss, loss}, {&s.recon, nll}, {&s.kl, kl}} {
		if *p.dst, err = tensors.Scalar(p.t); err != nil {
			return s, err
		}
	}
	if math.IsNaN(s.loss) || math.IsInf(s.loss, 0) {
		return s, fmt.Errorf("loss is %v (recon %v, kl %v): training diverged; try a smaller --lr", s.loss, s.recon, s.kl)
	}
	return s, nil
}

// evaluate averages the loss terms over all images of x in eval mode (one
// sample of z per image, as in training), with beta on the KL.
func evaluate(m *vae.VAE, x, cond *ts.Tensor, beta float64, batch int) (stepStats, error) {
	n := x.MustSize()[0]
	var sum stepStats
	err := torchrt.NoGrad(func() error {
		for start := int64(0); start < n; start += int64(batch) {
			size := min(int64(batch), n-start)
			xb := x.MustNarrow(0, start, size, false)
			var cb *ts.Tensor
			if cond != nil {
				cb = cond.MustNarrow(0, start, size, false)
			}
			s, err := evalBatch(m, xb, cb, beta)
			xb.MustDrop()
			if cb != nil {
				cb.MustDrop()
			}
			if err != nil {
				return err
			}
			w := float64(size) / float64(n)
			sum.loss += w * s.loss
			sum.recon += w * s.recon
			sum.kl += w * s.kl
		}
		return nil
	})
	return sum, err
}

func evalBatch(m *vae.VAE, x, cond *ts.Tensor, beta float64) (stepStats, error) {
	logits, mu, logvar, err := m.Forward(x, cond, nil, false)
	if err != nil {
		return stepStats{}, err
	}
	defer logits.MustDrop()
	defer mu.MustDrop()
	defer logvar.MustDrop()
	loss, nll, kl, err := vae.Loss(logits, x, mu, logvar, beta, 0)
	if err != nil {
		return stepStats{}, err
	}
	defer loss.MustDrop()
	defer nll.MustDrop()
	defer kl.MustDrop()
	return readStats(loss, nll, kl)
}

// Evaluate writes the train row (the mean of the steps since the last one)
// and a test evaluation after `done` steps.
func (t *trainer) Evaluate(done int) error {
	mw, acc := t.metrics, &t.acc
	epoch := float64(done) / float64(t.perEpoch)
	if acc.n > 0 {
		m := acc.mean()
		if err := mw.Write(epoch, done, "train", m.loss, m.recon, m.kl, acc.beta, t.seconds); err != nil {
			return err
		}
		*acc = runningMean{}
	}
	if t.data.nTest == 0 {
		return nil
	}
	s, err := evaluate(t.model, t.data.testX, t.data.testCond, t.cfg.Beta, 256)
	if err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	return mw.Write(epoch, done, "test", s.loss, s.recon, s.kl, t.cfg.Beta, t.seconds)
}

// Save checkpoints the run after `done` steps.
func (t *trainer) Save(done int, seconds float64) error {
	named, err := tensors.Named(t.vs)
	if err != nil {
		return err
	}
	meta := checkpoint.Meta{Step: int64(done), Epoch: done / int(t.perEpoch), Seed: t.cfg.Seed, Seconds: seconds, StepSeconds: t.seconds}
	return checkpoint.Save(t.ckDir, meta, t.cfg, named, t.opt)
}

// finish evaluates both splits, draws the figures and writes summary.json.
func (t *trainer) finish(started time.Time, run train.Result) error {
	cfg := t.cfg
	res := map[string]float64{"epochs": float64(cfg.Epochs), "step_seconds": t.seconds,
		"seconds_per_epoch": t.seconds / float64(cfg.Epochs),
		"train_images":      float64(t.data.nTrain), "test_images": float64(t.data.nTest)}
	if n := len(t.epochTime); n > 0 {
		res["last_epoch_seconds"] = t.epochTime[n-1]
	}
	for _, sp := range []struct {
		name    string
		x, cond *ts.Tensor
		n       int
	}{{"train", t.data.trainX, t.data.trainCond, t.data.nTrain}, {"test", t.data.testX, t.data.testCond, t.data.nTest}} {
		if sp.n == 0 {
			continue
		}
		s, err := evaluate(t.model, sp.x, sp.cond, cfg.Beta, 256)
		if err != nil {
			return err
		}
		res[sp.name+"_recon"], res[sp.name+"_kl"], res[sp.name+"_loss"] = s.recon, s.kl, s.loss
		res[sp.name+"_neg_elbo"] = s.recon + s.kl
	}
	log.Printf("done: %d epochs, %.1f s/epoch of training; test recon %.2f, kl %.2f, -ELBO %.2f nats/image",
		cfg.Epochs, res["seconds_per_epoch"], res["test_recon"], res["test_kl"], res["test_neg_elbo"])
	named, err := tensors.Named(t.vs)
	if err != nil {
		return err
	}
	notes, err := drawAll(cfg.Out, t.model, named, t.data, cfg.Class, res)
	if err != nil {
		return err
	}
	return t.writeSummary(started, run, res, notes)
}

// writeSummary writes summary.json with the common keys and res.
func (t *trainer) writeSummary(started time.Time, run train.Result, res map[string]float64, notes []string) error {
	train.CommonResults(res, run)
	return train.WriteSummary(t.cfg.Out, train.Summary{Command: cli.CommandLine(), Started: started, Finished: time.Now(),
		Seconds: time.Since(started).Seconds(), Config: t.cfg, Data: t.data.source, Results: res, Notes: notes})
}

// runningMean averages step statistics, weighting each step equally.
type runningMean struct {
	sum  stepStats
	n    int
	beta float64 // of the last step
}

func (r *runningMean) add(s stepStats, beta float64) {
	r.sum.loss += s.loss
	r.sum.recon += s.recon
	r.sum.kl += s.kl
	r.n++
	r.beta = beta
}

func (r *runningMean) mean() stepStats {
	n := float64(r.n)
	return stepStats{r.sum.loss / n, r.sum.recon / n, r.sum.kl / n}
}

// betaAt is the KL weight at a step: beta, or with warm-up epochs a linear
// ramp from beta/(warmup steps) at the first step to beta.
func betaAt(step, perEpoch int64, beta float64, warmupEpochs int) float64 {
	if warmupEpochs <= 0 {
		return beta
	}
	ramp := float64(step+1) / float64(int64(warmupEpochs)*perEpoch)
	return beta * math.Min(1, ramp)
}

// stepsPerEpoch counts batches; a last batch of one image is dropped
// because BatchNorm cannot train on it.
func stepsPerEpoch(n, batch int) int64 {
	steps := n / batch
	if n%batch >= 2 {
		steps++
	}
	return int64(max(steps, 1))
}

// batchIndices returns the training indices of batch b of an epoch.
func batchIndices(order []int, b int64, batch int) []int64 {
	start := int(b) * batch
	end := min(start+batch, len(order))
	idx := make([]int64, end-start)
	for i := range idx {
		idx[i] = int64(order[start+i])
	}
	return idx
}
