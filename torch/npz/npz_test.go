package npz

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
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

// npyEntry builds a version-1 .npy with the given header dict and data.
func npyEntry(header string, data []byte) []byte {
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(header)))
	b.WriteString(header)
	b.Write(data)
	return b.Bytes()
}

func TestReadRejectsBadHeaders(t *testing.T) {
	f8 := func(n int) []byte { return make([]byte, 8*n) }
	for _, tc := range []struct {
		name  string
		entry []byte
		want  string
	}{
		{"negative dim", npyEntry("{'descr': '<f8', 'fortran_order': False, 'shape': (-3,), }\n", f8(3)), "dimension -3 is negative"},
		{"negative dim of two", npyEntry("{'descr': '<f8', 'fortran_order': False, 'shape': (2, -1), }\n", f8(2)), "dimension -1 is negative"},
		{"absurd dims", npyEntry("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }\n", f8(1)), "too large"},
		{"huge dim, little data", npyEntry("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }\n", f8(2)), "needs 8000000000000 bytes of data, the entry has 16"},
		{"data too short", npyEntry("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }\n", f8(5)), "needs 48 bytes of data, the entry has 40"},
		{"data too long", npyEntry("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }\n", f8(3)), "needs 16 bytes of data, the entry has 24"},
		{"bad dtype", npyEntry("{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }\n", f8(1)), `unsupported dtype ">f8"`},
		{"object dtype", npyEntry("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }\n", f8(1)), `unsupported dtype "|O"`},
		{"not a number", npyEntry("{'descr': '<f4', 'fortran_order': False, 'shape': (x,), }\n", f8(1)), "shape (x,)"},
		{"no shape", npyEntry("{'descr': '<f4', 'fortran_order': False, }\n", f8(1)), "malformed header"},
		{"header past the end", append([]byte("\x93NUMPY\x01\x00\xff\x7f"), "{'descr'"...), "header length 32767"},
		{"fortran order", npyEntry("{'descr': '<f8', 'fortran_order': True, 'shape': (1,), }\n", f8(1)), "fortran-order"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.npz")
			var buf bytes.Buffer
			zw := zip.NewWriter(&buf)
			w, err := zw.CreateHeader(&zip.FileHeader{Name: "weights.npy", Method: zip.Store})
			if err != nil {
				t.Fatal(err)
			}
			w.Write(tc.entry)
			if err := zw.Close(); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err = Read(path)
			if err == nil {
				t.Fatal("no error")
			}
			for _, s := range []string{path, "weights.npy", tc.want} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
		})
	}
}

// TestReadKeepsEmptyDims checks that a zero dimension is not mistaken for a
// size mismatch.
func TestReadKeepsEmptyDims(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.npz")
	if err := Write(path, map[string]Array{"e": Float32([]float32{}, 3, 0)}); err != nil {
		t.Fatal(err)
	}
	out, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if s := out["e"].Shape; len(s) != 2 || s[0] != 3 || s[1] != 0 {
		t.Errorf("shape %v, want [3 0]", s)
	}
}

// FuzzDecode: any bytes give arrays or an error, never a panic, and an
// allocation bounded by the file's length (the entry sizes are checked
// before any array is made). Seeds: an archive as Write makes it, and the
// same archive cut short.
func FuzzDecode(f *testing.F) {
	path := filepath.Join(f.TempDir(), "seed.npz")
	if err := Write(path, map[string]Array{
		"w":    Float32([]float32{1, -2.5, 3, 4, 5, 6}, 2, 3),
		"step": Int64([]int64{7}, 1),
	}); err != nil {
		f.Fatal(err)
	}
	seed, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(seed[:len(seed)/2])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		arrays, err := Decode(bytes.NewReader(data), int64(len(data)), "fuzz.npz")
		if err != nil {
			return
		}
		for name, a := range arrays {
			if _, n, err := a.descr(); err != nil || n > maxDeflateRatio*len(data)+1024 {
				t.Errorf("%s: %d values from %d bytes (%v)", name, n, len(data), err)
			}
		}
	})
}
