package main

import (
	"errors"
	"path/filepath"

	"github.com/spf13/pflag"

	"torchlab/internal/cli"
	"torchlab/internal/vggmnist"
	"torchlab/models/vgg"
)

const defaultOut = "out/vgg-mnist"

// defaultValFraction holds out 5,000 of MNIST's 60,000 training images.
const defaultValFraction = 5000.0 / 60000

// Config is everything a training run depends on; it is saved with every
// checkpoint and in summary.json.
type Config struct {
	cli.Common
	CheckpointDir string `json:"checkpoint_dir"`
	Epochs        int    `json:"epochs"`
	BatchSize     int    `json:"batch_size"`
	EvalBatchSize int    `json:"eval_batch_size"`
	// EvalChannelsLast evaluates with the convolution weights laid out
	// channels-last (vgg.SetChannelsLast): the same numbers within float
	// rounding, faster (docs/performance.md, "channels-last in Go").
	// Checkpoints from before it read false.
	EvalChannelsLast bool       `json:"eval_channels_last"`
	LR               float64    `json:"lr"`
	Schedule         string     `json:"schedule"` // "cosine" or "constant"
	Optimizer        string     `json:"optimizer"`
	Momentum         float64    `json:"momentum"`
	WeightDecay      float64    `json:"weight_decay"`
	Subset           float64    `json:"subset"`       // stratified fraction of the training set
	TestSubset       float64    `json:"test_subset"`  // stratified fraction of the test set
	ValFraction      float64    `json:"val_fraction"` // of the (subset) training images, held out for validation
	TrainEvalSize    int        `json:"train_eval_size"`
	EvalEvery        int        `json:"eval_every"` // steps; 0: at epoch ends only
	MaxSteps         int        `json:"max_steps"`
	AugmentShift     int        `json:"augment_shift"` // pixels; 0: no augmentation
	Model            vgg.Config `json:"model"`
}

func defaultConfig() Config {
	return Config{
		Epochs:    5,
		BatchSize: 64,
		// 100, not a larger batch: smaller batches keep each layer's
		// activations in cache (docs/performance.md, "The evaluation's
		// batch size").
		EvalBatchSize:    vggmnist.DefaultEvalBatch,
		EvalChannelsLast: vggmnist.DefaultEvalChannelsLast,
		LR:               1e-4,
		Schedule:         "cosine",
		Optimizer:        "adam",
		Momentum:         0.9,
		Subset:           1,
		TestSubset:       1,
		ValFraction:      defaultValFraction,
		TrainEvalSize:    10000,
		Model:            vgg.DefaultConfig(),
	}
}

func (c *Config) addFlags(fs *pflag.FlagSet) error {
	c.Common.AddFlags(fs, defaultOut)
	fs.StringVar(&c.CheckpointDir, "checkpoint-dir", "", "checkpoint folder (default <out>/checkpoint)")
	fs.IntVar(&c.Epochs, "epochs", c.Epochs, "epochs to train")
	fs.IntVar(&c.BatchSize, "batch-size", c.BatchSize, "training minibatch size")
	fs.IntVar(&c.EvalBatchSize, "eval-batch-size", c.EvalBatchSize, "evaluation batch size (memory only; results do not depend on it)")
	fs.BoolVar(&c.EvalChannelsLast, "eval-channels-last", c.EvalChannelsLast, "evaluate with the convolutions in the channels-last layout (speed only: the same numbers within float rounding)")
	fs.Float64Var(&c.LR, "lr", c.LR, "peak learning rate")
	fs.StringVar(&c.Schedule, "schedule", c.Schedule, "learning-rate schedule: cosine (lr -> 0 over all epochs) or constant")
	fs.StringVar(&c.Optimizer, "optimizer", c.Optimizer, "sgd or adam")
	fs.Float64Var(&c.Momentum, "momentum", c.Momentum, "SGD momentum (ignored by adam)")
	fs.Float64Var(&c.WeightDecay, "weight-decay", c.WeightDecay, "L2 weight decay")
	fs.Float64Var(&c.Subset, "data-fraction", c.Subset, "train on a stratified fraction of the training set (0.1 keeps ~600 images per class)")
	fs.Float64Var(&c.TestSubset, "test-data-fraction", c.TestSubset, "evaluate on a stratified fraction of the test set")
	fs.Float64Var(&c.ValFraction, "val-fraction", c.ValFraction, "fraction of the training images (after --data-fraction) held out for validation, stratified by label; the default is 5,000 of 60,000 (0: none)")
	fs.IntVar(&c.TrainEvalSize, "train-eval-size", c.TrainEvalSize, "train loss/accuracy are measured in eval mode on this fixed stratified sample of the training images (0: all)")
	fs.IntVar(&c.EvalEvery, "eval-every", c.EvalEvery, "also evaluate every N minibatches (0: only at the end of each epoch)")
	fs.IntVar(&c.MaxSteps, "max-steps", c.MaxSteps, "stop (with a checkpoint) after this many steps in total (0: no limit)")
	fs.IntVar(&c.AugmentShift, "augment-shift", c.AugmentShift, "shift each training image by up to this many pixels in each direction, at random (0: no augmentation; at most 4, MNIST's blank border)")
	fs.BoolVar(&c.Model.BatchNorm, "batch-norm", c.Model.BatchNorm, "BatchNorm2d after every convolution")
	fs.Float64Var(&c.Model.Dropout, "dropout", c.Model.Dropout, "classifier dropout probability")
	fs.Int64Var(&c.Model.Hidden, "hidden", c.Model.Hidden, "width of the two hidden classifier layers (VGG11: 4096)")
	fs.StringVar(&c.Model.Init, "init", c.Model.Init, "weight init: torchvision (VGG's kaiming-normal) or pytorch (nn defaults)")
	return errors.Join(cli.Rename(fs, "subset", "data-fraction"), cli.Rename(fs, "test-subset", "test-data-fraction"))
}

// checkpointDir is where checkpoints go.
func (c Config) checkpointDir() string {
	if c.CheckpointDir != "" {
		return c.CheckpointDir
	}
	return filepath.Join(c.Out, "checkpoint")
}

// Check returns a UsageError for each train flag whose value is wrong.
func (c Config) Check() error {
	return errors.Join(
		cli.Need("epochs", c.Epochs, c.Epochs >= 1, ">= 1"),
		cli.Need("batch-size", c.BatchSize, c.BatchSize >= 1, ">= 1"),
		cli.Need("eval-batch-size", c.EvalBatchSize, c.EvalBatchSize >= 1, ">= 1"),
		cli.Need("lr", c.LR, c.LR > 0, "> 0"),
		cli.OneOf("schedule", c.Schedule, "cosine", "constant"),
		cli.OneOf("optimizer", c.Optimizer, "adam", "sgd"),
		cli.Need("momentum", c.Momentum, c.Momentum >= 0 && c.Momentum < 1, "in [0, 1)"),
		cli.Need("weight-decay", c.WeightDecay, c.WeightDecay >= 0, ">= 0"),
		cli.Need("augment-shift", c.AugmentShift, c.AugmentShift >= 0 && c.AugmentShift <= 4, "0 to 4 pixels (MNIST's blank border)"),
		cli.Need("eval-every", c.EvalEvery, c.EvalEvery >= 0, ">= 0"),
		cli.Need("max-steps", c.MaxSteps, c.MaxSteps >= 0, ">= 0"),
		cli.Need("train-eval-size", c.TrainEvalSize, c.TrainEvalSize >= 0, ">= 0"),
		cli.Need("data-fraction", c.Subset, c.Subset > 0 && c.Subset <= 1, "in (0, 1]"),
		cli.Need("test-data-fraction", c.TestSubset, c.TestSubset > 0 && c.TestSubset <= 1, "in (0, 1]"),
		cli.Need("val-fraction", c.ValFraction, c.ValFraction >= 0 && c.ValFraction < 1, "in [0, 1)"),
		cli.Need("dropout", c.Model.Dropout, c.Model.Dropout >= 0 && c.Model.Dropout < 1, "in [0, 1)"),
		cli.Need("hidden", c.Model.Hidden, c.Model.Hidden >= 1, ">= 1"),
		cli.OneOf("init", c.Model.Init, vgg.InitTorchvision, vgg.InitPyTorch),
	)
}
