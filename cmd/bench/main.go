// Command bench times torchlab's training steps on random data, apart from
// the training commands; scripts/bench_*.sh run it beside the PyTorch
// references and write docs/results/bench.md (make bench).
//
//	bench vgg [flags]    time vgg-mnist's training steps, its evaluation and the peaks; print JSON
package main

import (
	"io"
	"os"
	"runtime"

	"torchlab/internal/cli"
)

// libtorch's grad mode and gotch's last error are per OS thread.
func init() { runtime.LockOSThread() }

// command is bench's help: its subcommands and examples.
var command = cli.Command{
	Name:    "bench",
	Summary: "times torchlab's training steps on random data",
	Subcommands: []cli.Subcommand{
		{Name: "vgg", Args: "[flags]", Summary: "time VGG11 training steps on random MNIST-shaped data and a matmul; print one JSON line"},
	},
	Examples: []string{
		"bench vgg --threads 2",
		"bench vgg --optimizer adam --steps 0 --eval-images 4000",
	},
}

func main() {
	cli.Main("bench", func(args []string) error {
		return run(args, os.Stdout, os.Stderr)
	})
}

// run runs the subcommand that args name.
func run(args []string, stdout, stderr io.Writer) error {
	sub, args, err := command.Dispatch(args, stdout, stderr)
	if err != nil {
		return err
	}
	switch sub {
	case "vgg":
		return mainVGG(args, stdout, stderr)
	}
	return nil
}

func mainVGG(args []string, stdout, stderr io.Writer) error {
	cfg := defaultBenchConfig()
	fs := command.FlagSet("vgg", stdout, stderr)
	cfg.addFlags(fs)
	if err := command.ParseCommon(fs, args, &cfg.Common); err != nil {
		return err
	}
	if err := cfg.Runtime(); err != nil {
		return err
	}
	return benchVGG(cfg, stdout)
}
