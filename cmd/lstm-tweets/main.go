// Command lstm-tweets trains and uses a character-level LSTM that tells
// negative from positive tweets (models/charlstm).
//
//	lstm-tweets [train] [flags]           train (the default subcommand)
//	lstm-tweets predict [flags] [text...] classify texts (or stdin lines)
//	lstm-tweets plots [--out DIR]         redraw the figures from metrics.csv
package main

import (
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"runtime"
	"strings"

	"github.com/spf13/pflag"

	"torchlab/internal/run"
)

func init() { runtime.LockOSThread() }

func main() {
	log.SetFlags(0)
	log.SetPrefix("lstm-tweets: ")
	err := dispatch(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, pflag.ErrHelp):
	case errors.Is(err, errInterrupted):
		log.Print(err)
		os.Exit(130)
	case err != nil:
		log.Fatal(err)
	}
}

// dispatch runs the subcommand named by args[0] (train when absent).
func dispatch(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	sub := "train"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	switch sub {
	case "train":
		cfg, err := parseTrain(args, stderr)
		if err != nil {
			return err
		}
		if err := cfg.Common.Runtime(); err != nil {
			return err
		}
		ctx, stop := run.Interruptible()
		defer stop()
		return train(ctx, cfg, stderr)
	case "predict":
		cfg, err := parsePredict(args, stderr)
		if err != nil {
			return err
		}
		return predict(cfg, stdin, stdout)
	case "plots":
		fs := pflag.NewFlagSet("lstm-tweets plots", pflag.ContinueOnError)
		fs.SetOutput(stderr)
		out := fs.String("out", defaultOut, "output folder holding metrics.csv")
		if err := fs.Parse(args); err != nil {
			return err
		}
		return drawPlots(*out)
	}
	return fmt.Errorf("unknown subcommand %q (want train, predict or plots)", sub)
}
