package reference

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sugarme/gotch/ts"

	"torchlab/torch/npz"
	"torchlab/torch/statedict"
	"torchlab/torch/tensors"
)

// StateDictRoundTrip checks a model against its PyTorch reference in both
// directions and both file formats, with scripts/reference/statedict.py
// (model and args name the reference model and its configuration):
//
//   - Go to PyTorch: named's weights are written as .pt and .safetensors;
//     the reference loads each with strict=True and its eval-mode outputs
//     on inputs must be forward's within tol;
//   - PyTorch to Go: the reference builds the model from its own seed and
//     saves it in each format; statedict.Load copies the file into named,
//     and forward must then give PyTorch's outputs within tol (before the
//     load they must differ by more, or the check proves nothing);
//   - the ONNX route: onnx_export.py loads Go's .pt into the reference
//     model, exports it with torch.onnx.export, and onnx.checker accepts
//     the result (a subtest, skipped, saying so, without python3-onnx).
//
// forward returns the Go model's outputs on inputs by the reference's
// names. Without python3-torch the test is skipped, saying so.
func StateDictRoundTrip(t *testing.T, model string, args []string, inputs map[string]npz.Array,
	named map[string]*ts.Tensor, forward func() map[string][]float64, tol float64) {
	t.Helper()
	PythonOrSkip(t)
	weights, err := tensors.ToArrays(named)
	if err != nil {
		t.Fatal(err)
	}
	ours := forward()
	dir := t.TempDir()
	for _, format := range statedict.Formats {
		file := filepath.Join(dir, "go."+format)
		if err := statedict.Write(file, format, weights, map[string]string{"model": model}); err != nil {
			t.Fatal(err)
		}
		theirs := RunOrSkip(t, "statedict.py", inputs, append([]string{"forward", "--model", model, "--file", file}, args...)...)
		for name, got := range ours {
			AssertClose(t, "Go's "+format+" in PyTorch: "+name, theirs[name].Floats(), got, tol)
		}
	}
	t.Run("onnx", func(t *testing.T) { CheckONNX(t, model, filepath.Join(dir, "go.pt"), args...) })
	for i, format := range statedict.Formats {
		file := filepath.Join(dir, "torch."+format)
		seed := []string{"--seed", "9"}
		if i > 0 {
			seed = []string{"--seed", "10"}
		}
		theirs := RunOrSkip(t, "statedict.py", inputs, append(append([]string{"init", "--model", model, "--file", file}, seed...), args...)...)
		before := forward()
		for name, want := range theirs {
			if d, err := Compare(before[name], want.Floats(), 1e-12); err == nil && d.MaxAbs <= tol {
				t.Fatalf("%s: the Go model already gives PyTorch's outputs before loading its weights", name)
			}
		}
		if err := statedict.Load(file, named); err != nil {
			t.Fatal(err)
		}
		after := forward()
		for name, want := range theirs {
			AssertClose(t, "PyTorch's "+format+" in Go: "+name, after[name], want.Floats(), tol)
		}
	}
}

// scriptsDir is scripts/reference in this repository.
func scriptsDir(t testing.TB) string {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "scripts", "reference")
}

// CheckONNX runs scripts/reference/onnx_export.py on the state_dict file:
// the reference model loads it with strict=True, torch.onnx.export exports
// it and onnx.checker must accept the result. Without python3-torch or
// python3-onnx the test is skipped, saying so.
func CheckONNX(t *testing.T, model, file string, args ...string) {
	t.Helper()
	python := PythonOrSkip(t)
	if err := canImport("onnx"); err != nil {
		t.Skipf("skipped: %v (make setup installs python3-onnx)", err)
	}
	script := filepath.Join(scriptsDir(t), "onnx_export.py")
	onnx := filepath.Join(t.TempDir(), model+".onnx")
	cmd := exec.Command(python, append([]string{script, "--model", model, "--file", file, "--onnx", onnx}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("onnx_export.py: %v\n%s", err, out)
	}
}
