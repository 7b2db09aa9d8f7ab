package main

import (
	"context"
	"fmt"
	"io"
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
	"torchlab/models/vgg"
	"torchlab/torch/checkpoint"
	"torchlab/torch/memstat"
	"torchlab/torch/optim"
	"torchlab/torch/tensors"
)

var metricsHeader = []string{"epoch", "step", "split", "loss", "accuracy", "seconds"}

// result is what a training session did, for tests and the summary.
type result struct {
	FirstStep   int       // global step this session started at
	Losses      []float64 // training loss of each step of this session
	Interrupted bool
	Final       map[string]float64
}

// session is the state of one training run in this process.
type session struct {
	cfg           config
	model         *vgg.VGG
	named         map[string]*ts.Tensor
	opt           *optim.Optimizer
	guard         *train.Guard
	train, test   *split
	val           *split // nil for --val-fraction 0
	trainEval     *split
	best          *train.Best // nil without a validation split
	data          datasets.Source
	metrics       *metrics.Writer
	log           io.Writer
	stepsPerEpoch int
	totalSteps    int
	final         map[string]float64
	priorSeconds  float64   // training time of earlier sessions (from the checkpoint)
	began         time.Time // of this session
	// The current epoch: its order, start and running training statistics.
	order      []int64
	orderOf    int
	epochStart time.Time
	sumLoss    float64
	correct    int64
	seen       int64
	par        *cli.Parallel // nil: one process
}

// runTrain runs (or resumes) training as cfg says, writing metrics,
// figures, checkpoints and summary.json. Cancelling ctx (or --max-steps)
// stops it with a checkpoint: the result says Interrupted, the error is nil.
// cfg is final: parseTrain has already applied the resume policy.
func runTrain(ctx context.Context, cfg config, logw io.Writer) (*result, error) {
	started := time.Now()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	par, err := cfg.JoinGroup()
	if err != nil {
		return nil, err
	}
	defer par.Leave()
	logw = par.Log(logw)
	s, err := newSession(cfg, logw)
	if err != nil {
		return nil, err
	}
	defer s.close()
	s.par = par
	if s.guard, err = train.NewGuard(cfg.GuardConfig, par.Ranks()); err != nil {
		return nil, err
	}
	start, prior := 0, 0.0
	if cfg.Resume {
		meta, err := checkpoint.Load(cfg.checkpointDir(), s.named, s.opt)
		if err != nil {
			return nil, fmt.Errorf("resume: %w", err)
		}
		start, prior = int(meta.Step), meta.Seconds
		s.priorSeconds = prior
		cli.Logf(logw, "resuming at step %d (epoch %.2f) from %s", start, float64(start)/float64(s.stepsPerEpoch), meta.Found)
	}
	if err := cfg.InitWeights(s.named, func(f string, a ...any) { fmt.Fprintf(logw, f+"\n", a...) }); err != nil {
		return nil, err
	}
	if start, err = par.Replicate(s.named, s.opt, start); err != nil {
		return nil, err
	}
	if s.metrics, err = train.OpenMetrics(filepath.Join(cfg.Out, "metrics.csv"), metricsHeader, "step", cfg.Resume, start); err != nil {
		return nil, err
	}
	if s.val != nil {
		if s.best, err = train.OpenBest(cfg.Out, "val_accuracy", true, cfg.Resume); err != nil {
			return nil, err
		}
	}
	n, B := s.train.n, cfg.BatchSize
	plan := train.Plan{Profile: train.NewProfiler(cfg.ProfileConfig, cfg.Out), Label: "train", Unit: "img", Start: start, Total: s.totalSteps, Stop: cfg.MaxSteps, Guard: s.guard,
		EvaluateAt: func(done int) bool {
			return done%s.stepsPerEpoch == 0 || (cfg.EvalEvery > 0 && done%cfg.EvalEvery == 0)
		},
		SaveAt:        train.Every(s.stepsPerEpoch),
		AfterEvaluate: s.afterEvaluate,
		Units:         func(done int) int { return done/s.stepsPerEpoch*n + min(done%s.stepsPerEpoch*B, n) },
		PriorSeconds:  prior, Ranks: par.Ranks()}
	run, err := train.Run(ctx, plan, s, logw)
	if err != nil {
		return nil, err
	}
	res := &result{FirstStep: start, Losses: run.Losses, Interrupted: run.Interrupted || run.Done < s.totalSteps, Final: s.final}
	s.final["steps"] = float64(run.Done)
	if run.StepSeconds > 0 {
		s.final["step_seconds"] = run.StepSeconds // training steps only, no evaluation
		s.final["images_per_second"] = float64(plan.Units(run.Done)-plan.Units(start)) / run.StepSeconds
	}
	if !par.Lead() {
		return res, nil
	}
	if _, ok := s.final["test_accuracy"]; ok {
		// Evaluations were made, so metrics.csv has rows to draw.
		if err := drawFigures(cfg.Out, s.split()); err != nil {
			return nil, err
		}
	}
	train.CommonResults(s.final, run)
	s.best.Results(s.final)
	sum := train.Summary{
		Command: cli.CommandLine(), Started: started, Finished: time.Now(),
		Seconds: run.Seconds, Config: cfg, Data: s.data, Results: s.final,
		Seed: cfg.Seed, Split: s.split(), Best: s.best,
		Notes: []string{
			"train loss/accuracy: " + s.trainEvalWords(),
			fmt.Sprintf("learning rate: %s from %g over %d steps (%d epochs of %d steps)", cfg.Schedule, cfg.LR, s.totalSteps, cfg.Epochs, s.stepsPerEpoch),
		},
	}
	if res.Interrupted {
		sum.Notes = append(sum.Notes, fmt.Sprintf("stopped at step %d of %d; continue with --resume", run.Done, s.totalSteps))
	}
	if err := train.WriteSummary(cfg.Out, sum); err != nil {
		return nil, err
	}
	if !run.Interrupted { // the end of the run or --max-steps, not Ctrl-C
		cli.Logf(logw, "%s", s.finalWords(run.Done))
	}
	return res, nil
}

// finalWords is the run's last log line: where it stopped, its final
// numbers and, before the end, how to continue.
func (s *session) finalWords(done int) string {
	f := s.final
	words := fmt.Sprintf("finished %d epochs (%d steps)", s.cfg.Epochs, done)
	if done < s.totalSteps {
		words = fmt.Sprintf("stopped by --max-steps at step %d of %d (epoch %.2f)", done, s.totalSteps, float64(done)/float64(s.stepsPerEpoch))
	}
	words += fmt.Sprintf(": test accuracy %.4f (loss %.4f), train %.4f", f["test_accuracy"], f["test_loss"], f["train_accuracy"])
	if s.val != nil {
		words += fmt.Sprintf(", validation %.4f", f["val_accuracy"])
	}
	words += fmt.Sprintf("; summary in %s", filepath.Join(s.cfg.Out, "summary.json"))
	if done < s.totalSteps {
		words += fmt.Sprintf("; checkpoint in %s: continue with 'vgg-mnist train --resume --out %s --max-steps 0' (0: no cap, on to the end of the %d epochs)",
			s.cfg.checkpointDir(), s.cfg.Out, s.cfg.Epochs)
	}
	return words
}

// newSession loads the data and builds the model, optimiser and metrics.
func newSession(cfg config, logw io.Writer) (*session, error) {
	src, err := datasets.Locate(cfg.DataDir, "mnist")
	if err != nil {
		return nil, err
	}
	dir := src.Dir
	s := &session{cfg: cfg, log: logw, began: time.Now(), final: map[string]float64{}, data: src, orderOf: -1}
	t0 := time.Now()
	if s.train, s.val, err = loadTrainVal(dir, cfg.Subset, cfg.ValFraction, cfg.Seed); err != nil {
		return nil, err
	}
	if s.test, err = loadSplit(dir, false, cfg.TestSubset, cfg.Seed); err != nil {
		s.close()
		return nil, err
	}
	if s.trainEval, err = s.train.sample(cfg.TrainEvalSize, cfg.Seed+1); err != nil {
		s.close()
		return nil, err
	}
	cli.Logf(logw, "MNIST from %s: %d training, %d validation, %d test images (%dx%d), train metrics on %d, loaded in %.1fs",
		dir, s.train.n, s.valSize(), s.test.n, imageSize, imageSize, s.trainEval.n, time.Since(t0).Seconds())

	dev, err := cfg.TorchDevice()
	if err != nil {
		s.close()
		return nil, err
	}
	vs := nn.NewVarStore(dev)
	if s.model, err = vgg.New(vs.Root(), cfg.Model); err != nil {
		s.close()
		return nil, err
	}
	if s.named, err = tensors.Named(vs); err != nil {
		s.close()
		return nil, err
	}
	oc := optim.Config{Name: cfg.Optimizer, LR: cfg.LR, Momentum: cfg.Momentum, WeightDecay: cfg.WeightDecay}
	if oc.Name == "adam" {
		oc.Momentum = 0
	}
	if s.opt, err = optim.New(oc, s.named); err != nil {
		s.close()
		return nil, err
	}
	s.stepsPerEpoch = (s.train.n + cfg.BatchSize - 1) / cfg.BatchSize
	s.totalSteps = cfg.Epochs * s.stepsPerEpoch
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *session) close() {
	if s.metrics != nil {
		s.metrics.Close()
	}
	if s.trainEval != nil && s.trainEval != s.train {
		s.trainEval.drop()
	}
	for _, sp := range []*split{s.train, s.val, s.test} {
		if sp != nil {
			sp.drop()
		}
	}
}

// Step trains step `step` on its batch of the epoch's order (train.Task).
func (s *session) Step(step int) (train.StepReport, error) {
	cfg, n, B := s.cfg, s.train.n, s.cfg.BatchSize
	epoch, i := step/s.stepsPerEpoch, step%s.stepsPerEpoch
	if epoch != s.orderOf {
		s.order, s.orderOf = toInt64(train.EpochOrder(cfg.Seed, epoch, n)), epoch
		s.epochStart = time.Now()
		s.sumLoss, s.correct, s.seen = 0, 0, 0
	}
	s.opt.SetLR(optim.ScheduledLR(cfg.Schedule, cfg.LR, step, s.totalSteps))
	idx := cli.Shard(s.par, s.order[i*B:min((i+1)*B, n)])
	loss, c, skipped, err := s.step(step, idx)
	if err != nil {
		return train.StepReport{}, err
	}
	if skipped {
		return train.StepReport{Loss: loss, Skipped: true}, nil
	}
	sums, err := s.par.Sum(loss*float64(len(idx)), float64(c), float64(len(idx)))
	if err != nil {
		return train.StepReport{}, err
	}
	if s.par.World() > 1 {
		loss = sums[0] / sums[2] // the whole batch's
	}
	s.sumLoss += sums[0]
	s.correct, s.seen = s.correct+int64(sums[1]), s.seen+int64(sums[2])
	return train.StepReport{Loss: loss, Fields: []progress.Field{
		{Name: "epoch", Value: float64(epoch + 1), Format: "%.0f"},
		{Name: "loss", Value: s.sumLoss / float64(s.seen), Format: "%.4f"},
		{Name: "acc", Value: float64(s.correct) / float64(s.seen), Format: "%.4f"}}}, nil
}

// toInt64 converts an order into the int64 indices index_select takes.
func toInt64(order []int) []int64 {
	out := make([]int64, len(order))
	for i, v := range order {
		out[i] = int64(v)
	}
	return out
}

// step trains on the examples at idx, shifted at random with
// --augment-shift.
func (s *session) step(step int, idx []int64) (float64, int64, bool, error) {
	x, y, err := s.train.batch(idx) // [B, 1, 32, 32], [B]
	if err != nil {
		return 0, 0, false, err
	}
	defer x.MustDrop()
	defer y.MustDrop()
	if s.cfg.AugmentShift > 0 {
		shifted, err := shiftImages(x, idx, s.cfg.Seed, step, s.cfg.AugmentShift)
		if err != nil {
			return 0, 0, false, err
		}
		defer shifted.MustDrop()
		x = shifted
	}
	return trainStep(s.model, s.opt, s.guard, step, x, y)
}

// valSize is the number of validation images.
func (s *session) valSize() int {
	if s.val == nil {
		return 0
	}
	return s.val.n
}

// split says what the run trains, validates and tests on.
func (s *session) split() *train.Split {
	return &train.Split{Train: s.train.n, Val: s.valSize(), Test: s.test.n, Unit: "images",
		ValFraction: s.cfg.ValFraction, ValSeed: valSeed(s.cfg.Seed), StratifiedBy: "label",
		TrainEval: s.trainEvalWords()}
}

// trainEvalWords says what the "train" rows measure, for legends and notes.
func (s *session) trainEvalWords() string {
	if s.trainEval == s.train {
		return "whole training split, " + train.Count(s.train.n) + " images, eval mode"
	}
	return train.Count(s.trainEval.n) + "-image stratified sample, eval mode"
}

// Evaluate measures the training sample, the validation and the test
// images in eval mode, writes their rows and keeps the model of the best
// validation accuracy (train.Task).
func (s *session) Evaluate(step int) error {
	epoch := float64(step) / float64(s.stepsPerEpoch)
	type named struct {
		name string
		data *split
	}
	splits := []named{{"train", s.trainEval}}
	if s.val != nil {
		splits = append(splits, named{"val", s.val})
	}
	splits = append(splits, named{"test", s.test})
	at := map[string]float64{}
	err := withChannelsLast(s.model, s.cfg.EvalChannelsLast, func() error {
		for _, e := range splits {
			loss, acc, err := evaluate(s.model, e.data, s.cfg.EvalBatchSize, s.par)
			if err != nil {
				return err
			}
			if err := s.metrics.Write(epoch, step, e.name, loss, acc, s.seconds()); err != nil {
				return err
			}
			s.final[e.name+"_loss"], s.final[e.name+"_accuracy"] = loss, acc
			at[e.name+"_loss"], at[e.name+"_accuracy"] = loss, acc
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.final["epoch"] = epoch
	cli.Logf(s.log, "epoch %.2f (step %d): train loss %.5f acc %.4f | val loss %.5f acc %.4f | test loss %.5f acc %.4f",
		epoch, step, s.final["train_loss"], s.final["train_accuracy"], s.final["val_loss"], s.final["val_accuracy"],
		s.final["test_loss"], s.final["test_accuracy"])
	if s.best == nil || !s.par.Lead() {
		return nil
	}
	kept, err := s.best.Offer(step, at, func(dir string) error {
		meta := checkpoint.Meta{Step: int64(step), Epoch: step / s.stepsPerEpoch, Seed: s.cfg.Seed, Seconds: s.seconds()}
		return checkpoint.Save(dir, meta, s.cfg, s.named, nil)
	})
	if kept {
		cli.Logf(s.log, "best validation accuracy so far: model kept in %s", s.best.Dir)
	}
	return err
}

// afterEvaluate ends an epoch after its evaluation: it redraws the figures
// and records the epoch's time and memory.
func (s *session) afterEvaluate(step int) error {
	if step%s.stepsPerEpoch != 0 {
		return nil
	}
	s.final["epoch_seconds"] = time.Since(s.epochStart).Seconds()
	if err := drawFigures(s.cfg.Out, s.split()); err != nil {
		return err
	}
	epoch := step / s.stepsPerEpoch
	// Resident memory is a diagnostic: without /proc it is left out.
	if rss, err := memstat.RSS(); err == nil {
		s.final[fmt.Sprintf("rss_mib_epoch_%d", epoch)] = float64(rss) / (1 << 20)
		cli.Logf(s.log, "epoch %d done in %.0fs; RSS %.0f MiB", epoch, s.final["epoch_seconds"], float64(rss)/(1<<20))
	} else {
		cli.Logf(s.log, "epoch %d done in %.0fs; RSS not measured: %v", epoch, s.final["epoch_seconds"], err)
	}
	return nil
}

// seconds is the training time so far, over all sessions (the metrics'
// seconds column).
func (s *session) seconds() float64 { return s.priorSeconds + time.Since(s.began).Seconds() }

// Save writes a checkpoint of the state after step steps (train.Task).
func (s *session) Save(step int, seconds float64) error {
	meta := checkpoint.Meta{Step: int64(step), Epoch: step / s.stepsPerEpoch, Seed: s.cfg.Seed, Seconds: seconds}
	return checkpoint.Save(s.cfg.checkpointDir(), meta, s.cfg, s.named, s.opt)
}
