package galaxy

import (
	"context"
	"fmt"
	"log"
	"math"
	"time"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/datasets"
	"torchlab/internal/progress"
	"torchlab/internal/runrec"
	"torchlab/internal/train"
	"torchlab/models/galaxycnn"
	"torchlab/torch/checkpoint"
	"torchlab/torch/optim"
	"torchlab/torch/tensors"
)

// classifierColumns is the classifier's metrics.csv header: loss is the
// mean cross-entropy (train: of the steps since the last row, on augmented
// images), accuracy over the whole split.
var classifierColumns = []string{runrec.ColEpoch, runrec.ColStep, runrec.ColSplit, runrec.ColLoss, runrec.ColAccuracy, runrec.ColSeconds}

// classifierTask is the loop's train.Task for the classifier.
type classifierTask struct {
	cfg      ClassifierConfig
	sess     *train.Session
	net      *galaxycnn.Net
	data     *Data
	log      *log.Logger
	perEpoch int64
	order    []int
	orderOf  int64
	lossSum  float64
	lossN    int
	seconds  float64 // in optimiser steps, all sessions
}

// TrainClassifier trains (or resumes) the galaxy classifier as cfg says,
// into cfg.Out: metrics.csv, checkpoints, the best validation model in
// best/, and summary.json with its test accuracy, overall and per class.
// A cancelled ctx saves a checkpoint and returns train.ErrInterrupted.
func TrainClassifier(ctx context.Context, cfg ClassifierConfig, lg *log.Logger) error {
	su, par, err := cfg.StartRun(lg)
	if err != nil {
		return err
	}
	defer par.Leave()
	data, err := Load(cfg.DataOptions(), su.Log)
	if err != nil {
		return err
	}
	defer data.Drop()
	t := &classifierTask{cfg: cfg, data: data, log: su.Log, orderOf: -1, perEpoch: StepsPerEpoch(data.NTrain, cfg.BatchSize)}
	vs := nn.NewVarStore(gotch.CPU)
	if t.net, err = galaxycnn.New(vs.Root(), cfg.NetConfig()); err != nil {
		return err
	}
	named, err := tensors.Named(vs)
	if err != nil {
		return err
	}
	opt, err := optim.New(optim.Config{Name: "adam", LR: cfg.LR}, named)
	if err != nil {
		return err
	}
	su.Config, su.Columns, su.StepColumn = cfg, classifierColumns, runrec.ColStep
	su.Select, su.Higher = runrec.ValAccuracy, true
	if t.sess, err = train.Open(su, named, opt); err != nil {
		return err
	}
	defer t.sess.Close()
	t.seconds = t.sess.PriorStepSeconds()
	perEpoch := int(t.perEpoch)
	plan := train.Plan{Label: "classifier", Unit: "step", Total: perEpoch * cfg.Epochs,
		EvaluateAt: train.Every(perEpoch), SaveAt: train.Every(perEpoch * 5)}
	return t.sess.RunToEnd(ctx, plan, t, runrec.Summary{Data: &t.data.Source, Split: t.split()}, t.finish)
}

// Step trains on one batch of the epoch's order, flipped and rotated.
func (t *classifierTask) Step(step int) (train.StepReport, error) {
	epoch, b := int64(step)/t.perEpoch, int64(step)%t.perEpoch
	if epoch != t.orderOf {
		t.order, t.orderOf = train.EpochOrder(t.cfg.Seed, int(epoch), t.data.NTrain), epoch
	}
	begin := time.Now()
	idx := BatchIndices(t.order, b, t.cfg.BatchSize)
	x, _, err := t.data.Batch(t.data.TrainX, nil, idx)
	if err != nil {
		return train.StepReport{}, err
	}
	defer x.MustDrop()
	labels := make([]int64, len(idx))
	for i, j := range idx {
		labels[i] = t.data.TrainY[j]
	}
	y, err := tensors.FromInt64(labels, int64(len(labels)))
	if err != nil {
		return train.StepReport{}, err
	}
	defer y.MustDrop()
	aug, err := orient(x, step)
	if err != nil {
		return train.StepReport{}, err
	}
	defer aug.MustDrop()
	if err := t.sess.Opt.ZeroGrad(); err != nil {
		return train.StepReport{}, err
	}
	logits, err := t.net.ForwardT(aug, true)
	if err != nil {
		return train.StepReport{}, err
	}
	defer logits.MustDrop()
	loss, err := galaxycnn.Loss(logits, y)
	if err != nil {
		return train.StepReport{}, err
	}
	defer loss.MustDrop()
	if err := loss.Backward(); err != nil {
		return train.StepReport{}, err
	}
	v, err := tensors.Scalar(loss)
	if err != nil {
		return train.StepReport{}, err
	}
	skipped, err := t.sess.Guard.Update(step, v, t.sess.Opt)
	t.seconds += time.Since(begin).Seconds()
	if err != nil || skipped {
		return train.StepReport{Loss: v, Skipped: skipped}, err
	}
	t.lossSum, t.lossN = t.lossSum+v, t.lossN+1
	return train.StepReport{Loss: v, Fields: []progress.Field{{Name: "loss", Value: v, Format: "%.3f"}}}, nil
}

// orient flips the batch horizontally on odd steps and turns it by
// (step/2)%4 quarter turns: the eight symmetries of the square in turn.
func orient(x *ts.Tensor, step int) (*ts.Tensor, error) {
	turned, err := x.Rot90(int64((step/2)%4), []int64{2, 3}, false)
	if err != nil || step%2 == 0 {
		return turned, err
	}
	return turned.Flip([]int64{3}, true)
}

// Evaluate writes the train row (mean loss of the steps since the last
// row) and the validation and test accuracy, and keeps the best
// validation model.
func (t *classifierTask) Evaluate(done int) error {
	epoch := float64(done) / float64(t.perEpoch)
	if t.lossN > 0 {
		if err := t.sess.Metrics.Write(epoch, done, runrec.Train, t.lossSum/float64(t.lossN), "", t.seconds); err != nil {
			return err
		}
		t.lossSum, t.lossN = 0, 0
	}
	at := map[string]float64{}
	for _, sp := range []struct {
		name string
		x    *ts.Tensor
		y    []int64
	}{{runrec.Val, t.data.ValX, t.data.ValY}, {runrec.Test, t.data.TestX, t.data.TestY}} {
		acc, _, err := Accuracy(t.net, sp.x, sp.y)
		if err != nil {
			return fmt.Errorf("evaluate %s: %w", sp.name, err)
		}
		if err := t.sess.Metrics.Write(epoch, done, sp.name, "", acc, t.seconds); err != nil {
			return err
		}
		at[runrec.Metric(sp.name, runrec.Accuracy)] = acc
	}
	_, err := t.sess.Offer(done, at, checkpoint.Meta{Step: int64(done)})
	return err
}

// Save checkpoints the run after `done` steps.
func (t *classifierTask) Save(done int, seconds float64) error {
	return t.sess.Save(checkpoint.Meta{Step: int64(done), Seconds: seconds, StepSeconds: t.seconds})
}

// split says what the classifier trains, validates and tests on.
func (t *classifierTask) split() *runrec.Split {
	return &runrec.Split{Train: t.data.NTrain, Val: t.data.NVal, Test: t.data.NTest, Unit: "galaxies",
		ValFraction: t.cfg.ValFraction, ValSeed: ValSeed(t.cfg.DataSeed()), SplitSeed: t.cfg.DataSeed(), StratifiedBy: "class", TrainEval: "running mean of batch losses (augmented)"}
}

// finish reloads the best validation model, measures it on the test split
// (overall and per class) and writes summary.json.
func (t *classifierTask) finish(run train.Result) error {
	if _, err := checkpoint.Load(t.sess.Best.Dir, t.sess.Vars, nil); err != nil {
		return err
	}
	res := map[string]float64{runrec.Epochs: float64(t.cfg.Epochs), runrec.TrainImages: float64(t.data.NTrain),
		runrec.ValImages: float64(t.data.NVal), runrec.TestImages: float64(t.data.NTest)}
	acc, perClass, err := Accuracy(t.net, t.data.TestX, t.data.TestY)
	if err != nil {
		return err
	}
	res[runrec.TestAccuracy] = acc
	for c, a := range perClass {
		if !math.IsNaN(a) { // a class with no test images has no accuracy
			res[runrec.PerClass(runrec.TestAccuracy, datasets.Class(c).String())] = a
		}
	}
	note := fmt.Sprintf("test accuracy of the best validation model (step %d): %.3f", t.sess.Best.Step, acc)
	t.log.Print(note)
	return t.sess.Finish(run, runrec.Summary{Data: &t.data.Source, Results: res, Notes: []string{note}, Split: t.split()})
}
