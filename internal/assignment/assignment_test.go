package assignment

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// writeJSON writes v as dir/name, making dir.
func writeJSON(t *testing.T, dir, name string, v any) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// summary is a summary.json as the training commands write it, cut to the
// keys the package reads.
func summary(cfg map[string]any, results map[string]float64, notes ...string) map[string]any {
	return map[string]any{"command": "x train", "seconds": 100.0, "wall_seconds": 120.0, "config": cfg,
		"results": results, "notes": notes,
		"machine": map[string]any{"cores": 2, "cpu": "Intel(R) Xeon(R) Processor; avx512_core_amx; OpenBLAS SkylakeX"}}
}

func mustPart(t *testing.T, name string) Part {
	t.Helper()
	p, err := Find(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestStatus(t *testing.T) {
	vgg, lstm, vae := mustPart(t, "vgg"), mustPart(t, "lstm"), mustPart(t, "vae-conv")
	for _, tc := range []struct {
		name     string
		part     Part
		summary  map[string]any // nil: none
		ckpt     bool
		want     int
		expected State
	}{
		{"vgg finished", vgg, summary(map[string]any{"epochs": 5}, map[string]float64{"epoch": 5, "steps": 4300}), true, 5, Done},
		{"vgg stopped by ctrl-c", vgg, summary(map[string]any{"epochs": 5}, map[string]float64{"epoch": 3.5},
			"stopped at step 3010 of 4300; continue with --resume"), true, 5, Resume},
		{"vgg stopped, no checkpoint", vgg, summary(map[string]any{"epochs": 5}, map[string]float64{"epoch": 3.5}), false, 5, New},
		{"vgg finished a shorter run", vgg, summary(map[string]any{"epochs": 1}, map[string]float64{"epoch": 1}), true, 5, Resume},
		{"vgg epochs reached but a stop note", vgg, summary(map[string]any{"epochs": 5}, map[string]float64{"epoch": 5},
			"stopped at step 4300 of 4300"), true, 5, Resume},
		{"lstm finished", lstm, summary(map[string]any{"iterations": 100000}, map[string]float64{"iterations": 100000}), true, 100000, Done},
		{"lstm part way", lstm, summary(map[string]any{"iterations": 100000}, map[string]float64{"iterations": 42000}), true, 100000, Resume},
		{"vae finished", vae, summary(map[string]any{"epochs": 200}, map[string]float64{"epochs": 200}), true, 200, Done},
		{"vae interrupted: no epochs key", vae, summary(map[string]any{"epochs": 200}, map[string]float64{"steps": 460}), true, 200, Resume},
		{"vae stopped early", vae, summary(map[string]any{"epochs": 200}, map[string]float64{"epochs": 130},
			"stopped early after epoch 130 of 200: flat"), false, 200, New},
		{"nothing yet", vae, nil, false, 200, New},
		{"only a checkpoint", vae, nil, true, 200, Resume},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.summary != nil {
				writeJSON(t, dir, "summary.json", tc.summary)
			}
			if tc.ckpt {
				writeJSON(t, filepath.Join(dir, "checkpoint"), "checkpoint.json", map[string]any{"step": 1})
			}
			got, why, err := Status(tc.part, dir, tc.want)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.expected || why == "" {
				t.Errorf("Status = %q (%s), want %q", got, why, tc.expected)
			}
		})
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "summary.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Status(vgg, dir, 5); err == nil {
		t.Error("a broken summary.json: no error")
	}
}

func TestWithin(t *testing.T) {
	vgg, vae := mustPart(t, "vgg"), mustPart(t, "vae-mlp")
	for _, tc := range []struct {
		part         Part
		v, committed float64
		want         bool
	}{
		{vgg, 0.9935, 0.9935, true},
		{vgg, 0.9906, 0.9935, true},  // 0.29 points below, within 0.3
		{vgg, 0.9904, 0.9935, false}, // 0.31 points
		{vgg, 0.9966, 0.9935, false},
		{vgg, math.NaN(), 0.9935, false},
		{vae, 2803.0 * 1.0099, 2803.0, true}, // 0.99 % above, within 1 %
		{vae, 2803.0 * 0.9899, 2803.0, false},
		{vae, 2803.0, math.NaN(), false},
	} {
		if got := tc.part.Within(tc.v, tc.committed); got != tc.want {
			t.Errorf("%s: Within(%v, %v) = %v, want %v", tc.part.Name, tc.v, tc.committed, got, tc.want)
		}
	}
}

func TestReadSessions(t *testing.T) {
	dir := t.TempDir()
	if s, err := ReadSessions(dir); err != nil || s != nil {
		t.Fatalf("no file: %v, %v; want none, no error", s, err)
	}
	path := filepath.Join(dir, SessionsFile)
	text := "1765000000\t600\t130\tIntel(R) Xeon(R) Processor\t2\n\n1765003600\t2400\t0\tIntel(R) Xeon(R) Processor\t2\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := ReadSessions(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 2 || s[0].Exit != 130 || s[1].Seconds != 2400 || s[1].CPU != "Intel(R) Xeon(R) Processor" || s[1].Cores != 2 {
		t.Errorf("sessions %+v", s)
	}
	for _, bad := range []string{"1\t2\t3\n", "x\t600\t0\tcpu\t2\n", "1\t-5\t0\tcpu\t2\n", "1\tNaN\t0\tcpu\t2\n"} {
		if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadSessions(dir); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestWrite builds an assignment folder with every part done, one VAE
// outside its tolerance, and reads the page.
func TestWrite(t *testing.T) {
	results, root := t.TempDir(), t.TempDir()
	writeJSON(t, filepath.Join(results, "vgg-mnist"), "summary.json", summary(nil, map[string]float64{"best_test_accuracy": 0.9935}))
	writeJSON(t, filepath.Join(results, "lstm-tweets"), "summary.json", summary(nil, map[string]float64{"best_test_accuracy": 0.7487}))
	for _, arch := range []string{"mlp", "conv", "resnet"} {
		writeJSON(t, filepath.Join(results, "vae-galaxy/seed1", arch), "summary.json", summary(nil, map[string]float64{"best_test_neg_elbo": 2800}))
	}
	answers := []byte("# CNN basics\n")
	for _, d := range []string{results, filepath.Join(root, "cnn")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, CNNFile), answers, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	session := func(dir string, secs int) {
		t.Helper()
		f, err := os.OpenFile(filepath.Join(root, dir, SessionsFile), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString("1765000000\t" + strconv.Itoa(secs) + "\t0\tTest CPU\t2\n"); err != nil {
			t.Fatal(err)
		}
	}
	session("cnn", 10)
	writeJSON(t, filepath.Join(root, "vgg-mnist"), "summary.json",
		summary(map[string]any{"epochs": 5}, map[string]float64{"epoch": 5, "best_test_accuracy": 0.9931, "step_seconds": 2700}))
	session("vgg-mnist", 1000)
	session("vgg-mnist", 2000) // resumed once
	writeJSON(t, filepath.Join(root, "lstm-tweets"), "summary.json",
		summary(map[string]any{"iterations": 100000}, map[string]float64{"iterations": 100000, "best_test_accuracy": 0.7501}))
	session("lstm-tweets", 900)
	for arch, elbo := range map[string]float64{"mlp": 2810, "conv": 2790, "resnet": 2900} {
		writeJSON(t, filepath.Join(root, "vae-galaxy", arch), "summary.json",
			summary(map[string]any{"epochs": 200}, map[string]float64{"epochs": 200, "best_test_neg_elbo": elbo}))
		session("vae-galaxy/"+arch, 1500)
	}
	if err := os.MkdirAll(filepath.Join(root, "report"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "report", ReportFile), []byte("# report\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	session("report", 20)

	cfg := Config{Dir: root, ResultsDir: results, Target: 3 * time.Hour, Command: "make assignment", Commit: "abc1234",
		Now:  time.Date(2026, 12, 8, 1, 2, 0, 0, time.UTC),
		Want: map[string]int{"vgg": 5, "lstm": 100000, "vae-mlp": 200, "vae-conv": 200, "vae-resnet": 200}}
	rows, err := Rows(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pass := map[string]string{}
	for _, r := range rows {
		pass[r.Part.Name] = r.Pass
		if r.State != Done {
			t.Errorf("%s: state %s (%s), want done", r.Part.Name, r.State, r.Result)
		}
	}
	want := map[string]string{"cnn": "pass", "vgg": "pass", "lstm": "pass", "vae-mlp": "pass", "vae-conv": "pass",
		"vae-resnet": "fail", "report": "pass"}
	for name, w := range want {
		if pass[name] != w {
			t.Errorf("%s: %q, want %q", name, pass[name], w)
		}
	}
	var b bytes.Buffer
	ok, err := Write(&b, cfg, rows)
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		t.Error("the whole passed with the resnet 3.6 % off")
	}
	page := b.String()
	// 10 + 3000 + 900 + 3 x 1500 + 20 = 8430 s = 140.5 min, written to the minute.
	for _, s := range []string{"| vgg | done | 50 min in 2 sessions |", "99.31 %", "99.35 %", "± 0.3 points", "± 1 %",
		"Test CPU, 2 cores", "**2 h 21 min**", "≤ 3 h", "| **fail** |", "2900.0"} {
		if !strings.Contains(page, s) {
			t.Errorf("the page lacks %q:\n%s", s, page)
		}
	}

	// The resnet within tolerance: the whole passes, unless over time.
	writeJSON(t, filepath.Join(root, "vae-galaxy", "resnet"), "summary.json",
		summary(map[string]any{"epochs": 200}, map[string]float64{"epochs": 200, "best_test_neg_elbo": 2790}))
	if rows, err = Rows(cfg); err != nil {
		t.Fatal(err)
	}
	if ok, err := Write(&bytes.Buffer{}, cfg, rows); err != nil || !ok {
		t.Errorf("all within tolerance and 2 h 21 min: pass %v, err %v", ok, err)
	}
	cfg.Target = 2 * time.Hour
	if ok, err := Write(&bytes.Buffer{}, cfg, rows); err != nil || ok {
		t.Errorf("2 h 21 min against a 2 h target: pass %v, err %v", ok, err)
	}
}
