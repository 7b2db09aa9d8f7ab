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
		"--katex-dir", none, "--spec", "in 12x12x1; conv 2 3x3; pool 2x2; fc 3", "--threads", "1"}, &stderr)
	if err != nil {
		t.Fatalf("flags: %v\n%s", err, stderr.String())
	}
	var stdout bytes.Buffer
	if err := write(context.Background(), cfg, &stdout); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"not found: vgg-mnist: quick run", "not found: lstm-tweets: full run", "not found: vae-galaxy: quick run",
		"KaTeX not found in " + none,
		"report: " + filepath.Join(out, "report.md"),
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
		}
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
	cfg, err := parseFlags(nil, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ResultsDir != "docs/results" || cfg.VGGDir != "out/demo/vgg-mnist" || cfg.VAEDir != "out/demo/vae-galaxy" || cfg.PDF {
		t.Errorf("defaults %+v", cfg)
	}
}
