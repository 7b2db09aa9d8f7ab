package ptfile_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"torchlab/torch/npz"
	. "torchlab/torch/ptfile"
	"torchlab/torch/reference"
	"torchlab/torch/safetensors"
)

func sample() map[string]npz.Array {
	return map[string]npz.Array{
		"fc.weight":              npz.Float32([]float32{1, -2.5, 3, 4e-7, -5, 6}, 2, 3),
		"fc.bias":                npz.Float32([]float32{0.5, -0.25}, 2),
		"bn.num_batches_tracked": npz.Int64([]int64{-7}),
		"scale":                  {Shape: []int{1}, F64: []float64{3.141592653589793}},
		"empty":                  npz.Float32([]float32{}, 0, 4),
	}
}

// same fails unless got holds exactly want's names, shapes, kinds and values.
func same(t *testing.T, got, want map[string]npz.Array) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d tensors, want %d", len(got), len(want))
	}
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Errorf("%s missing", name)
			continue
		}
		if fmt.Sprint(g.Shape) != fmt.Sprint(w.Shape) || fmt.Sprint(g.Floats()) != fmt.Sprint(w.Floats()) {
			t.Errorf("%s: got %v %v, want %v %v", name, g.Shape, g.Floats(), w.Shape, w.Floats())
		}
		if (g.I64 != nil) != (w.I64 != nil) || (g.F64 != nil) != (w.F64 != nil) {
			t.Errorf("%s: dtype changed", name)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.pt")
	if err := Write(path, sample()); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	same(t, got, sample())
}

// TestReadTorchSave reads a file torch.save made of an OrderedDict
// state_dict with its _metadata, a transposed (non-contiguous) weight,
// an int64 scalar, a float64 and a float16 tensor. It was made with
// python3-torch 1.13 by:
//
//	w = torch.arange(6, dtype=torch.float32).reshape(3, 2).t()
//	sd = OrderedDict([("fc.weight", w), ("fc.bias", torch.tensor([0.5, -0.25])),
//	      ("bn.num_batches_tracked", torch.tensor(5)), ("scale", torch.tensor([2.5], dtype=torch.float64)),
//	      ("half", torch.tensor([1.5, -2.0], dtype=torch.float16))])
//	sd._metadata = OrderedDict([("", {"version": 1})])
//	torch.save(sd, "torch_save.pt")
//	torch.save({"model": sd, "step": 3}, "nested.pt")
//	torch.save(torch.zeros(2), "tensor.pt")
func TestReadTorchSave(t *testing.T) {
	got, err := Read(filepath.Join("testdata", "torch_save.pt"))
	if err != nil {
		t.Fatal(err)
	}
	same(t, got, map[string]npz.Array{
		"fc.weight":              npz.Float32([]float32{0, 2, 4, 1, 3, 5}, 2, 3),
		"fc.bias":                npz.Float32([]float32{0.5, -0.25}, 2),
		"bn.num_batches_tracked": npz.Int64([]int64{5}),
		"scale":                  {Shape: []int{1}, F64: []float64{2.5}},
		"half":                   npz.Float32([]float32{1.5, -2}, 2),
	})
}

// TestPyTorchRoundTrip: torch.load reads Write's file as a plain dict of
// the same tensors, and Read reads what torch.save writes from the same
// tensors, some of them strided.
func TestPyTorchRoundTrip(t *testing.T) {
	dir := t.TempDir()
	ours := filepath.Join(dir, "ours.pt")
	if err := Write(ours, sample()); err != nil {
		t.Fatal(err)
	}
	same(t, reference.RunOrSkip(t, "statedict.py", nil, "read", "--file", ours), sample())

	theirs := filepath.Join(dir, "theirs.pt")
	reference.RunOrSkip(t, "statedict.py", sample(), "write", "--strided", "--file", theirs)
	got, err := Read(theirs)
	if err != nil {
		t.Fatal(err)
	}
	same(t, got, sample())
}

// TestBrokenFiles: truncated files, other formats and files that hold
// something other than a state_dict are errors naming the file.
func TestBrokenFiles(t *testing.T) {
	good, err := Encode(sample())
	if err != nil {
		t.Fatal(err)
	}
	st, err := safetensors.Encode(sample(), nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cases := map[string][]byte{
		"empty":       {},
		"text":        []byte("fc.weight = [1, 2, 3]\n"),
		"safetensors": st,
		"npz":         mustRead(t, writeNPZ(t, dir)),
		"nested":      mustRead(t, filepath.Join("testdata", "nested.pt")),
		"bare tensor": mustRead(t, filepath.Join("testdata", "tensor.pt")),
	}
	for _, cut := range []int{1, 4, 30, len(good) / 2, len(good) - 30, len(good) - 1} {
		cases[fmt.Sprintf("cut to %d of %d bytes", cut, len(good))] = good[:cut]
	}
	wantWords := map[string]string{"nested": "state_dict() itself", "bare tensor": "not a state_dict"}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.pt")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Read(path)
			if err == nil {
				t.Fatal("read without error")
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error does not name the file: %v", err)
			}
			if w := wantWords[name]; w != "" && !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not say %q", err, w)
			}
		})
	}
}

func writeNPZ(t *testing.T, dir string) string {
	path := filepath.Join(dir, "x.npz")
	if err := npz.Write(path, sample()); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustRead(t *testing.T, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
