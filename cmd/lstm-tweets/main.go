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

	"torchlab/internal/cli"
	"torchlab/internal/runrec"
	"torchlab/models/charlstm/pretrained"
)

func init() { runtime.LockOSThread() }

func main() {
	cli.Main("lstm-tweets", func(args []string) error {
		return dispatch(args, os.Stdin, os.Stdout, os.Stderr)
	})
}

// command is lstm-tweets' help: its subcommands, examples and the reasons
// behind its defaults (--help-long).
var command = cli.Command{
	Name:    "lstm-tweets",
	Summary: "trains and uses a character-level LSTM that tells negative from positive tweets",
	Subcommands: []cli.Subcommand{
		{Name: "train", Args: "[flags]", Summary: "train; Ctrl-C saves a checkpoint, --resume continues"},
		{Name: "predict", Args: "[flags] [text...]", Summary: "classify texts: the arguments, --file FILE, or standard input"},
		{Name: "plots", Args: "[--out DIR]", Summary: "redraw the figures from DIR/metrics.csv"},
		{Name: "export", Args: "--format pt|safetensors --out FILE [RUN_DIR]", Summary: "write a run's best (else last) weights, or without RUN_DIR the shipped model's, as a PyTorch state_dict"},
	},
	Examples: []string{
		"lstm-tweets train --iterations 2000 --out out/lstm-try",
		"lstm-tweets predict \"I love this song\"",
		"lstm-tweets predict --out out/lstm-try --file tweets.txt --json",
		"lstm-tweets train --resume --out out/lstm-try --iterations 4000",
		"lstm-tweets plots --out out/lstm-try",
	},
	Long: trainLong,
}

// dispatch runs the subcommand named by args[0].
func dispatch(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	sub, args, err := command.Dispatch(args, stdout, stderr)
	if err != nil {
		return err
	}
	switch sub {
	case "export": // without RUN_DIR: the shipped model
		return cli.Export("lstm-tweets", args, stderr, pretrained.Extract)
	case "predict":
		cfg, err := parsePredict(args, stdout, stderr)
		if err != nil {
			return err
		}
		return predict(cfg, stdin, stdout, stderr)
	case "plots":
		fs := command.FlagSet("plots", stdout, stderr)
		out := fs.String("out", defaultOut, "output folder holding metrics.csv")
		if err := command.Parse(fs, args, false); err != nil {
			return err
		}
		split, err := runrec.ReadSplit(*out)
		if err != nil {
			return err
		}
		return drawPlots(*out, split)
	default: // train
		cfg, err := parseTrain(args, stdout, stderr)
		if err != nil {
			return err
		}
		return cfg.InOut(checkpointDir(cfg.Out), func() error {
			ctx, stop := cli.Interruptible()
			defer stop()
			return runTrain(ctx, cfg, cli.Logger(stderr))
		})
	}
}
