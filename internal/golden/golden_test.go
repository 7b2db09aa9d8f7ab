package golden

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"torchlab/torch/torchrt"
)

// recorder is a testing.TB that keeps what Losses reports instead of
// failing the real test.
type recorder struct {
	testing.TB
	errors, logs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) Logf(format string, args ...any) {
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }

// check runs Losses against a fixture holding machines and returns what it
// reported.
func check(t *testing.T, machines []Recorded, got []float64, tol float64) *recorder {
	path := filepath.Join(t.TempDir(), "f.json")
	if machines != nil {
		b, _ := json.Marshal(Fixture{Machines: machines})
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() { defer close(done); Losses(r, path, got, tol) }()
	<-done
	return r
}

// elsewhere is the key of a machine other than this one.
const elsewhere = "Other CPU; avx2; OpenBLAS Haswell; L1d 32K L2 256K L3 8192K"

func TestLosses(t *testing.T) {
	here := torchrt.ThisCPU().Key()
	got := []float64{2.5, 1.25}
	for _, c := range []struct {
		name     string
		machines []Recorded
		wantErr  string // "" when it must pass
		wantLog  string
	}{
		{"this machine, same bits", []Recorded{{elsewhere, []string{"9", "9"}}, {here, []string{"2.5", "1.25"}}}, "", ""},
		{"this machine, last bit moved", []Recorded{{here, []string{"2.5", "1.2500000000000002"}}}, "value 2: got 1.25", ""},
		{"other machine, within tolerance", []Recorded{{elsewhere, []string{"2.5001", "1.25"}}}, "", "not bit for bit"},
		{"other machine, beyond tolerance", []Recorded{{elsewhere, []string{"2.6", "1.25"}}}, "cross-machine tolerance", ""},
		{"other machine, wrong length", []Recorded{{elsewhere, []string{"2.5"}}}, "has 1", ""},
		{"no values", []Recorded{}, "records no values", ""},
		{"a key no machine produces", []Recorded{{"AVX2 machines, before keys", []string{"2.5", "1.25"}}, {here, []string{"2.5", "1.25"}}}, "no machine can match it", ""},
		{"a NaN recorded", []Recorded{{elsewhere, []string{"NaN", "1.25"}}}, "cross-machine tolerance", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := check(t, c.machines, got, 1e-3)
			errs := strings.Join(r.errors, "\n")
			if (c.wantErr == "") != (errs == "") || !strings.Contains(errs, c.wantErr) {
				t.Errorf("errors %q, want one containing %q", errs, c.wantErr)
			}
			if logs := strings.Join(r.logs, "\n"); !strings.Contains(logs, c.wantLog) {
				t.Errorf("logs %q, want %q", logs, c.wantLog)
			}
		})
	}
}

// TestLossesRecordsMissingFixture: a missing fixture is written with this
// machine's key, and the test fails so that it is committed.
func TestLossesRecordsMissingFixture(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "f.json")
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() { defer close(done); Losses(r, path, []float64{0.1, 3}, 0) }()
	<-done
	if len(r.errors) != 1 || !strings.Contains(r.errors[0], "wrote 2 values") {
		t.Fatalf("errors %q, want one saying it wrote the fixture", r.errors)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var fx Fixture
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	if len(fx.Machines) != 1 || fx.Machines[0].Machine != torchrt.ThisCPU().Key() || strings.Join(fx.Machines[0].Values, " ") != "0.1 3" {
		t.Errorf("fixture %s, want this machine's 0.1 and 3", b)
	}
}

// TestCommittedFixturesHaveMachineKeys reads every loss fixture of the
// commands: each list must sit under a key torchrt.CPU.Key can produce, or
// the machine that reproduces it would get only the cross-machine check.
func TestCommittedFixturesHaveMachineKeys(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "..", "cmd", "*", "testdata", "first20_losses*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures found (%v)", err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var fx Fixture
		if err := json.Unmarshal(b, &fx); err != nil {
			t.Fatalf("read %s: %v", p, err)
		}
		for _, r := range fx.Machines {
			if _, err := torchrt.ParseKey(r.Machine); err != nil {
				t.Errorf("%s: %v", p, err)
			}
		}
	}
}
