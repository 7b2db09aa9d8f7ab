// Command report writes out/report/report.md (GitHub-renderable, images
// copied beside it) and a self-contained out/report/report.html: the
// CNN-basics answers (checked by libtorch), the VAE theory, and every figure
// and summary number of the newest vgg-mnist, lstm-tweets and vae-galaxy runs.
//
// Usage:
//
//	report                               # newest runs under out/ and docs/results/
//	report --vgg-dir out/demo/vgg-mnist --lstm-dir ... --vae-dir ...
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/spf13/pflag"

	"torchlab/internal/cnncalc"
	"torchlab/internal/cnncalc/torchcheck"
	"torchlab/internal/report"
	"torchlab/internal/run"
	"torchlab/internal/torchrt"
)

// libtorch's thread-local state needs every call on one OS thread.
func init() { runtime.LockOSThread() }

type config struct {
	report.Config
	Check   bool
	Threads int
}

func main() {
	run.Main("report", func(args []string) error {
		cfg, err := parseFlags(args, os.Stderr)
		if err != nil {
			return err
		}
		return write(cfg, os.Stdout)
	})
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	cfg := config{Config: report.Config{Root: "."}}
	fs := pflag.NewFlagSet("report", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Out, "out", "out/report", "report folder: report.md, report.html and img/ (img/ is replaced)")
	dirs := func(cmd string) string {
		return fmt.Sprintf("%s run folder (default: the newest of %v)", cmd, report.DefaultDirs(cmd))
	}
	fs.StringVar(&cfg.VGGDir, "vgg-dir", "", dirs("vgg-mnist"))
	fs.StringVar(&cfg.LSTMDir, "lstm-dir", "", dirs("lstm-tweets"))
	fs.StringVar(&cfg.VAEDir, "vae-dir", "", dirs("vae-galaxy")+"; one subfolder per architecture")
	fs.StringVar(&cfg.Theory, "theory", "docs/theory.md", "VAE theory (Markdown)")
	fs.StringVar(&cfg.Spec, "spec", cnncalc.DefaultSpec, "network of part 1 (grammar: cnn-calc --help)")
	fs.BoolVar(&cfg.Check, "check", true, "check part 1 with libtorch, as cnn-calc does (a few seconds)")
	fs.IntVar(&cfg.Threads, "threads", runtime.NumCPU(), "libtorch intra-op threads for the check")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: report [flags]\n\nWrites the report from the newest runs it finds. Flags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return cfg, nil
}

// write checks part 1 with libtorch (unless told not to), writes the
// report and prints where it is.
func write(cfg config, stdout io.Writer) error {
	if cfg.Check {
		net, err := cnncalc.Parse(cfg.Spec)
		if err != nil {
			return err
		}
		rep, err := cnncalc.Analyze(net)
		if err != nil {
			return err
		}
		if _, err := torchrt.Init(torchrt.Config{Threads: cfg.Threads, Seed: 1}); err != nil {
			return err
		}
		res, err := torchcheck.Check(rep)
		if err != nil {
			return err
		}
		cfg.CNNCheck = res.Summary()
	}
	res, err := report.Write(cfg.Config)
	if err != nil {
		return err
	}
	for _, p := range res.Problems {
		fmt.Fprintf(stdout, "warning: %s\n", p)
	}
	for _, m := range res.Missing {
		fmt.Fprintf(stdout, "no run of %s found\n", m)
	}
	_, err = fmt.Fprintf(stdout, "report: %s (%d figures)\n        %s (self-contained)\n", res.Markdown, len(res.Images), res.HTML)
	return err
}
