// Command cnn-calc answers the CNN-basics questions of the assignment (the
// padding that keeps a conv's size, each layer's output size, the receptive
// field of a neuron of the last conv layer, and the weight counts without
// padding and with size-keeping padding) for the assignment's network or any
// network given with --spec, and checks its arithmetic with libtorch.
//
// Usage:
//
//	cnn-calc                       # the assignment's network, with reasoning
//	cnn-calc --spec 'in 32x32x3; conv 8 3x3 p1; pool 2x2; fc 10'
//	cnn-calc --json                # the answers as JSON
//	cnn-calc --markdown            # as Markdown: docs/results/cnn-basics.md
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/spf13/pflag"

	"torchlab/internal/cli"
	"torchlab/internal/cnncalc"
	"torchlab/internal/cnncalc/torchcheck"
	"torchlab/torch/torchrt"
)

// libtorch's thread-local state needs every call on one OS thread.
func init() { runtime.LockOSThread() }

type config struct {
	Spec     string
	JSON     bool
	Markdown bool
	Check    bool
	Threads  int
}

// MarkdownCommand is the command that writes the committed answers; the
// Markdown output names it, and a test compares the file with its output.
const MarkdownCommand = "go run ./cmd/cnn-calc --markdown > docs/results/cnn-basics.md"

func main() {
	cli.Main("cnn-calc", func(args []string) error {
		cfg, err := parseFlags(args, os.Stderr)
		if err != nil {
			return err
		}
		return answer(cfg, os.Stdout, os.Stderr)
	})
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := pflag.NewFlagSet("cnn-calc", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Spec, "spec", cnncalc.DefaultSpec, "the network (grammar below)")
	fs.BoolVar(&cfg.JSON, "json", false, "print the answers as JSON (the libtorch check goes to stderr and under \"libtorch_check\")")
	fs.BoolVar(&cfg.Markdown, "markdown", false, "print the answers as Markdown, as committed in docs/results/cnn-basics.md")
	fs.BoolVar(&cfg.Check, "check", true, "build every variant of the network in libtorch and compare shapes, weight counts and the receptive field; --check=false skips it")
	fs.IntVar(&cfg.Threads, "threads", runtime.NumCPU(), "libtorch intra-op threads for the check")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: cnn-calc [--spec SPEC] [--json | --markdown] [--check=false]\n\n"+
			"Answers the assignment's CNN-basics questions in its order: (1) the padding that keeps\n"+
			"a conv's output size, (2) the output sizes without padding, (3) the receptive field of\n"+
			"the last conv layer, (4) the parameters when every conv keeps its input's size; then\n"+
			"extra material. Checks each answer with libtorch; a mismatch is an error (exit status 1).\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\n%s", cnncalc.Grammar)
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q; give the network with --spec", fs.Args())
	}
	if cfg.JSON && cfg.Markdown {
		return cfg, fmt.Errorf("--json and --markdown: choose one")
	}
	return cfg, nil
}

// output is the JSON document: cnncalc's report plus the libtorch check.
type output struct {
	*cnncalc.Report
	Check *torchcheck.Result `json:"libtorch_check,omitempty"`
}

// answer analyses cfg.Spec, checks it with libtorch unless told not to, and
// prints the answers to stdout. The check's summary goes to stdout after
// the answers, or to stderr with --json.
func answer(cfg config, stdout, stderr io.Writer) error {
	net, err := cnncalc.Parse(cfg.Spec)
	if err != nil {
		return err
	}
	rep, err := cnncalc.Analyze(net)
	if err != nil {
		return err
	}
	var res *torchcheck.Result
	if cfg.Check {
		if _, err := torchrt.Init(torchrt.Config{Threads: cfg.Threads, Seed: 1}); err != nil {
			return err
		}
		if res, err = torchcheck.Check(rep); err != nil {
			return err
		}
	}
	if cfg.JSON {
		b, err := json.MarshalIndent(output{Report: rep, Check: res}, "", "  ")
		if err != nil {
			return fmt.Errorf("json: %w", err)
		}
		if _, err := fmt.Fprintf(stdout, "%s\n", b); err != nil {
			return err
		}
		if res != nil {
			_, err = io.WriteString(stderr, res.Summary())
		}
		return err
	}
	var checks *cnncalc.Checks
	if res != nil {
		checks = res.Checks(rep)
	}
	var text string
	if cfg.Markdown {
		text = markdown(rep, checks)
	} else {
		text = cnncalc.Explain(rep, checks)
	}
	if res == nil {
		text += "\nNot checked by libtorch (--check=false).\n"
	}
	_, err = io.WriteString(stdout, text)
	return err
}

// markdown is the answers as the committed docs/results/cnn-basics.md.
func markdown(rep *cnncalc.Report, checks *cnncalc.Checks) string {
	return "# CNN basics: the assignment's questions (1)-(4)\n\n" +
		"Written by `cnn-calc --markdown` (from the repository's root: `" + MarkdownCommand + "`); " +
		"a test of `cmd/cnn-calc` fails when this file and the command's output differ. " +
		"Each question is quoted, closely paraphrased, in the assignment's order; each answer gives its derivation " +
		"and, under \"Checked\", what libtorch confirmed by building the network. " +
		"Extra material, which the assignment does not ask for, follows the four answers.\n\n" +
		cnncalc.Markdown(rep, checks)
}
