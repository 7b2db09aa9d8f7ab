package main

import (
	"context"
	"fmt"
	"log"
	"slices"
	"time"

	"github.com/sugarme/gotch/ts"

	"torchlab/internal/cli"
	"torchlab/internal/galaxy"
	"torchlab/internal/progress"
	"torchlab/internal/runrec"
	"torchlab/internal/train"
	"torchlab/internal/vaeplots"
	"torchlab/models/vae"
	"torchlab/torch/checkpoint"
	"torchlab/torch/fused"
	"torchlab/torch/optim"
)

// trainer holds the state of one training run; it is the loop's
// train.Task.
type trainer struct {
	cfg        Config
	sess       *train.Session
	model      *vae.VAE
	data       *galaxy.Data
	log        *log.Logger
	perEpoch   int64   // optimiser steps per epoch
	total      int     // optimiser steps of the whole run
	seconds    float64 // training time in optimiser steps, all sessions (excludes evaluation)
	epochStart time.Time
	epochTime  []float64
	order      []int // the current epoch's order
	orderOf    int64 // the epoch that order is of (-1: none yet)
	acc        runningMean
	atEnd      map[string]stepStats // Evaluate's results after the last step, by finish's split name, for finish to reuse
	par        *cli.Parallel        // nil: one process
	// gradNorms are the gradients' 2-norms before clipping of this
	// session's optimiser steps, for choosing --clip-grad-norm.
	gradNorms []float64
}

// runTrain runs (or resumes) training as cfg says, writing metrics,
// figures, checkpoints and summary.json into cfg.Out; a cancelled ctx
// (Ctrl-C) saves a checkpoint and returns train.ErrInterrupted.
func runTrain(ctx context.Context, cfg Config, lg *log.Logger) error {
	if err := cfg.Check(); err != nil {
		return err
	}
	su, par, err := cfg.StartRun(lg)
	if err != nil {
		return err
	}
	defer par.Leave()
	data, err := galaxy.Load(cfg.dataOptions(), su.Log)
	if err != nil {
		return err
	}
	defer data.Drop()

	t := &trainer{cfg: cfg, data: data, log: su.Log, orderOf: -1, par: par}
	dev, err := cfg.TorchDevice()
	if err != nil {
		return err
	}
	var named map[string]*ts.Tensor
	if t.model, _, named, err = buildModel(cfg.modelConfig(), dev); err != nil {
		return err
	}
	// Before the optimiser: its moments take the weights' layout, so that
	// its steps can run in cache-sized slices (fused.AdamStep).
	if cfg.ChannelsLast {
		if err := fused.SetChannelsLastAll(named, true); err != nil {
			return err
		}
	}
	opt, err := optim.New(optim.Config{Name: "adam", LR: cfg.LR}, named)
	if err != nil {
		return err
	}
	opt.SetClipGradNorm(cfg.ClipGradNorm)
	opt.SetMeasureGradNorm(true)
	t.perEpoch = galaxy.StepsPerEpoch(data.NTrain, cfg.BatchSize)
	su.Config, su.Columns, su.StepColumn = cfg, metricsHeader, runrec.ColStep
	if data.NVal > 0 {
		su.Select, su.Higher = runrec.ValNegELBO, false
	}
	if t.sess, err = train.Open(su, named, opt); err != nil {
		return err
	}
	defer t.sess.Close()
	t.seconds = t.sess.PriorStepSeconds()

	perEpoch := int(t.perEpoch)
	evalEvery := cfg.EvalEvery
	if evalEvery == 0 {
		evalEvery = perEpoch
	}
	t.total = perEpoch * cfg.Epochs
	plan := train.Plan{Label: cfg.Arch, Unit: "step", Total: t.total,
		EvaluateAt: train.Every(evalEvery),
		SaveAt: func(done int) bool {
			return done%perEpoch == 0 && (done/perEpoch)%cfg.SaveEvery == 0
		},
		StopEarly: t.stopEarly}
	if cfg.afterStep != nil {
		plan.AfterStep = func(done int, loss float64) { cfg.afterStep(int64(done), loss) }
	}
	return t.sess.RunToEnd(ctx, plan, t, runrec.Summary{Data: &t.data.Source, Split: t.split()}, t.finish)
}

// stopEarly ends the run when the validation -ELBO has not improved for
// --patience epochs (Plan.StopEarly).
func (t *trainer) stopEarly(done int) string {
	best := t.sess.Best
	if t.cfg.Patience == 0 || best == nil || !best.Found {
		return ""
	}
	since := (done - best.Step) / int(t.perEpoch)
	if since < t.cfg.Patience {
		return ""
	}
	return fmt.Sprintf("validation -ELBO has not improved for %d epochs (best at epoch %d; --patience %d)",
		since, best.Step/int(t.perEpoch), t.cfg.Patience)
}

// Step runs optimiser step `step` on its batch of the epoch's order.
func (t *trainer) Step(step int) (train.StepReport, error) {
	epoch, b := int64(step)/t.perEpoch, int64(step)%t.perEpoch
	if epoch != t.orderOf {
		t.order, t.orderOf = train.EpochOrder(t.cfg.Seed, int(epoch), t.data.NTrain), epoch
		t.epochStart = time.Now()
	}
	beta := betaAt(int64(step), t.perEpoch, t.cfg.Beta, t.cfg.KLWarmup)
	begin := time.Now()
	s, err := t.trainStep(step, galaxy.BatchIndices(t.order, b, t.cfg.BatchSize), beta)
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
	mw, acc := t.sess.Metrics, &t.acc
	epoch := float64(done) / float64(t.perEpoch)
	if acc.n > 0 {
		m := acc.mean()
		if err := mw.Write(epoch, done, runrec.Train, m.loss, m.recon, m.kl, acc.beta, t.seconds); err != nil {
			return err
		}
		*acc = runningMean{}
	}
	at := map[string]float64{}
	sets := t.data.EvalSets(runrec.Val, runrec.Test)
	if e := t.cfg.TrainEvalEvery; e > 0 && (done%(e*int(t.perEpoch)) == 0 || done == t.total) {
		for _, full := range t.data.EvalSets(runrec.Train) {
			full.Name = runrec.TrainFull
			sets = append([]galaxy.EvalSet{full}, sets...)
		}
	}
	for _, sp := range sets {
		s, err := evaluate(t.model, sp.X, sp.Cond, t.cfg.Beta, 256, t.par)
		if err != nil {
			return fmt.Errorf("evaluate %s: %w", sp.Name, err)
		}
		if err := mw.Write(epoch, done, sp.Name, s.loss, s.recon, s.kl, t.cfg.Beta, t.seconds); err != nil {
			return err
		}
		at[runrec.Metric(sp.Name, runrec.Recon)], at[runrec.Metric(sp.Name, runrec.KL)], at[runrec.Metric(sp.Name, runrec.NegELBO)] = s.recon, s.kl, s.recon+s.kl
		t.addGroupKL(at, sp.Name, s)
		if done == t.total {
			name := sp.Name
			if name == runrec.TrainFull {
				name = runrec.Train
			}
			if t.atEnd == nil {
				t.atEnd = map[string]stepStats{}
			}
			t.atEnd[name] = s
		}
	}
	_, err := t.sess.Offer(done, at, checkpoint.Meta{Step: int64(done), Epoch: done / int(t.perEpoch), StepSeconds: t.seconds})
	return err
}

// Save checkpoints the run after `done` steps.
func (t *trainer) Save(done int, seconds float64) error {
	return t.sess.Save(checkpoint.Meta{Step: int64(done), Epoch: done / int(t.perEpoch), Seconds: seconds, StepSeconds: t.seconds})
}

// finish evaluates the three splits (reusing Evaluate's results after the
// last step: the model has not changed since), draws the figures and
// writes summary.json.
func (t *trainer) finish(run train.Result) error {
	cfg := t.cfg
	epochs := float64(run.Done) / float64(t.perEpoch) // fewer than --epochs after an early stop
	res := map[string]float64{runrec.Epochs: epochs, runrec.StepSeconds: t.seconds,
		runrec.SecondsPerEpoch: t.seconds / epochs,
		runrec.TrainImages:     float64(t.data.NTrain), runrec.ValImages: float64(t.data.NVal), runrec.TestImages: float64(t.data.NTest)}
	if n := len(t.epochTime); n > 0 {
		res[runrec.LastEpochSeconds] = t.epochTime[n-1]
	}
	if len(t.gradNorms) > 0 {
		norms := slices.Sorted(slices.Values(t.gradNorms))
		at := func(q float64) float64 { return norms[int(q*float64(len(norms)-1))] }
		res[runrec.GradNormMedian], res[runrec.GradNormP99], res[runrec.GradNormMax] = at(0.5), at(0.99), norms[len(norms)-1]
	}
	for _, sp := range t.data.EvalSets(runrec.Train, runrec.Val, runrec.Test) {
		s, ok := t.atEnd[sp.Name]
		if !ok {
			var err error
			if s, err = evaluate(t.model, sp.X, sp.Cond, cfg.Beta, 256, t.par); err != nil {
				return err
			}
		}
		res[runrec.Metric(sp.Name, runrec.Recon)], res[runrec.Metric(sp.Name, runrec.KL)], res[runrec.Metric(sp.Name, runrec.Loss)] = s.recon, s.kl, s.loss
		res[runrec.Metric(sp.Name, runrec.NegELBO)] = s.recon + s.kl
		t.addGroupKL(res, sp.Name, s)
	}
	if !t.par.Lead() {
		return nil
	}
	t.log.Printf("done: %g epochs, %.1f s/epoch of training; test recon %.2f, kl %.2f, -ELBO %.2f nats/image",
		epochs, res[runrec.SecondsPerEpoch], res[runrec.TestRecon], res[runrec.TestKL], res[runrec.TestNegELBO])
	notes, err := vaeplots.DrawAll(cfg.Out, t.model, t.sess.Vars, t.data, cfg.Class, res, t.split(), nil)
	if err != nil {
		return err
	}
	return t.sess.Finish(run, runrec.Summary{Data: &t.data.Source, Results: res, Notes: notes, Split: t.split()})
}

// addGroupKL adds the KL of each latent group as <split>_kl_<group> to m,
// for a model of several groups (resnet-iaf: test_kl_z1, test_kl_z2).
func (t *trainer) addGroupKL(m map[string]float64, split string, s stepStats) {
	groups := t.model.Config.LatentGroups()
	if len(groups) < 2 || len(s.klGroups) != len(groups) {
		return
	}
	for i, g := range groups {
		m[runrec.Metric(split, runrec.KL)+"_"+g.Name] = s.klGroups[i]
	}
}

// split says what the run trains, validates and tests on.
func (t *trainer) split() *runrec.Split {
	return t.cfg.split(t.data)
}
