package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"torchlab/torch/torchrt"
)

// The command end to end on a small network (so the libtorch check is
// quick): one committed full run, no quick runs, no KaTeX.
func TestRun(t *testing.T) {
	torchrt.Lock()
	root := t.TempDir()
	vgg := filepath.Join(root, "results", "vgg-mnist")
	if err := os.MkdirAll(vgg, 0o755); err != nil {
		t.Fatal(err)
	}
	summary := `{"command": "vgg-mnist train --epochs 5", "finished": "2025-02-03T04:05:00Z", "config": {"threads": 2},
		"results": {"epoch": 5, "test_accuracy": 0.99}}`
	if err := os.WriteFile(filepath.Join(vgg, "summary.json"), []byte(summary), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(root, "report")
	none := filepath.Join(root, "none")
	var stderr bytes.Buffer
	cfg, err := parseFlags([]string{"--out", out, "--results-dir", filepath.Join(root, "results"),
		"--vgg-dir", none, "--lstm-dir", none, "--vae-dir", none, "--theory", filepath.Join(root, "theory.md"),
		"--katex-dir", none, "--spec", "in 12x12x1; conv 2 3x3; pool 2x2; fc 3", "--threads", "1"}, &stderr, &stderr)
	if err != nil {
		t.Fatalf("flags: %v\n%s", err, stderr.String())
	}
	var stdout bytes.Buffer
	stderr.Reset()
	if err := write(context.Background(), cfg, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	// stdout says what was written, and only that; stderr has one note for
	// the runs not found and one for KaTeX.
	if want := "report: " + filepath.Join(out, "report.md"); !strings.HasPrefix(stdout.String(), want) || strings.Contains(stdout.String(), "not found") {
		t.Errorf("stdout %q, want it to start with %q and hold nothing else", stdout.String(), want)
	}
	var missing, katex []string
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.HasPrefix(line, "report: note: left out, no run found: ") {
			missing = append(missing, line)
		}
		if strings.Contains(line, "KaTeX not found in "+none) {
			katex = append(katex, line)
		}
	}
	if len(missing) != 1 || len(katex) != 1 || !strings.Contains(missing[0], "vgg-mnist: quick run; ") ||
		!strings.Contains(missing[0], "lstm-tweets: full run") || !strings.Contains(missing[0], "vae-galaxy: quick run") {
		t.Errorf("stderr %q, want one note naming the missing runs and one about KaTeX", stderr.String())
	}
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"The network: `in 12x12x1; conv 2 3x3 s1 p0; pool 2x2; fc 3`",
		"'s VarStore of that network holds 168 weights.", // 3*3*1*2 + 5*5*2*3
		"Checked: libtorch 1.13 built the network without padding",
		"**VGG11 reached 99.00 % test accuracy after 5 epochs**",
		"Made by `vgg-mnist train --epochs 5`, finished 2025-02-03 04:05 UTC",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "report.html")); err != nil {
		t.Error(err)
	}
}

// The defaults read the committed runs and make demo's folders.
func TestDefaults(t *testing.T) {
	cfg, err := parseFlags(nil, &bytes.Buffer{}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ResultsDir != "docs/results" || cfg.DemoDirs["vgg-mnist"] != "out/demo/vgg-mnist" || cfg.DemoDirs["vae-galaxy"] != "out/demo/vae-galaxy" || cfg.PDF {
		t.Errorf("defaults %+v", cfg)
	}
}
