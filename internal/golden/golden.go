// Package golden pins numbers that must not change: a test records them
// once into testdata/ and from then on compares bit for bit. Refactors of
// the training code are checked against such fixtures.
//
// Bit for bit holds only for one set of kernels: libtorch's OpenBLAS
// picks its GEMM kernels by CPU (or OPENBLAS_CORETYPE), oneDNN its
// convolution kernels by instruction set (capped by ONEDNN_MAX_CPU_ISA)
// and cache sizes, and 20 training steps amplify their rounding
// differences. So a fixture keeps one list per machine key
// (torchrt.CPU.Key, which names those choices): on a machine whose key has
// a list, the check is bit for bit; on another, every recorded list must
// agree within the test's cross-machine tolerance, relative to each
// recorded value, and the test says that this is the weaker check. A list
// under a key Key cannot produce would never be checked bit for bit, so
// reading one fails the test.
package golden

import (
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"torchlab/torch/torchrt"
)

var update = flag.Bool("update-fixtures", false, "record this machine's numbers in the testdata fixtures (new machine, or numbers meant to change)")

// Fixture is a fixture file: the values recorded on each machine.
type Fixture struct {
	Machines []Recorded `json:"machines"`
}

// Recorded is one machine's values, as exact decimal strings.
type Recorded struct {
	Machine string   `json:"machine"` // torchrt.CPU.Key of where they were recorded
	Values  []string `json:"values"`
}

// Losses compares got with this machine's list in the fixture file path bit
// for bit, or, when the fixture has no list for this machine, with every
// list in it within relative tolerance crossTol. Under -update-fixtures, or
// when the file does not exist yet, it records got as this machine's list
// and fails, so a new fixture is never silent.
func Losses(t testing.TB, path string, got []float64, crossTol float64) {
	t.Helper()
	enc := make([]string, len(got))
	for i, v := range got {
		enc[i] = strconv.FormatFloat(v, 'g', -1, 64) // round-trips exactly
	}
	key := torchrt.ThisCPU().Key()
	var fx Fixture
	b, err := os.ReadFile(path)
	missing := os.IsNotExist(err)
	switch {
	case missing:
	case err != nil:
		t.Fatal(err)
	default:
		if err := json.Unmarshal(b, &fx); err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
	}
	for _, r := range fx.Machines {
		if _, err := torchrt.ParseKey(r.Machine); err != nil {
			t.Fatalf("read %s: %v: no machine can match it, so its values would never be checked bit for bit; record them under the key of a machine that reproduces them", path, err)
		}
	}
	if missing || *update {
		record(t, path, fx, key, enc)
		return
	}
	for _, r := range fx.Machines {
		if r.Machine == key {
			compareExact(t, path, enc, r.Values)
			return
		}
	}
	if len(fx.Machines) == 0 {
		t.Fatalf("%s records no values", path)
	}
	for _, r := range fx.Machines {
		compareWithin(t, path, r, got, crossTol)
	}
	t.Logf("%s has no values recorded on this machine (%s): checked within relative %g of each machine's, not bit for bit; to check bit for bit here, run this test with -update-fixtures on a commit whose numbers are known good and commit the fixture", path, key, crossTol)
}

// record writes enc as the values of machine key into path, keeping the
// other machines' values, and fails the test so the new fixture is noticed.
func record(t testing.TB, path string, fx Fixture, key string, enc []string) {
	t.Helper()
	kept := fx.Machines[:0]
	for _, r := range fx.Machines {
		if r.Machine != key {
			kept = append(kept, r)
		}
	}
	fx.Machines = append(kept, Recorded{Machine: key, Values: enc})
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	out, _ := json.MarshalIndent(fx, "", "  ")
	if err := os.WriteFile(path, append(out, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Errorf("wrote %d values for %q into %s: commit it; the test compares against it from now on", len(enc), key, path)
}

func compareExact(t testing.TB, path string, got, want []string) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%d values, fixture %s has %d for this machine", len(got), path, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("value %d: got %s, fixture %s has %s for this machine (not bit-identical)", i+1, got[i], path, want[i])
		}
	}
}

func compareWithin(t testing.TB, path string, r Recorded, got []float64, tol float64) {
	t.Helper()
	if len(r.Values) != len(got) {
		t.Fatalf("%d values, fixture %s has %d for %q", len(got), path, len(r.Values), r.Machine)
	}
	for i, s := range r.Values {
		want, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("read %s: value %d of %q: %v", path, i+1, r.Machine, err)
		}
		if rel := math.Abs(got[i]-want) / math.Max(math.Abs(want), 1e-12); !(rel <= tol) {
			t.Errorf("value %d: got %v, fixture %s has %v for %q: relative difference %.3g, more than the cross-machine tolerance %g", i+1, got[i], path, want, r.Machine, rel, tol)
		}
	}
}
