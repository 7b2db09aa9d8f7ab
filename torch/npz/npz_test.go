package npz

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.npz")
	in := map[string]Array{
		"w":      Float32([]float32{1, -2.5, 3, 4, 5, 6}, 2, 3),
		"ids":    Int64([]int64{7, 8, 9}, 3),
		"scalar": {Shape: []int{}, F64: []float64{3.25}},
	}
	if err := Write(path, in); err != nil {
		t.Fatal(err)
	}
	out, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	for name, a := range in {
		b, ok := out[name]
		if !ok {
			t.Fatalf("%s missing after round trip", name)
		}
		if len(a.Shape) != len(b.Shape) || MaxAbsDiff(a.Floats(), b.Floats()) != 0 {
			t.Errorf("%s: wrote %+v, read %+v", name, a, b)
		}
	}
}

func TestWriteRejectsBadArrays(t *testing.T) {
	dir := t.TempDir()
	for name, a := range map[string]Array{
		"shape mismatch": Float32([]float32{1, 2, 3}, 2, 2),
		"no data":        {Shape: []int{1}},
		"two types":      {Shape: []int{1}, F32: []float32{1}, I64: []int64{1}},
	} {
		if err := Write(filepath.Join(dir, "bad.npz"), map[string]Array{"a": a}); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}

func TestReadRejectsGarbage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.npz")
	os.WriteFile(path, []byte("not a zip"), 0o644)
	if _, err := Read(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("want an error naming %s, got %v", path, err)
	}
}

// TestNumpyReadsOurs checks the format against NumPy itself, which the
// reference scripts use.
func TestNumpyReadsOurs(t *testing.T) {
	if _, err := exec.LookPath("/usr/bin/python3"); err != nil {
		t.Fatalf("/usr/bin/python3 missing: run `make setup`")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "x.npz")
	if err := Write(path, map[string]Array{"a": Float32([]float32{1, 2, 3, 4, 5, 6}, 3, 2)}); err != nil {
		t.Fatal(err)
	}
	back := filepath.Join(dir, "y.npz")
	script := `import numpy as np, sys
a = np.load(sys.argv[1])["a"]
assert a.dtype == np.float32 and a.shape == (3, 2), (a.dtype, a.shape)
np.savez(sys.argv[2], b=(a * 2).astype(np.float64), c=np.arange(4, dtype=np.int64))`
	out, err := exec.Command("/usr/bin/python3", "-c", script, path, back).CombinedOutput()
	if err != nil {
		t.Fatalf("numpy could not read our file (python3-numpy is installed by `make setup`): %v\n%s", err, out)
	}
	got, err := Read(back)
	if err != nil {
		t.Fatal(err)
	}
	if d := MaxAbsDiff(got["b"].Floats(), []float64{2, 4, 6, 8, 10, 12}); d != 0 {
		t.Errorf("b differs by %g", d)
	}
	if d := MaxAbsDiff(got["c"].Floats(), []float64{0, 1, 2, 3}); d != 0 {
		t.Errorf("c differs by %g", d)
	}
}
