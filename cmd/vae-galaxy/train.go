package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"time"

	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/datasets"
	"torchlab/internal/metrics"
	"torchlab/internal/progress"
	"torchlab/internal/run"
	"torchlab/models/vae"
	"torchlab/torch/checkpoint"
	"torchlab/torch/optim"
	"torchlab/torch/tensors"
	"torchlab/torch/torchrt"
)

// Config is the train subcommand's configuration; the checkpoint stores it.
type Config struct {
	run.Common
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

// sameRun reports how a checkpoint's configuration differs from c in a way
// that makes resuming meaningless (the data, its order or the model).
func (c Config) sameRun(old Config) error {
	a, b := c, old
	a.Epochs, b.Epochs = 0, 0
	a.Resume, b.Resume = false, false
	a.Threads, b.Threads = 0, 0
	a.BLASThreads, b.BLASThreads = 0, 0
	a.Out, b.Out = "", ""
	a.DataDir, b.DataDir = "", ""
	a.CacheDir, b.CacheDir = "", ""
	a.Workers, b.Workers = 0, 0
	a.EvalEvery, b.EvalEvery = 0, 0
	a.SaveEvery, b.SaveEvery = 0, 0
	a.Class, b.Class = "", ""
	a.afterStep, b.afterStep = nil, nil
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		return fmt.Errorf("--resume with a different configuration:\n  checkpoint %s\n  now        %s", jb, ja)
	}
	return nil
}

// metricsHeader is metrics.csv's header: one row per evaluation and split;
// loss = recon + beta*kl (train: averaged over the steps since the last row,
// with the beta of each step), seconds = training time so far.
var metricsHeader = []string{"epoch", "step", "split", "loss", "recon", "kl", "beta", "seconds"}

// trainer holds the state of one training run.
type trainer struct {
	cfg       Config
	model     *vae.VAE
	vs        *nn.VarStore
	opt       *optim.Optimizer
	data      *galaxyData
	perEpoch  int64 // optimiser steps per epoch
	step      int64
	seconds   float64 // training time, excluding evaluation
	epochTime []float64
}

func runTrain(ctx context.Context, cfg Config) error {
	started := time.Now()
	if err := cfg.Runtime(); err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return err
	}
	ckDir := filepath.Join(cfg.Out, "checkpoint")
	if cfg.Resume {
		if !checkpoint.Exists(ckDir) {
			return fmt.Errorf("--resume: no checkpoint in %s", ckDir)
		}
		meta, err := checkpoint.ReadMeta(ckDir)
		if err != nil {
			return err
		}
		var old Config
		if err := json.Unmarshal(meta.Config, &old); err != nil {
			return fmt.Errorf("read %s: %w", ckDir, err)
		}
		if err := cfg.sameRun(old); err != nil {
			return err
		}
	}
	data, err := loadData(cfg.dataOptions())
	if err != nil {
		return err
	}
	defer data.Drop()

	t := &trainer{cfg: cfg, data: data}
	var named map[string]*ts.Tensor
	if t.model, t.vs, named, err = buildModel(cfg.modelConfig()); err != nil {
		return err
	}
	if t.opt, err = optim.New(optim.Config{Name: "adam", LR: cfg.LR}, named); err != nil {
		return err
	}
	t.perEpoch = stepsPerEpoch(data.nTrain, cfg.BatchSize)
	if cfg.Resume {
		meta, err := checkpoint.Load(ckDir, named, t.opt)
		if err != nil {
			return err
		}
		t.step, t.seconds = meta.Step, meta.Seconds
		log.Printf("resumed from %s at step %d (epoch %d)", ckDir, t.step, t.step/t.perEpoch)
	}
	mw, err := metrics.Create(filepath.Join(cfg.Out, "metrics.csv"), metricsHeader, cfg.Resume)
	if err != nil {
		return err
	}
	defer mw.Close()

	interrupted, err := t.loop(ctx, mw, ckDir)
	if err != nil {
		return err
	}
	if err := t.save(ckDir); err != nil {
		return err
	}
	if interrupted {
		return fmt.Errorf("step %d, %s: %w", t.step, ckDir, run.ErrInterrupted)
	}
	return t.finish(started)
}

// loop runs the epochs and steps from t.step to the end, evaluating and
// checkpointing on the way. It reports whether ctx interrupted it.
func (t *trainer) loop(ctx context.Context, mw *metrics.Writer, ckDir string) (bool, error) {
	cfg := t.cfg
	total := t.perEpoch * int64(cfg.Epochs)
	evalEvery := int64(cfg.EvalEvery)
	if evalEvery == 0 {
		evalEvery = t.perEpoch
	}
	bar := progress.NewFrom(os.Stderr, int(t.step), int(total), cfg.Arch, progress.WithUnit("step"))
	defer bar.Finish()
	var acc runningMean
	for t.step < total {
		epoch := t.step / t.perEpoch
		order := epochOrder(cfg.Seed, epoch, t.data.nTrain)
		epochStart := time.Now()
		for b := t.step % t.perEpoch; b < t.perEpoch; b++ {
			if ctx.Err() != nil {
				return true, nil
			}
			beta := betaAt(t.step, t.perEpoch, cfg.Beta, cfg.KLWarmup)
			begin := time.Now()
			s, err := t.trainStep(batchIndices(order, b, cfg.BatchSize), beta)
			if err != nil {
				return false, fmt.Errorf("step %d: %w", t.step, err)
			}
			t.seconds += time.Since(begin).Seconds()
			t.step++
			acc.add(s, beta)
			bar.Update(int(t.step), progress.Field{Name: "loss", Value: s.loss, Format: "%.1f"},
				progress.Field{Name: "recon", Value: s.recon, Format: "%.1f"}, progress.Field{Name: "kl", Value: s.kl, Format: "%.1f"})
			if cfg.afterStep != nil {
				cfg.afterStep(t.step, s.loss)
			}
			if t.step%evalEvery == 0 || t.step == total {
				resume := bar.Pause() // an evaluation is not training speed
				if err := t.writeRows(mw, &acc); err != nil {
					return false, err
				}
				resume()
			}
		}
		t.epochTime = append(t.epochTime, time.Since(epochStart).Seconds())
		if done := t.step / t.perEpoch; done%int64(cfg.SaveEvery) == 0 && t.step < total {
			resume := bar.Pause()
			if err := t.save(ckDir); err != nil {
				return false, err
			}
			resume()
		}
	}
	return false, nil
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

// writeRows writes the train row (the mean since the last one) and a test
// evaluation.
func (t *trainer) writeRows(mw *metrics.Writer, acc *runningMean) error {
	epoch := float64(t.step) / float64(t.perEpoch)
	if acc.n > 0 {
		m := acc.mean()
		if err := mw.Write(epoch, t.step, "train", m.loss, m.recon, m.kl, acc.beta, t.seconds); err != nil {
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
	return mw.Write(epoch, t.step, "test", s.loss, s.recon, s.kl, t.cfg.Beta, t.seconds)
}

func (t *trainer) save(dir string) error {
	named, err := tensors.Named(t.vs)
	if err != nil {
		return err
	}
	meta := checkpoint.Meta{Step: t.step, Epoch: int(t.step / t.perEpoch), Seed: t.cfg.Seed, Seconds: t.seconds}
	if err := checkpoint.Save(dir, meta, t.cfg, named, t.opt); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	return nil
}

// finish evaluates both splits, draws the figures and writes summary.json.
func (t *trainer) finish(started time.Time) error {
	cfg := t.cfg
	res := map[string]float64{"steps": float64(t.step), "epochs": float64(cfg.Epochs), "train_seconds": t.seconds,
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
	return run.WriteSummary(cfg.Out, run.Summary{Command: run.CommandLine(), Started: started, Finished: time.Now(),
		Seconds: time.Since(started).Seconds(), Config: cfg, Data: t.data.source, Results: res, Notes: notes})
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

// epochOrder is the shuffled order of the training images in an epoch, a
// function of the seed and the epoch only, so a resumed run replays it.
func epochOrder(seed, epoch int64, n int) []int {
	return rand.New(rand.NewSource(seed*1_000_003 + epoch)).Perm(n)
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
