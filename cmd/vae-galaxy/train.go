package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/internal/cli"
	"torchlab/internal/metrics"
	"torchlab/internal/progress"
	"torchlab/internal/train"
	"torchlab/models/vae"
	"torchlab/torch/checkpoint"
	"torchlab/torch/fused"
	"torchlab/torch/optim"
	"torchlab/torch/tensors"
)

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
	total      int     // optimiser steps of the whole run
	seconds    float64 // training time in optimiser steps, all sessions (excludes evaluation)
	epochStart time.Time
	epochTime  []float64
	order      []int // the current epoch's order
	orderOf    int64 // the epoch that order is of (-1: none yet)
	acc        runningMean
	atEnd      map[string]stepStats // Evaluate's results after the last step, by finish's split name, for finish to reuse
	best       *train.Best          // nil without a validation split
	par        *cli.Parallel        // nil: one process
	guard      *train.Guard
}

func runTrain(ctx context.Context, cfg Config) error {
	started := time.Now()
	if err := cfg.Runtime(); err != nil {
		return err
	}
	par, err := cfg.JoinGroup()
	if err != nil {
		return err
	}
	defer par.Leave()
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return err
	}
	data, err := loadData(cfg.dataOptions())
	if err != nil {
		return err
	}
	defer data.Drop()

	t := &trainer{cfg: cfg, data: data, ckDir: filepath.Join(cfg.Out, "checkpoint"), orderOf: -1, par: par}
	var named map[string]*ts.Tensor
	dev, err := cfg.TorchDevice()
	if err != nil {
		return err
	}
	if t.model, t.vs, named, err = buildModel(cfg.modelConfig(), dev); err != nil {
		return err
	}
	// Before the optimiser: its moments take the weights' layout, so that
	// its steps can run in cache-sized slices (fused.AdamStep).
	if cfg.ChannelsLast {
		if err := fused.SetChannelsLastAll(named, true); err != nil {
			return err
		}
	}
	if t.opt, err = optim.New(optim.Config{Name: "adam", LR: cfg.LR}, named); err != nil {
		return err
	}
	t.opt.SetClipGradNorm(cfg.ClipGradNorm)
	if t.guard, err = train.NewGuard(cfg.GuardConfig, par.Ranks()); err != nil {
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
		log.Printf("resumed from %s at step %d (epoch %d)", meta.Found, start, int64(start)/t.perEpoch)
	}
	if err := cfg.InitWeights(named, log.Printf); err != nil {
		return err
	}
	if start, err = par.Replicate(named, t.opt, start); err != nil {
		return err
	}
	if t.metrics, err = train.OpenMetrics(filepath.Join(cfg.Out, "metrics.csv"), metricsHeader, "step", cfg.Resume, start); err != nil {
		return err
	}
	defer t.metrics.Close()
	if data.nVal > 0 {
		if t.best, err = train.OpenBest(cfg.Out, "val_neg_elbo", false, cfg.Resume); err != nil {
			return err
		}
	}

	perEpoch := int(t.perEpoch)
	evalEvery := cfg.EvalEvery
	if evalEvery == 0 {
		evalEvery = perEpoch
	}
	t.total = perEpoch * cfg.Epochs
	plan := train.Plan{Profile: train.NewProfiler(cfg.ProfileConfig, cfg.Out), Label: cfg.Arch, Unit: "step", Start: start, Total: t.total,
		EvaluateAt: train.Every(evalEvery),
		SaveAt: func(done int) bool {
			return done%perEpoch == 0 && (done/perEpoch)%cfg.SaveEvery == 0
		},
		PriorSeconds: prior, Ranks: par.Ranks(), Guard: t.guard, StopEarly: t.stopEarly}
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

// stopEarly ends the run when the validation -ELBO has not improved for
// --patience epochs (Plan.StopEarly).
func (t *trainer) stopEarly(done int) string {
	if t.cfg.Patience == 0 || t.best == nil || !t.best.Found {
		return ""
	}
	since := (done - t.best.Step) / int(t.perEpoch)
	if since < t.cfg.Patience {
		return ""
	}
	return fmt.Sprintf("validation -ELBO has not improved for %d epochs (best at epoch %d; --patience %d)",
		since, t.best.Step/int(t.perEpoch), t.cfg.Patience)
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
	s, err := t.trainStep(step, batchIndices(t.order, b, t.cfg.BatchSize), beta)
	if err != nil {
		return train.StepReport{}, err
	}
	if s.skipped {
		t.seconds += time.Since(begin).Seconds()
		return train.StepReport{Loss: s.loss, Skipped: true}, nil
	}
	t.seconds += time.Since(begin).Seconds()
	t.acc.add(s, beta)
	if b == t.perEpoch-1 {
		t.epochTime = append(t.epochTime, time.Since(t.epochStart).Seconds())
	}
	return train.StepReport{Loss: s.loss, Fields: []progress.Field{{Name: "loss", Value: s.loss, Format: "%.1f"},
		{Name: "recon", Value: s.recon, Format: "%.1f"}, {Name: "kl", Value: s.kl, Format: "%.1f"}}}, nil
}

// Evaluate writes the train row (the mean of the steps since the last one)
// and the validation and test evaluations after `done` steps (and every
// --train-eval-every epochs and at the end the whole training split's, as
// train-full), and keeps the model of the best validation -ELBO.
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
	at := map[string]float64{}
	sets := t.data.evalSets("val", "test")
	if e := t.cfg.TrainEvalEvery; e > 0 && (done%(e*int(t.perEpoch)) == 0 || done == t.total) {
		for _, full := range t.data.evalSets("train") {
			full.name = train.TrainFull
			sets = append([]evalSet{full}, sets...)
		}
	}
	for _, sp := range sets {
		s, err := evaluate(t.model, sp.x, sp.cond, t.cfg.Beta, 256, t.par)
		if err != nil {
			return fmt.Errorf("evaluate %s: %w", sp.name, err)
		}
		if err := mw.Write(epoch, done, sp.name, s.loss, s.recon, s.kl, t.cfg.Beta, t.seconds); err != nil {
			return err
		}
		at[sp.name+"_recon"], at[sp.name+"_kl"], at[sp.name+"_neg_elbo"] = s.recon, s.kl, s.recon+s.kl
		if done == t.total {
			name := sp.name
			if name == train.TrainFull {
				name = "train"
			}
			if t.atEnd == nil {
				t.atEnd = map[string]stepStats{}
			}
			t.atEnd[name] = s
		}
	}
	if t.best == nil || !t.par.Lead() {
		return nil
	}
	_, err := t.best.Offer(done, at, func(dir string) error {
		named, err := tensors.Named(t.vs)
		if err != nil {
			return err
		}
		meta := checkpoint.Meta{Step: int64(done), Epoch: done / int(t.perEpoch), Seed: t.cfg.Seed, StepSeconds: t.seconds}
		return checkpoint.Save(dir, meta, t.cfg, named, nil)
	})
	return err
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

// finish evaluates the three splits (reusing Evaluate's results after the
// last step: the model has not changed since), draws the figures and
// writes summary.json.
func (t *trainer) finish(started time.Time, run train.Result) error {
	cfg := t.cfg
	epochs := float64(run.Done) / float64(t.perEpoch) // fewer than --epochs after an early stop
	res := map[string]float64{"epochs": epochs, "step_seconds": t.seconds,
		"seconds_per_epoch": t.seconds / epochs,
		"train_images":      float64(t.data.nTrain), "val_images": float64(t.data.nVal), "test_images": float64(t.data.nTest)}
	if n := len(t.epochTime); n > 0 {
		res["last_epoch_seconds"] = t.epochTime[n-1]
	}
	for _, sp := range t.data.evalSets("train", "val", "test") {
		s, ok := t.atEnd[sp.name]
		if !ok {
			var err error
			if s, err = evaluate(t.model, sp.x, sp.cond, cfg.Beta, 256, t.par); err != nil {
				return err
			}
		}
		res[sp.name+"_recon"], res[sp.name+"_kl"], res[sp.name+"_loss"] = s.recon, s.kl, s.loss
		res[sp.name+"_neg_elbo"] = s.recon + s.kl
	}
	if !t.par.Lead() {
		return nil
	}
	log.Printf("done: %g epochs, %.1f s/epoch of training; test recon %.2f, kl %.2f, -ELBO %.2f nats/image",
		epochs, res["seconds_per_epoch"], res["test_recon"], res["test_kl"], res["test_neg_elbo"])
	named, err := tensors.Named(t.vs)
	if err != nil {
		return err
	}
	notes, err := drawAll(cfg.Out, t.model, named, t.data, cfg.Class, res, t.split(), nil)
	if err != nil {
		return err
	}
	return t.writeSummary(started, run, res, notes)
}

// writeSummary writes summary.json with the common keys and res.
func (t *trainer) writeSummary(started time.Time, run train.Result, res map[string]float64, notes []string) error {
	train.CommonResults(res, run)
	if n := train.DivergenceNote(t.guard.Events()); n != "" {
		notes = append(notes, n)
	}
	if run.StoppedEarly != "" {
		notes = append(notes, fmt.Sprintf("stopped early after epoch %d of %d: %s", run.Done/int(t.perEpoch), t.cfg.Epochs, run.StoppedEarly))
	}
	t.best.Results(res)
	return train.WriteSummary(t.cfg.Out, train.Summary{Command: cli.CommandLine(), Started: started, Finished: time.Now(),
		Seconds: run.Seconds, Config: t.cfg, Data: t.data.source, Results: res, Notes: notes,
		Seed: t.cfg.Seed, Split: t.split(), Best: t.best})
}

// split says what the run trains, validates and tests on.
func (t *trainer) split() *train.Split {
	return t.data.split(t.cfg)
}
