// Command assignment is the bookkeeping of `make assignment`
// (scripts/assignment.sh): whether a part's run is done, to resume or to
// start, and the page of times and results beside the committed runs.
//
// Usage:
//
//	assignment status --part vgg --dir out/assignment/vgg-mnist --want 5
//	assignment write --dir out/assignment --md docs/results/assignment.md --want vgg=5,lstm=100000,...
//
// status prints done, resume or new, then a tab and why.
package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"torchlab/internal/assignment"
	"torchlab/internal/cli"
	"torchlab/internal/report"
)

func main() {
	cli.Main("assignment", func(args []string) error { return run(args, os.Stdout, os.Stderr) })
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return cli.Usagef("want a subcommand: status or write")
	}
	switch args[0] {
	case "status":
		return status(args[1:], stdout, stderr)
	case "write":
		return write(args[1:], stderr)
	}
	return cli.Usagef("unknown subcommand %q (want status or write)", args[0])
}

func status(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("assignment status", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("part", "", "the part: "+partNames())
	dir := fs.String("dir", "", "its folder")
	want := fs.Int("want", 0, "epochs (vgg, vae-*) or iterations (lstm) the run should reach")
	if err := fs.Parse(args); err != nil {
		return err
	}
	p, err := assignment.Find(*name)
	if err != nil {
		return cli.Usagef("%v", err)
	}
	if *dir == "" {
		return cli.Usagef("--dir is required")
	}
	st, why, err := assignment.Status(p, *dir, *want)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\t%s\n", st, why)
	return err
}

func write(args []string, stderr io.Writer) error {
	cfg := assignment.Config{ResultsDir: report.ResultsDir, Target: 3 * time.Hour, Command: "make assignment", Now: time.Now()}
	var md, wants string
	fs := pflag.NewFlagSet("assignment write", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Dir, "dir", "out/assignment", "the assignment's folder, one folder per part")
	fs.StringVar(&cfg.ResultsDir, "results-dir", cfg.ResultsDir, "the committed runs")
	fs.StringVar(&md, "md", "docs/results/assignment.md", "the page to write")
	fs.StringVar(&wants, "want", "", "epochs or iterations per training part, e.g. vgg=5,lstm=100000,vae-mlp=200")
	fs.DurationVar(&cfg.Target, "target", cfg.Target, "the whole assignment's wall-time target")
	fs.BoolVar(&cfg.Smoke, "smoke", false, "say on the page that the settings were tiny")
	fs.StringVar(&cfg.Command, "command", cfg.Command, "how the page was made, for the page")
	fs.StringVar(&cfg.Commit, "commit", "unknown", "the checkout's commit, for the page")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if cfg.Want, err = parseWants(wants); err != nil {
		return cli.Usagef("--want: %v", err)
	}
	rows, err := assignment.Rows(cfg)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if _, err := assignment.Write(&b, cfg, rows); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(md), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(md, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", md, err)
	}
	return nil
}

// parseWants reads "vgg=5,lstm=100000": every training part must be named.
func parseWants(s string) (map[string]int, error) {
	out := map[string]int{}
	for _, kv := range strings.Split(s, ",") {
		if strings.TrimSpace(kv) == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil || n < 1 {
			return nil, fmt.Errorf("%q: want PART=N with N >= 1", kv)
		}
		if _, err := assignment.Find(k); err != nil {
			return nil, err
		}
		out[k] = n
	}
	for _, p := range assignment.Parts {
		if _, ok := out[p.Name]; !ok && p.Kind != assignment.CNN && p.Kind != assignment.Report {
			return nil, fmt.Errorf("no count for part %s", p.Name)
		}
	}
	return out, nil
}

func partNames() string {
	names := make([]string, len(assignment.Parts))
	for i, p := range assignment.Parts {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}
