package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"math"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/datasets"
	"torchlab/internal/cli"
	"torchlab/internal/progress"
	"torchlab/internal/train"
	"torchlab/models/galaxycnn"
	"torchlab/torch/checkpoint"
	"torchlab/torch/optim"
	"torchlab/torch/tensors"
	"torchlab/torch/torchrt"
)

// ClassifierConfig is the classifier subcommand's configuration: a small
// CNN (models/galaxycnn) trained on the same training split as the VAEs
// (same seed, fractions, crop and size give the same galaxies), to judge
// their samples. The checkpoint stores it.
type ClassifierConfig struct {
	cli.Common
	Epochs       int     `json:"epochs"`
	BatchSize    int     `json:"batch_size"`
	LR           float64 `json:"lr"`
	ImageSize    int     `json:"image_size"`
	Crop         int     `json:"crop"`
	TestFraction float64 `json:"test_fraction"`
	ValFraction  float64 `json:"val_fraction"`
	CacheDir     string  `json:"cache_dir"`
	Workers      int     `json:"workers"`
	Limit        int     `json:"limit"`
}

var classifierMayChange = []string{"epochs", "cache-dir", "workers"}

func registerClassifierFlags(c *ClassifierConfig, fs *pflag.FlagSet) error {
	c.Common.AddFlags(fs, "out/vae-galaxy/classifier")
	if err := cli.SetDefault(fs, "blas-threads", "1", "OpenBLAS threads (1: its default of one per core fights libtorch's threads)"); err != nil {
		return err
	}
	fs.IntVar(&c.Epochs, "epochs", 30, "epochs to train (in total, counting resumed ones)")
	fs.IntVar(&c.BatchSize, "batch-size", 64, "images per step")
	fs.Float64Var(&c.LR, "lr", 2e-3, "Adam learning rate")
	fs.IntVar(&c.ImageSize, "image-size", 64, "side of the images after crop and resize (as the VAEs it judges)")
	fs.IntVar(&c.Crop, "crop", 212, "centre crop of the 424x424 originals, in pixels, before resizing")
	fs.Float64Var(&c.TestFraction, "test-fraction", 0.2, "fraction of the galaxies held out for testing (as the VAEs)")
	fs.Float64Var(&c.ValFraction, "val-fraction", 0.1, "fraction of the training galaxies held out for validation; the best validation accuracy keeps its model in <out>/best")
	fs.StringVar(&c.CacheDir, "cache-dir", "", "where prepared images are cached (default: the user cache dir)")
	fs.IntVar(&c.Workers, "workers", 2, "JPEG decoding goroutines")
	fs.IntVar(&c.Limit, "data-size", 0, "use only the first N galaxies of the CSV (0: all)")
	if err := cli.Rename(fs, "limit", "data-size"); err != nil {
		return err
	}
	return nil
}

func parseClassifier(args []string, stdout, stderr io.Writer) (ClassifierConfig, error) {
	return cli.ParseTrain(&command, args, stdout, stderr, cli.TrainFlags[ClassifierConfig]{
		Defaults:      func() ClassifierConfig { return ClassifierConfig{} },
		Register:      registerClassifierFlags,
		Common:        func(c *ClassifierConfig) *cli.Common { return &c.Common },
		CheckpointDir: func(c *ClassifierConfig) string { return filepath.Join(c.Out, "checkpoint") },
		MayChange:     classifierMayChange,
		// A resumed run stays in the folder it was read from.
		Resumed: func(saved, typed *ClassifierConfig) { saved.Out = typed.Out },
	})
}

// Check returns a UsageError for each flag whose value is wrong.
func (c ClassifierConfig) Check() error {
	return errors.Join(
		cli.Need("epochs", c.Epochs, c.Epochs >= 1, ">= 1"),
		cli.Need("batch-size", c.BatchSize, c.BatchSize >= 2, ">= 2"),
		cli.Need("lr", c.LR, c.LR > 0, "> 0"),
		cli.Need("val-fraction", c.ValFraction, c.ValFraction > 0 && c.ValFraction < 1, "in (0, 1)"),
		cli.Need("test-fraction", c.TestFraction, c.TestFraction > 0 && c.TestFraction < 1, "in (0, 1)"),
		cli.Need("data-size", c.Limit, c.Limit >= 0, ">= 0"),
		cli.Need("workers", c.Workers, c.Workers >= 1, ">= 1"),
	)
}

func (c ClassifierConfig) dataOptions() dataOptions {
	return dataOptions{DataDir: c.DataDir, CacheDir: c.CacheDir, Crop: c.Crop, Size: c.ImageSize, Workers: c.Workers,
		Limit: c.Limit, TestFraction: c.TestFraction, ValFraction: c.ValFraction, Seed: c.Seed}
}

// netConfig is the classifier's architecture for this run's image size.
func (c ClassifierConfig) netConfig() galaxycnn.Config {
	n := galaxycnn.DefaultConfig(int64(datasets.NumClasses))
	n.ImageSize = int64(c.ImageSize)
	return n
}

// classifierHeader is the classifier's metrics.csv header: loss is the
// mean cross-entropy (train: of the steps since the last row, on augmented
// images), accuracy over the whole split.
var classifierHeader = []string{"epoch", "step", "split", "loss", "accuracy", "seconds"}

// classifierTrainer is the loop's train.Task for the classifier.
type classifierTrainer struct {
	cfg      ClassifierConfig
	sess     *train.Session
	net      *galaxycnn.Net
	data     *galaxyData
	log      *log.Logger
	perEpoch int64
	order    []int
	orderOf  int64
	lossSum  float64
	lossN    int
	seconds  float64
}

// runClassifier trains (or resumes) the classifier as cfg says, into
// cfg.Out; a cancelled ctx saves a checkpoint and returns
// train.ErrInterrupted.
func runClassifier(ctx context.Context, cfg ClassifierConfig, lg *log.Logger) error {
	if err := cfg.Check(); err != nil {
		return err
	}
	su, par, err := cfg.StartRun(lg)
	if err != nil {
		return err
	}
	defer par.Leave()
	data, err := loadData(cfg.dataOptions(), su.Log)
	if err != nil {
		return err
	}
	defer data.Drop()
	t := &classifierTrainer{cfg: cfg, data: data, log: su.Log, orderOf: -1, perEpoch: stepsPerEpoch(data.nTrain, cfg.BatchSize)}
	vs := nn.NewVarStore(gotch.CPU)
	if t.net, err = galaxycnn.New(vs.Root(), cfg.netConfig()); err != nil {
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
	su.Config, su.Columns, su.StepColumn = cfg, classifierHeader, "step"
	su.Select, su.Higher = "val_accuracy", true
	if t.sess, err = train.Open(su, named, opt); err != nil {
		return err
	}
	defer t.sess.Close()
	if r := t.sess.Resumed; r != nil {
		t.seconds = r.StepSeconds
	}
	perEpoch := int(t.perEpoch)
	plan := train.Plan{Label: "classifier", Unit: "step", Total: perEpoch * cfg.Epochs,
		EvaluateAt: train.Every(perEpoch), SaveAt: train.Every(perEpoch * 5)}
	res, err := t.sess.Run(ctx, plan, t)
	if err != nil {
		return err
	}
	if res.Interrupted {
		return t.sess.Finish(res, train.Summary{Data: t.data.source, Split: t.split()})
	}
	return t.finish(res)
}

// Step trains on one batch of the epoch's order, flipped and rotated.
func (t *classifierTrainer) Step(step int) (train.StepReport, error) {
	epoch, b := int64(step)/t.perEpoch, int64(step)%t.perEpoch
	if epoch != t.orderOf {
		t.order, t.orderOf = train.EpochOrder(t.cfg.Seed, int(epoch), t.data.nTrain), epoch
	}
	begin := time.Now()
	idx := batchIndices(t.order, b, t.cfg.BatchSize)
	x, _, err := t.data.batch(t.data.trainX, nil, idx)
	if err != nil {
		return train.StepReport{}, err
	}
	defer x.MustDrop()
	labels := make([]int64, len(idx))
	for i, j := range idx {
		labels[i] = t.data.trainY[j]
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
func (t *classifierTrainer) Evaluate(done int) error {
	epoch := float64(done) / float64(t.perEpoch)
	if t.lossN > 0 {
		if err := t.sess.Metrics.Write(epoch, done, "train", t.lossSum/float64(t.lossN), "", t.seconds); err != nil {
			return err
		}
		t.lossSum, t.lossN = 0, 0
	}
	at := map[string]float64{}
	for _, sp := range []struct {
		name string
		x    *ts.Tensor
		y    []int64
	}{{"val", t.data.valX, t.data.valY}, {"test", t.data.testX, t.data.testY}} {
		acc, _, err := classifierAccuracy(t.net, sp.x, sp.y)
		if err != nil {
			return fmt.Errorf("evaluate %s: %w", sp.name, err)
		}
		if err := t.sess.Metrics.Write(epoch, done, sp.name, "", acc, t.seconds); err != nil {
			return err
		}
		at[sp.name+"_accuracy"] = acc
	}
	_, err := t.sess.Offer(done, at, checkpoint.Meta{Step: int64(done)})
	return err
}

// Save checkpoints the run after `done` steps.
func (t *classifierTrainer) Save(done int, seconds float64) error {
	return t.sess.Save(checkpoint.Meta{Step: int64(done), Seconds: seconds, StepSeconds: t.seconds})
}

// split says what the classifier trains, validates and tests on.
func (t *classifierTrainer) split() *train.Split {
	return &train.Split{Train: t.data.nTrain, Val: t.data.nVal, Test: t.data.nTest, Unit: "galaxies",
		ValFraction: t.cfg.ValFraction, ValSeed: valSeed(t.cfg.Seed), StratifiedBy: "class", TrainEval: "running mean of batch losses (augmented)"}
}

// finish reloads the best validation model, measures it on the test split
// (overall and per class) and writes summary.json.
func (t *classifierTrainer) finish(run train.Result) error {
	if _, err := checkpoint.Load(t.sess.Best.Dir, t.sess.Vars, nil); err != nil {
		return err
	}
	res := map[string]float64{"epochs": float64(t.cfg.Epochs), "train_images": float64(t.data.nTrain),
		"val_images": float64(t.data.nVal), "test_images": float64(t.data.nTest)}
	acc, perClass, err := classifierAccuracy(t.net, t.data.testX, t.data.testY)
	if err != nil {
		return err
	}
	res["test_accuracy"] = acc
	for c, a := range perClass {
		if !math.IsNaN(a) { // a class with no test images has no accuracy
			res["test_accuracy_"+datasets.Class(c).String()] = a
		}
	}
	note := fmt.Sprintf("test accuracy of the best validation model (step %d): %.3f", t.sess.Best.Step, acc)
	t.log.Print(note)
	return t.sess.Finish(run, train.Summary{Data: t.data.source, Results: res, Notes: []string{note}, Split: t.split()})
}

// classifierAccuracy is the share of images x [N, 3, S, S] the net
// assigns to their class y, overall and per class (NaN for a class with
// no images).
func classifierAccuracy(net *galaxycnn.Net, x *ts.Tensor, y []int64) (float64, []float64, error) {
	var pred []int64
	err := torchrt.NoGrad(func() error {
		var err error
		pred, err = net.Predict(x, 256)
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	return agreement(pred, y)
}

// agreement is the share of pred equal to want, overall and per wanted
// class.
func agreement(pred, want []int64) (float64, []float64, error) {
	if len(pred) != len(want) || len(want) == 0 {
		return 0, nil, fmt.Errorf("agreement: %d predictions for %d labels", len(pred), len(want))
	}
	hits, per, n := 0, make([]float64, datasets.NumClasses), make([]float64, datasets.NumClasses)
	for i, w := range want {
		n[w]++
		if pred[i] == w {
			hits++
			per[w]++
		}
	}
	for c := range per {
		per[c] /= n[c] // NaN for an empty class
	}
	return float64(hits) / float64(len(want)), per, nil
}
