package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"torchlab/internal/torchrt"
)

// The command end to end on a small network (so the libtorch check is
// quick), one fake run and two missing parts.
func TestRun(t *testing.T) {
	torchrt.Lock()
	root := t.TempDir()
	vgg := filepath.Join(root, "vgg")
	if err := os.MkdirAll(vgg, 0o755); err != nil {
		t.Fatal(err)
	}
	summary := `{"command": "vgg-mnist --epochs 1", "finished": "2025-02-03T04:05:00Z", "results": {"test_accuracy": 0.99}}`
	if err := os.WriteFile(filepath.Join(vgg, "summary.json"), []byte(summary), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(root, "report")
	var stderr bytes.Buffer
	cfg, err := parseFlags([]string{"--out", out, "--vgg-dir", vgg, "--lstm-dir", filepath.Join(root, "none"),
		"--vae-dir", filepath.Join(root, "none"), "--theory", filepath.Join(root, "theory.md"),
		"--spec", "in 12x12x1; conv 2 3x3; pool 2x2; fc 3", "--threads", "1"}, &stderr)
	if err != nil {
		t.Fatalf("flags: %v\n%s", err, stderr.String())
	}
	var stdout bytes.Buffer
	if err := write(cfg, &stdout); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"no run of lstm-tweets found", "no run of vae-galaxy found", "report: " + filepath.Join(out, "report.md")} {
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
		"): all 3 shapes and the parameter count (168) agree", // 3*3*1*2 + 5*5*2*3
		"| test_accuracy | 0.99 |",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "report.html")); err != nil {
		t.Error(err)
	}
}
