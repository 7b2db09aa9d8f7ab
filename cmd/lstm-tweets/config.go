package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"torchlab/internal/cli"
	"torchlab/internal/train"
	"torchlab/models/charlstm"
	"torchlab/models/ngramlr"
	"torchlab/torch/checkpoint"
	"torchlab/torch/optim"
)

const defaultOut = "out/lstm-tweets"

// Config is everything a training run depends on; it is saved with
// every checkpoint, and --resume continues with the saved one.
type Config struct {
	cli.Common
	Train       string          `json:"train"`
	Test        string          `json:"test"`
	Iterations  int             `json:"iterations"`
	BatchSize   int             `json:"batch_size"`
	LR          float64         `json:"lr"`
	Optimizer   string          `json:"optimizer"`
	Schedule    string          `json:"schedule,omitempty"` // "" is constant
	WeightDecay float64         `json:"weight_decay,omitempty"`
	EvalEvery   int             `json:"eval_every"`
	EvalBatch   int             `json:"eval_batch"`
	MaxLen      int             `json:"max_len"`
	SkipBad     bool            `json:"skip_bad"`
	TrainSample int             `json:"train_sample"`
	ValFraction float64         `json:"val_fraction"` // of the training CSV, stratified by label
	Bucket      int             `json:"bucket"`
	CharDropout float64         `json:"char_dropout,omitempty"` // share of training characters replaced by NUL
	Model       charlstm.Config `json:"model"`                  // the LSTM's (--model lstm)
	// Arch is the model (--model): "" or lstm, the LSTM; ngram, the
	// baseline, whose shape NGram holds.
	Arch  string          `json:"arch,omitempty"`
	NGram *ngramlr.Config `json:"ngram,omitempty"`

	// afterStep, when set (tests), is called after every optimiser step
	// with the iteration just done (1-based) and its batch loss.
	afterStep func(it int, loss float64)
}

// trainLong is --help-long: what training does and why the defaults.
const trainLong = `Training: the character-level LSTM on tweets (one-hot ASCII -> LSTM(128) ->
Linear(128, 2) -> log-softmax, NLL loss), evaluating every --eval-every
iterations on a fixed random sample of --train-eval-size training tweets (eval
mode), on the validation split and on the whole test set.

Validation: --val-fraction of the training CSV (5 % by default), drawn with
--seed and stratified by label, is held out of training. The best
validation accuracy so far keeps its model in <out>/best (best.json says
the step, its validation and its test accuracy); the test set is evaluated
for the report and never chooses. --val-fraction 0 trains on the whole
file, as before the split existed.

Text is encoded by datasets.EncodeText: HTML entities unescaped, every
non-ASCII character becomes 26 (SUB), an empty tweet a single space; tweets
are cut to --max-len characters (280 keeps every tweet of the shared data
whole but one of 359).

Optimiser: Adam is the default. At lr 1e-4 and batch 32, plain SGD does not
move in a few thousand iterations (measured over 3000 iterations: test loss
0.6933 -> 0.6933, accuracy 47%), while Adam at the same rate reaches test
loss 0.635 and accuracy 64% in the same 3000 iterations.

Batches: each epoch is a random permutation of the training set
(derived from --seed and the epoch number, so --resume continues with the
exact batches); with --bucket N the permutation is cut into pools of N
batches, each pool sorted by length and cut into batches, and the batches
shuffled, so a batch holds tweets of similar length and the padded LSTM
spends few steps on padding. --bucket 0 gives plain random batches.

--resume continues from <out>/checkpoint with the saved configuration;
only --iterations, --eval-every, --eval-batch-size, --out, --data-dir, --threads,
--blas-threads and --device may change (another value of any other flag is
an error: it would change what is computed). metrics.csv keeps its rows up
to the checkpoint's iteration, so each iteration appears once.

Outputs in --out: metrics.csv (iteration,split,loss,accuracy,seconds),
summary.json, test_accuracy.png, train_accuracy.png, accuracy.png, loss.png,
checkpoint/ (saved at every evaluation and on Ctrl-C) and best/.
`

// resumeMayChange are the train flags a resumed run may change (besides
// train.AlwaysMayChange): when to stop and when to evaluate, not what.
var resumeMayChange = []string{"iterations", "eval-every", "eval-batch-size", "eval-batch"}

// parseTrain reads the train flags; with --resume the configuration is the
// checkpoint's (train.Resume) with only resumeMayChange applied.
func parseTrain(args []string, stdout, stderr io.Writer) (Config, error) {
	return cli.ParseTrain(&command, args, stdout, stderr, cli.TrainFlags[Config]{
		Defaults: func() Config { return Config{Model: charlstm.DefaultConfig()} },
		Register: registerTrainFlags,
		Common:   func(c *Config) *cli.Common { return &c.Common },
		Parsed: func(c *Config) {
			if c.Arch == modelNGram && c.NGram == nil {
				ng := ngramlr.DefaultConfig()
				c.NGram = &ng
			}
		},
		CheckpointDir: func(c *Config) string { return checkpointDir(c.Out) },
		MayChange:     resumeMayChange,
	})
}

// Check returns a UsageError for each train flag whose value is wrong.
func (cfg Config) Check() error {
	return errors.Join(
		cli.Need("iterations", cfg.Iterations, cfg.Iterations >= 0, ">= 0"),
		cli.Need("batch-size", cfg.BatchSize, cfg.BatchSize >= 1, ">= 1"),
		cli.Need("lr", cfg.LR, cfg.LR > 0, "> 0"),
		cli.OneOf("optimizer", cfg.Optimizer, "adam", "sgd"),
		cli.Need("schedule", fmt.Sprintf("%q", cfg.Schedule), cfg.Schedule == "" || slices.Contains(optim.Schedules, cfg.Schedule), "one of "+strings.Join(optim.Schedules, ", ")),
		cli.Need("weight-decay", cfg.WeightDecay, cfg.WeightDecay >= 0, ">= 0"),
		cli.Need("eval-every", cfg.EvalEvery, cfg.EvalEvery >= 1, ">= 1"),
		cli.Need("eval-batch-size", cfg.EvalBatch, cfg.EvalBatch >= 1, ">= 1"),
		cli.Need("max-len", cfg.MaxLen, cfg.MaxLen >= 1, ">= 1"),
		cli.Need("train-eval-size", cfg.TrainSample, cfg.TrainSample >= 0, ">= 0"),
		cli.Need("val-fraction", cfg.ValFraction, cfg.ValFraction >= 0 && cfg.ValFraction < 1, "in [0, 1)"),
		cli.Need("bucket", cfg.Bucket, cfg.Bucket >= 0, ">= 0"),
		cli.Need("dropout", cfg.Model.Dropout, cfg.Model.Dropout >= 0 && cfg.Model.Dropout < 1, "in [0, 1)"),
		cli.Need("char-dropout", cfg.CharDropout, cfg.CharDropout >= 0 && cfg.CharDropout < 1, "in [0, 1)"),
		cli.OneOf("model", cfg.arch(), modelLSTM, modelNGram),
		cli.Need("model", cfg.arch(), cfg.arch() != modelNGram || (cfg.Model.Dropout == 0 && !cfg.Model.FusedLSTM), "lstm with --dropout or --fused-lstm (the LSTM's)"),
		cli.Need("model", cfg.arch(), cfg.arch() != modelNGram || cfg.NGram != nil, "lstm for a configuration without the n-gram model's shape"),
	)
}

// arch is the model the run trains (--model).
func (cfg Config) arch() string {
	if cfg.Arch == "" {
		return modelLSTM
	}
	return cfg.Arch
}

// registerTrainFlags registers the train flags on fs, bound to cfg.
func registerTrainFlags(cfg *Config, fs *pflag.FlagSet) error {
	cfg.Common.AddFlags(fs, defaultOut)
	// One intra-op thread is fastest for this model: its per-step tensors
	// are too small to split, and a second thread only adds
	// synchronisation (docs/decisions.md).
	if err := cli.SetDefault(fs, "threads", "1", "libtorch intra-op threads (1 is fastest here: the per-step tensors are too small to split)"); err != nil {
		return err
	}
	if err := cli.SetDefault(fs, "blas-threads", "1", "OpenBLAS threads (its default, one per core, is 3x slower on these small products)"); err != nil {
		return err
	}
	fs.StringVar(&cfg.Train, "train", "", "training CSV (default <data-dir>/tweets/tweetstrain.csv)")
	fs.StringVar(&cfg.Test, "test", "", "test CSV (default <data-dir>/tweets/tweetstest.csv)")
	fs.IntVar(&cfg.Iterations, "iterations", 100000, "optimiser steps in total")
	fs.IntVar(&cfg.BatchSize, "batch-size", 32, "tweets per step")
	fs.Float64Var(&cfg.LR, "lr", 1e-4, "learning rate")
	fs.StringVar(&cfg.Optimizer, "optimizer", "adam", "adam or sgd (plain SGD at 1e-4 barely learns; see above)")
	fs.StringVar(&cfg.Schedule, "schedule", "constant", "learning-rate schedule: constant, or cosine (--lr down to 0 at --iterations); constant by default, the assignment's fixed rate, where vgg-mnist's default is the cosine its runs were tuned with")
	fs.Float64Var(&cfg.WeightDecay, "weight-decay", 0, "L2 penalty added to every gradient (torch.optim's weight_decay)")
	fs.IntVar(&cfg.EvalEvery, "eval-every", 1000, "iterations between evaluations (and checkpoints)")
	fs.IntVar(&cfg.EvalBatch, "eval-batch-size", 500, "tweets per evaluation batch (no grad; memory only, results do not depend on it)")
	fs.IntVar(&cfg.MaxLen, "max-len", 280, "characters kept per tweet")
	fs.BoolVar(&cfg.SkipBad, "skip-bad", false, "skip malformed CSV rows (counted in the log) instead of failing")
	fs.IntVar(&cfg.TrainSample, "train-eval-size", 5000, "train loss/accuracy are measured in eval mode on this fixed random sample of the training tweets (0: all)")
	fs.Float64Var(&cfg.ValFraction, "val-fraction", 0.05, "fraction of the training tweets held out for validation, stratified by label (0: none)")
	fs.IntVar(&cfg.Bucket, "bucket", 50, "batches per length-sorted pool (0: plain random batches)")
	fs.Float64Var(&cfg.Model.Dropout, "dropout", 0, "dropout on the final hidden state before the linear layer, in training (0: none, the assignment's model)")
	fs.Float64Var(&cfg.CharDropout, "char-dropout", 0, "replace this share of each training tweet's characters by NUL (code 0) at random, a regulariser (0: none)")
	fs.StringVar(&cfg.Arch, "model", "", "the model: lstm (models/charlstm; the default, also when empty) or ngram, the baseline: logistic regression on hashed character 1- to 4-grams (models/ngramlr; the same data, split and loop)")
	fs.BoolVar(&cfg.Model.FusedLSTM, "fused-lstm", false, "run the LSTM through torch/lstmfused: one C++ call forward and one backward, no work on padding (4.8x libtorch's lstm per step at one thread; same results to ~1e-6, not bit for bit)")
	for _, r := range [][2]string{{"eval-batch", "eval-batch-size"}, {"train-sample", "train-eval-size"}} {
		if err := cli.Rename(fs, r[0], r[1]); err != nil {
			return err
		}
	}
	return nil
}

// predictConfig configures the predict subcommand.
type predictConfig struct {
	Checkpoint  string
	InitFrom    string // a PyTorch state_dict file instead of a checkpoint
	Shipped     bool   // no --out or --checkpoint and no model at the default --out: the shipped one
	Threads     int
	BLASThreads int
	Texts       []string
	File        string // texts one per line; "-" is standard input
	JSON        bool   // JSON lines instead of text
}

func parsePredict(args []string, stdout, stderr io.Writer) (*predictConfig, error) {
	cfg := &predictConfig{}
	fs := command.FlagSet("predict", stdout, stderr)
	out := fs.String("out", defaultOut, "training output folder; the model is <out>/best (best validation accuracy) when it exists, else <out>/checkpoint; with neither flag and no model there, the shipped model (models/charlstm/pretrained)")
	fs.StringVar(&cfg.Checkpoint, "checkpoint", "", "checkpoint folder (overrides --out)")
	fs.StringVar(&cfg.InitFrom, "init-from", "", "a PyTorch state_dict file to classify with instead (overrides --out and --checkpoint): .pt or .safetensors of the default model, or a .safetensors from `lstm-tweets export`, whose configuration it carries")
	fs.StringVar(&cfg.File, "file", "", "read the texts from this file, one per line (-: standard input, also the default without text arguments); blank lines are skipped")
	fs.BoolVar(&cfg.JSON, "json", false, `print one JSON object per text: {"text", "class", "label", "p_negative", "p_positive"}`)
	fs.IntVar(&cfg.Threads, "threads", 1, "libtorch intra-op threads")
	fs.IntVar(&cfg.BLASThreads, "blas-threads", 1, "OpenBLAS threads")
	if err := command.Parse(fs, args, true); err != nil {
		return nil, err
	}
	if err := errors.Join(
		cli.Need("threads", cfg.Threads, cfg.Threads >= 0, ">= 0 (0: one per core)"),
		cli.Need("blas-threads", cfg.BLASThreads, cfg.BLASThreads >= 0, ">= 0"),
	); err != nil {
		return nil, err
	}
	if cfg.File != "" && fs.NArg() > 0 {
		return nil, cli.Usagef("predict: texts come from --file %s or from the arguments, not both (got %q)", cfg.File, fs.Args())
	}
	if cfg.Checkpoint == "" {
		cfg.Checkpoint = checkpointDir(*out)
		if checkpoint.Exists(train.BestDir(*out)) {
			cfg.Checkpoint = train.BestDir(*out)
		}
	}
	typed := fs.Changed("out") || fs.Changed("checkpoint")
	cfg.Shipped = !typed && cfg.InitFrom == "" && !checkpoint.Exists(cfg.Checkpoint)
	cfg.Texts = fs.Args()
	return cfg, nil
}
