// Command report writes out/report/report.md (GitHub-renderable, images
// copied beside it), a self-contained out/report/report.html and, with
// --pdf, report.pdf printed from it by headless Chromium (A4, bookmarks
// from the headings). Its main part answers the assignment's items in
// order: the CNN-basics answers (checked by libtorch), each training part's
// committed full-length runs of docs/results/ with their key figures, the
// VAE theory; its appendices show every run's figures and settings and the
// quick runs `make demo` left in out/demo/.
//
// Usage:
//
//	report                               # docs/results/ and out/demo/
//	report --pdf                         # also report.pdf (needs chromium)
//	report --results-dir DIR --vgg-dir DIR --lstm-dir DIR --vae-dir DIR
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"torchlab/internal/cli"
	"torchlab/internal/cnncalc"
	"torchlab/internal/cnncalc/torchcheck"
	"torchlab/internal/report"
	"torchlab/torch/torchrt"
)

// libtorch's thread-local state needs every call on one OS thread.
func init() { runtime.LockOSThread() }

type config struct {
	report.Config
	Check   bool
	Threads int
	PDF     bool
}

// command is report's help.
var command = cli.Command{
	Name:    "report",
	Summary: "writes the report: full runs from --results-dir, quick runs from out/demo/",
	Examples: []string{
		"report",
		"report --pdf",
		"report --results-dir docs/results --vgg-dir out/demo/vgg-mnist --out out/report",
	},
}

func main() {
	cli.Main("report", func(args []string) error {
		cfg, err := parseFlags(args, os.Stdout, os.Stderr)
		if err != nil {
			return err
		}
		return write(context.Background(), cfg, os.Stdout, os.Stderr)
	})
}

func parseFlags(args []string, stdout, stderr io.Writer) (config, error) {
	cfg := config{Config: report.Config{Root: "."}}
	fs := command.FlagSet("", stdout, stderr)
	fs.StringVar(&cfg.Out, "out", "out/report", "report folder: report.md, report.html, report.pdf and img/ (img/ is replaced)")
	fs.StringVar(&cfg.ResultsDir, "results-dir", report.ResultsDir, "committed full-length runs: <command>/ and variants <command>-*/")
	parts := report.TrainingParts()
	demoDirs := make([]string, len(parts))
	for i, p := range parts {
		fs.StringVar(&demoDirs[i], p.Short+"-dir", report.DemoDir(p.Command), p.Demo)
	}
	fs.StringVar(&cfg.Theory, "theory", "docs/theory.md", "VAE theory (Markdown)")
	fs.StringVar(&cfg.Spec, "spec", cnncalc.DefaultSpec, "network of part 1 (grammar: cnn-calc --help)")
	fs.StringVar(&cfg.KaTeXDir, "katex-dir", report.DefaultKaTeXDir, "KaTeX (Debian's libjs-katex), inlined into report.html to typeset the math; without it formulas show as TeX")
	fs.BoolVar(&cfg.Check, "check", true, "check part 1 with libtorch, as cnn-calc does (a few seconds)")
	fs.IntVar(&cfg.Threads, "threads", runtime.NumCPU(), "libtorch intra-op threads for the check")
	fs.BoolVar(&cfg.PDF, "pdf", false, "also print report.pdf from report.html with headless Chromium (A4)")
	if err := command.Parse(fs, args, false); err != nil {
		return cfg, err
	}
	cfg.DemoDirs = map[string]string{}
	for i, p := range parts {
		cfg.DemoDirs[p.Command] = demoDirs[i]
	}
	return cfg, cli.Need("threads", cfg.Threads, cfg.Threads >= 0, ">= 0 (0: one per core)")
}

// write checks part 1 with libtorch (unless told not to), writes the
// report and prints it to PDF if asked. What it wrote goes to stdout;
// what it could not find or do, as notes, to stderr.
func write(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
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
		cfg.CNNChecks = res.Checks(rep)
	}
	res, err := report.Write(cfg.Config)
	if err != nil {
		return err
	}
	for _, p := range res.Problems {
		fmt.Fprintf(stderr, "report: warning: %s\n", p)
	}
	if len(res.Missing) > 0 {
		fmt.Fprintf(stderr, "report: note: left out, no run found: %s\n", strings.Join(res.Missing, "; "))
	}
	if !res.MathRendered {
		fmt.Fprintf(stderr, "report: note: KaTeX not found in %s; report.html shows formulas as TeX (apt-get install libjs-katex)\n", cfg.KaTeXDir)
	}
	if _, err := fmt.Fprintf(stdout, "report: %s (%d figures)\n        %s (self-contained)\n", res.Markdown, len(res.Images), res.HTML); err != nil {
		return err
	}
	if !cfg.PDF {
		return nil
	}
	browser, err := report.FindBrowser()
	if err != nil {
		return err
	}
	pdf := filepath.Join(cfg.Out, "report.pdf")
	if err := report.PrintPDF(ctx, browser, res.HTML, pdf); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "        %s\n", pdf)
	return err
}
