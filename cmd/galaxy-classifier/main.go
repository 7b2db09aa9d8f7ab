// Command galaxy-classifier trains the small galaxy CNN (models/galaxycnn)
// that judges the VAEs' samples (vae-galaxy plots --judge), on the same
// training split as the VAEs.
//
//	galaxy-classifier [train] [flags]   train (the default subcommand)
//	galaxy-classifier export --format pt|safetensors --out FILE RUN_DIR
package main

import (
	"context"
	"errors"
	"io"
	"log"
	"os"
	"path/filepath"
	"runtime"

	"github.com/spf13/pflag"

	"torchlab/internal/cli"
	"torchlab/internal/galaxy"
)

// Each libtorch call must come from one OS thread (see torch/torchrt).
func init() { runtime.LockOSThread() }

func main() {
	cli.Main("galaxy-classifier", func(args []string) error {
		return run(args, os.Stdout, os.Stderr)
	})
}

// command is galaxy-classifier's help.
var command = cli.Command{
	Name:    "galaxy-classifier",
	Summary: "trains the galaxy CNN that judges the VAEs' samples (vae-galaxy plots --judge)",
	Subcommands: []cli.Subcommand{
		{Name: "train", Args: "[flags]", Summary: "train; Ctrl-C saves a checkpoint, --resume continues"},
		{Name: "export", Args: "--format pt|safetensors --out FILE RUN_DIR", Summary: "write a run's best (else last) weights as a PyTorch state_dict"},
	},
	Examples: []string{
		"galaxy-classifier train --out out/galaxy-classifier",
		"vae-galaxy plots --out out/vae-galaxy/conv --judge out/galaxy-classifier",
	},
}

// run runs the subcommand that args name.
func run(args []string, stdout, stderr io.Writer) error {
	sub, args, err := command.Dispatch(args, stdout, stderr)
	if err != nil {
		return err
	}
	if sub == "export" {
		return cli.Export("galaxy-classifier", args, stderr, nil)
	}
	cfg, err := parseTrain(args, stdout, stderr)
	if err != nil {
		return err
	}
	return cfg.InOut(filepath.Join(cfg.Out, "checkpoint"), func() error {
		ctx, stop := cli.Interruptible()
		defer stop()
		return runTrain(ctx, cfg, cli.Logger(stderr))
	})
}

// Config is the classifier's configuration; the checkpoint stores it.
type Config struct {
	galaxy.ClassifierConfig
}

// resumeMayChange are the flags a resumed run may change (besides
// train.AlwaysMayChange).
var resumeMayChange = []string{"epochs", "cache-dir", "workers"}

// parseTrain reads the train flags; with --resume the configuration is the
// checkpoint's (train.Resume) with only resumeMayChange applied.
func parseTrain(args []string, stdout, stderr io.Writer) (Config, error) {
	return cli.ParseTrain(&command, args, stdout, stderr, cli.TrainFlags[Config]{
		Defaults:  func() Config { return Config{} },
		Register:  registerTrainFlags,
		Common:    func(c *Config) *cli.Common { return &c.Common },
		MayChange: resumeMayChange,
		KeepOut:   true,
	})
}

// registerTrainFlags registers the train flags on fs, bound to c.
func registerTrainFlags(c *Config, fs *pflag.FlagSet) error {
	c.Common.AddFlags(fs, "out/galaxy-classifier")
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
	return cli.Rename(fs, "limit", "data-size")
}

// Check returns a UsageError for each flag whose value is wrong.
func (c Config) Check() error {
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

// runTrain trains (or resumes) the classifier as cfg says
// (galaxy.TrainClassifier); a cancelled ctx saves a checkpoint and
// returns train.ErrInterrupted.
func runTrain(ctx context.Context, cfg Config, lg *log.Logger) error {
	if err := cfg.Check(); err != nil {
		return err
	}
	return galaxy.TrainClassifier(ctx, cfg.ClassifierConfig, lg)
}
