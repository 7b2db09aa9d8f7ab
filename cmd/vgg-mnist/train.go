package main

import (
	"context"
	"fmt"
	"log"
	"path/filepath"
	"time"

	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/datasets"
	"torchlab/internal/cli"
	"torchlab/internal/progress"
	"torchlab/internal/runrec"
	"torchlab/internal/train"
	"torchlab/internal/vggmnist"
	"torchlab/models/vgg"
	"torchlab/torch/checkpoint"
	"torchlab/torch/memstat"
	"torchlab/torch/optim"
	"torchlab/torch/tensors"
)

var metricsHeader = []string{runrec.ColEpoch, runrec.ColStep, runrec.ColSplit, runrec.ColLoss, runrec.ColAccuracy, runrec.ColSeconds}

// task is one training run's data and model and the state of its epoch:
// the loop's train.Task.
type task struct {
	cfg           Config
	sess          *train.Session
	model         *vgg.VGG
	train, test   *split
	val           *split // nil for --val-fraction 0
	trainEval     *split
	data          datasets.Source
	log           *log.Logger
	stepsPerEpoch int
	totalSteps    int
	final         map[string]float64
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
// figures, checkpoints and summary.json. --max-steps stops it with a
// checkpoint (Result.Done < the run's steps); a cancelled ctx too, and the
// error is then train.ErrInterrupted. cfg is final: parseTrain has
// already applied the resume policy.
func runTrain(ctx context.Context, cfg Config, lg *log.Logger) (train.Result, error) {
	if err := cfg.Check(); err != nil {
		return train.Result{}, err
	}
	su, par, err := cfg.StartRun(lg)
	if err != nil {
		return train.Result{}, err
	}
	defer par.Leave()
	t, named, err := newTask(cfg, su.Log)
	if err != nil {
		return train.Result{}, err
	}
	defer t.close()
	t.par = par
	oc := optim.Config{Name: cfg.Optimizer, LR: cfg.LR, Momentum: cfg.Momentum, WeightDecay: cfg.WeightDecay}
	if oc.Name == "adam" {
		oc.Momentum = 0
	}
	opt, err := optim.New(oc, named)
	if err != nil {
		return train.Result{}, err
	}
	su.CheckpointDir, su.Config, su.Columns, su.StepColumn = cfg.checkpointDir(), cfg, metricsHeader, runrec.ColStep
	if t.val != nil {
		su.Select, su.Higher = runrec.ValAccuracy, true
	}
	if t.sess, err = train.Open(su, named, opt); err != nil {
		return train.Result{}, err
	}
	defer t.sess.Close()
	n, B := t.train.n, cfg.BatchSize
	plan := train.Plan{Label: "train", Unit: "img", Total: t.totalSteps, Stop: cfg.MaxSteps,
		EvaluateAt: func(done int) bool {
			return done%t.stepsPerEpoch == 0 || (cfg.EvalEvery > 0 && done%cfg.EvalEvery == 0)
		},
		SaveAt:        train.Every(t.stepsPerEpoch),
		AfterEvaluate: t.afterEvaluate,
		Units:         func(done int) int { return done/t.stepsPerEpoch*n + min(done%t.stepsPerEpoch*B, n) }}
	run, err := t.sess.Run(ctx, plan, t)
	if err != nil {
		return run, err
	}
	t.final[runrec.Steps] = float64(run.Done)
	if run.StepSeconds > 0 {
		t.final[runrec.StepSeconds] = run.StepSeconds // training steps only, no evaluation
		t.final[runrec.ImagesPerSecond] = float64(plan.Units(run.Done)-plan.Units(run.Start)) / run.StepSeconds
	}
	if par.Lead() {
		if _, ok := t.final[runrec.TestAccuracy]; ok {
			// Evaluations were made, so metrics.csv has rows to draw.
			if err := drawFigures(cfg.Out, t.split()); err != nil {
				return run, err
			}
		}
	}
	sum := runrec.Summary{Data: &t.data, Results: t.final, Split: t.split(),
		Notes: []string{
			"train loss/accuracy: " + t.trainEvalWords(),
			fmt.Sprintf("learning rate: %s from %g over %d steps (%d epochs of %d steps)", cfg.Schedule, cfg.LR, t.totalSteps, cfg.Epochs, t.stepsPerEpoch),
		}}
	if err := t.sess.Finish(run, sum); err != nil {
		return run, err
	}
	if par.Lead() && !run.Interrupted { // the end of the run or --max-steps, not Ctrl-C
		t.log.Printf("%s", t.finalWords(run.Done))
	}
	return run, nil
}

// finalWords is the run's last log line: where it stopped, its final
// numbers and, before the end, how to continue.
func (t *task) finalWords(done int) string {
	f := t.final
	words := fmt.Sprintf("finished %d epochs (%d steps)", t.cfg.Epochs, done)
	if done < t.totalSteps {
		words = fmt.Sprintf("stopped by --max-steps at step %d of %d (epoch %.2f)", done, t.totalSteps, float64(done)/float64(t.stepsPerEpoch))
	}
	words += fmt.Sprintf(": test accuracy %.4f (loss %.4f), train %.4f", f[runrec.TestAccuracy], f[runrec.TestLoss], f[runrec.TrainAccuracy])
	if t.val != nil {
		words += fmt.Sprintf(", validation %.4f", f[runrec.ValAccuracy])
	}
	words += fmt.Sprintf("; summary in %s", filepath.Join(t.cfg.Out, "summary.json"))
	if done < t.totalSteps {
		words += fmt.Sprintf("; checkpoint in %s: continue with 'vgg-mnist train --resume --out %s --max-steps 0' (0: no cap, on to the end of the %d epochs)",
			t.cfg.checkpointDir(), t.cfg.Out, t.cfg.Epochs)
	}
	return words
}

// newTask loads the data and builds the model; named are its variables.
func newTask(cfg Config, lg *log.Logger) (*task, map[string]*ts.Tensor, error) {
	src, err := datasets.Locate(cfg.DataDir, "mnist")
	if err != nil {
		return nil, nil, err
	}
	dir := src.Dir
	t := &task{cfg: cfg, log: lg, final: map[string]float64{}, data: src, orderOf: -1}
	t0 := time.Now()
	if t.train, t.val, err = loadTrainVal(dir, cfg.Subset, cfg.ValFraction, cfg.DataSeed()); err != nil {
		return nil, nil, err
	}
	if t.test, err = loadSplit(dir, false, cfg.TestSubset, cfg.DataSeed()); err != nil {
		t.close()
		return nil, nil, err
	}
	if t.trainEval, err = t.train.sample(cfg.TrainEvalSize, cfg.DataSeed()+1); err != nil {
		t.close()
		return nil, nil, err
	}
	lg.Printf("MNIST from %s: %d training, %d validation, %d test images (%dx%d), train metrics on %d, loaded in %.1fs",
		dir, t.train.n, t.valSize(), t.test.n, vggmnist.ImageSize, vggmnist.ImageSize, t.trainEval.n, time.Since(t0).Seconds())

	dev, err := cfg.TorchDevice()
	if err != nil {
		t.close()
		return nil, nil, err
	}
	vs := nn.NewVarStore(dev)
	if t.model, err = vgg.New(vs.Root(), cfg.Model); err != nil {
		t.close()
		return nil, nil, err
	}
	named, err := tensors.Named(vs)
	if err != nil {
		t.close()
		return nil, nil, err
	}
	t.stepsPerEpoch = (t.train.n + cfg.BatchSize - 1) / cfg.BatchSize
	t.totalSteps = cfg.Epochs * t.stepsPerEpoch
	return t, named, nil
}

func (s *task) close() {
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
func (s *task) Step(step int) (train.StepReport, error) {
	cfg, n, B := s.cfg, s.train.n, s.cfg.BatchSize
	epoch, i := step/s.stepsPerEpoch, step%s.stepsPerEpoch
	if epoch != s.orderOf {
		s.order, s.orderOf = toInt64(train.EpochOrder(cfg.Seed, epoch, n)), epoch
		s.epochStart = time.Now()
		s.sumLoss, s.correct, s.seen = 0, 0, 0
	}
	s.sess.Opt.SetLR(optim.ScheduledLR(cfg.Schedule, cfg.LR, step, s.totalSteps))
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
func (s *task) step(step int, idx []int64) (float64, int64, bool, error) {
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
	return vggmnist.TrainStep(s.model, s.sess.Opt, s.sess.Guard, step, x, y)
}

// valSize is the number of validation images.
func (s *task) valSize() int {
	if s.val == nil {
		return 0
	}
	return s.val.n
}

// split says what the run trains, validates and tests on.
func (s *task) split() *runrec.Split {
	return &runrec.Split{Train: s.train.n, Val: s.valSize(), Test: s.test.n, Unit: "images",
		ValFraction: s.cfg.ValFraction, ValSeed: valSeed(s.cfg.DataSeed()), SplitSeed: s.cfg.DataSeed(), StratifiedBy: "label",
		TrainEval: s.trainEvalWords()}
}

// trainEvalWords says what the "train" rows measure, for legends and notes.
func (s *task) trainEvalWords() string {
	if s.trainEval == s.train {
		return "whole training split, " + runrec.Count(s.train.n) + " images, eval mode"
	}
	return runrec.Count(s.trainEval.n) + "-image stratified sample, eval mode"
}

// Evaluate measures the training sample, the validation and the test
// images in eval mode, writes their rows and keeps the model of the best
// validation accuracy (train.Task).
func (s *task) Evaluate(step int) error {
	epoch := float64(step) / float64(s.stepsPerEpoch)
	type named struct {
		name string
		data *split
	}
	splits := []named{{runrec.Train, s.trainEval}}
	if s.val != nil {
		splits = append(splits, named{runrec.Val, s.val})
	}
	splits = append(splits, named{runrec.Test, s.test})
	at := map[string]float64{}
	err := vggmnist.WithChannelsLast(s.model, s.cfg.EvalChannelsLast, func() error {
		for _, e := range splits {
			loss, acc, err := vggmnist.Evaluate(s.model, e.data.images, e.data.labels, e.data.n, s.cfg.EvalBatchSize, s.par)
			if err != nil {
				return err
			}
			if err := s.sess.Metrics.Write(epoch, step, e.name, loss, acc, s.sess.Seconds()); err != nil {
				return err
			}
			s.final[runrec.Metric(e.name, runrec.Loss)], s.final[runrec.Metric(e.name, runrec.Accuracy)] = loss, acc
			at[runrec.Metric(e.name, runrec.Loss)], at[runrec.Metric(e.name, runrec.Accuracy)] = loss, acc
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.final[runrec.Epochs] = epoch
	s.log.Printf("epoch %.2f (step %d): train loss %.5f acc %.4f | val loss %.5f acc %.4f | test loss %.5f acc %.4f",
		epoch, step, s.final[runrec.TrainLoss], s.final[runrec.TrainAccuracy], s.final[runrec.ValLoss], s.final[runrec.ValAccuracy],
		s.final[runrec.TestLoss], s.final[runrec.TestAccuracy])
	meta := checkpoint.Meta{Step: int64(step), Epoch: step / s.stepsPerEpoch, Seconds: s.sess.Seconds()}
	kept, err := s.sess.Offer(step, at, meta)
	if kept {
		s.log.Printf("best validation accuracy so far: model kept in %s", s.sess.Best.Dir)
	}
	return err
}

// afterEvaluate ends an epoch after its evaluation: it redraws the figures
// and records the epoch's time and memory.
func (s *task) afterEvaluate(step int) error {
	if step%s.stepsPerEpoch != 0 {
		return nil
	}
	s.final[runrec.LastEpochSeconds] = time.Since(s.epochStart).Seconds()
	if err := drawFigures(s.cfg.Out, s.split()); err != nil {
		return err
	}
	epoch := step / s.stepsPerEpoch
	// Resident memory is a diagnostic: without /proc it is left out.
	if rss, err := memstat.RSS(); err == nil {
		s.final[runrec.RSSAfterEpoch(epoch)] = float64(rss) / (1 << 20)
		s.log.Printf("epoch %d done in %.0fs; RSS %.0f MiB", epoch, s.final[runrec.LastEpochSeconds], float64(rss)/(1<<20))
	} else {
		s.log.Printf("epoch %d done in %.0fs; RSS not measured: %v", epoch, s.final[runrec.LastEpochSeconds], err)
	}
	return nil
}

// Save writes a checkpoint of the state after step steps (train.Task).
func (s *task) Save(step int, seconds float64) error {
	return s.sess.Save(checkpoint.Meta{Step: int64(step), Epoch: step / s.stepsPerEpoch, Seconds: seconds})
}
