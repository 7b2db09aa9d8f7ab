// Package reference runs torchlab's PyTorch reference scripts from Go tests
// and compares their tensors with ours.
//
// A script in scripts/reference/ is run with Debian's /usr/bin/python3 (the
// one python3-torch installs into) as
//
//	python3 scripts/reference/NAME.py --in IN.npz --out OUT.npz [args...]
//
// and exchanges tensors through .npz files. A missing python3-torch fails
// the test with a message saying `make setup` installs it: a parity test
// never passes by not running.
package reference

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"torchlab/torch/npz"
)

// Interpreter is Debian's python3, which has python3-torch; the python3
// first on PATH may be another build without torch.
const Interpreter = "/usr/bin/python3"

// Python fails the test unless Interpreter can import torch.
func Python(t testing.TB) string {
	t.Helper()
	if err := canImport("torch", "numpy"); err != nil {
		t.Fatalf("PyTorch reference unavailable: %v (run `make setup`, which installs python3-torch)", err)
	}
	return Interpreter
}

// canImport says why Interpreter cannot import the modules, or nil.
func canImport(modules ...string) error {
	out, err := exec.Command(Interpreter, "-c", "import "+strings.Join(modules, ", ")).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s cannot import %s: %v\n%s", Interpreter, strings.Join(modules, ", "), err, out)
	}
	return nil
}

// RepoRoot finds the directory holding go.mod above the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Run runs scripts/reference/script with inputs and returns its outputs.
func Run(t testing.TB, script string, inputs map[string]npz.Array, args ...string) map[string]npz.Array {
	t.Helper()
	return run(t, Python(t), script, inputs, args...)
}

// RunOrSkip is Run where a missing python3-torch skips the test
// (PythonOrSkip).
func RunOrSkip(t testing.TB, script string, inputs map[string]npz.Array, args ...string) map[string]npz.Array {
	t.Helper()
	return run(t, PythonOrSkip(t), script, inputs, args...)
}

func run(t testing.TB, python, script string, inputs map[string]npz.Array, args ...string) map[string]npz.Array {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.npz"), filepath.Join(dir, "out.npz")
	if inputs == nil {
		inputs = map[string]npz.Array{}
	}
	if err := npz.Write(in, inputs); err != nil {
		t.Fatal(err)
	}
	cmdArgs := append([]string{filepath.Join(root, "scripts", "reference", script), "--in", in, "--out", out}, args...)
	cmd := exec.Command(python, cmdArgs...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("reference %s %v failed: %v\n%s", script, args, err, b)
	}
	res, err := npz.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// Diff measures how far got is from want: the largest absolute difference
// and the largest difference relative to max(|want|, floor).
type Diff struct {
	MaxAbs, MaxRel float64
	Index          int // where MaxAbs is reached
}

// Compare computes the Diff of two equally long slices; relative errors use
// a floor so that values near zero do not dominate. It is the one
// comparison of numbers the tests use: a NaN on either side, anywhere, is
// an error (math.Max and max would carry a NaN into a "worst difference"
// that then compares false with every tolerance and passes).
func Compare(got, want []float64, floor float64) (Diff, error) {
	if len(got) != len(want) {
		return Diff{}, fmt.Errorf("lengths differ: got %d values, want %d", len(got), len(want))
	}
	var d Diff
	for i := range got {
		abs := math.Abs(got[i] - want[i])
		if math.IsNaN(abs) {
			return Diff{}, fmt.Errorf("NaN at index %d (got %v, want %v)", i, got[i], want[i])
		}
		if abs > d.MaxAbs {
			d.MaxAbs, d.Index = abs, i
		}
		if rel := abs / math.Max(math.Abs(want[i]), floor); rel > d.MaxRel {
			d.MaxRel = rel
		}
	}
	return d, nil
}

// Widen converts float32 values for Compare.
func Widen(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// AssertClose fails the test when any |got-want| exceeds atol and logs the
// largest difference either way, so the closing notes can quote it.
func AssertClose(t testing.TB, name string, got, want []float64, atol float64) Diff {
	t.Helper()
	d, err := Compare(got, want, 1e-12)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	t.Logf("%s: %d values, max |diff| %.3g (at %d)", name, len(got), d.MaxAbs, d.Index)
	if d.MaxAbs > atol {
		t.Errorf("%s: max |diff| %.3g at index %d (got %v, want %v) exceeds %.3g",
			name, d.MaxAbs, d.Index, got[d.Index], want[d.Index], atol)
	}
	return d
}

// PythonOrSkip returns Interpreter when it can import torch and numpy, and
// skips the test saying so otherwise: for round trips through PyTorch's own
// files, which have Go-only tests of their own beside them.
func PythonOrSkip(t testing.TB) string {
	t.Helper()
	if err := canImport("torch", "numpy"); err != nil {
		t.Skipf("skipped: %v (make setup installs python3-torch)", err)
	}
	return Interpreter
}
