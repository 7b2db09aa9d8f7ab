// Command lstm-tweets trains and uses a character-level LSTM that tells
// negative from positive tweets (models/charlstm).
//
//	lstm-tweets [train] [flags]           train (the default subcommand)
//	lstm-tweets predict [flags] [text...] classify texts (or stdin lines)
//	lstm-tweets plots [--out DIR]         redraw the figures from metrics.csv
//	lstm-tweets export --format pt|safetensors --out FILE [RUN_DIR]
//	                                      the weights as a PyTorch state_dict
//	                                      (without RUN_DIR: the shipped model)
package main

import (
	"io"
	"os"
	"runtime"

	"github.com/spf13/pflag"

	"torchlab/internal/cli"
	"torchlab/internal/train"
	"torchlab/models/charlstm/pretrained"
)

func init() { runtime.LockOSThread() }

func main() {
	cli.Main("lstm-tweets", func(args []string) error {
		return dispatch(args, os.Stdin, os.Stdout, os.Stderr)
	})
}

// dispatch runs the subcommand named by args[0] (train when absent).
func dispatch(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	sub, args := cli.Subcommand(args, "train", "train", "predict", "plots", "export")
	switch sub {
	case "export": // without RUN_DIR: the shipped model
		return cli.Export("lstm-tweets", args, stderr, pretrained.Extract)
	case "predict":
		cfg, err := parsePredict(args, stderr)
		if err != nil {
			return err
		}
		return predict(cfg, stdin, stdout, stderr)
	case "plots":
		fs := pflag.NewFlagSet("lstm-tweets plots", pflag.ContinueOnError)
		fs.SetOutput(stderr)
		out := fs.String("out", defaultOut, "output folder holding metrics.csv")
		if err := fs.Parse(args); err != nil {
			return err
		}
		split, err := train.ReadSplit(*out)
		if err != nil {
			return err
		}
		return drawPlots(*out, split)
	default: // train
		cfg, err := parseTrain(args, stderr)
		if err != nil {
			return err
		}
		if err := cfg.Common.Runtime(); err != nil {
			return err
		}
		ctx, stop := cli.Interruptible()
		defer stop()
		return runTrain(ctx, cfg, stderr)
	}
}
