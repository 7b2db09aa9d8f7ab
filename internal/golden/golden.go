// Package golden pins numbers that must not change: a test records them
// once into testdata/ and from then on compares bit for bit. Refactors of
// the training code are checked against such fixtures.
package golden

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

var update = flag.Bool("update-fixtures", false, "rewrite testdata fixtures with the current numbers (only when they are meant to change)")

// Losses compares got with the fixture file path (JSON, exact decimal
// strings), or writes it under -update-fixtures or when it does not exist
// yet (the test then says so, so a missing fixture is never silent).
func Losses(t *testing.T, path string, got []float64) {
	t.Helper()
	enc := make([]string, len(got))
	for i, v := range got {
		enc[i] = strconv.FormatFloat(v, 'g', -1, 64) // round-trips exactly
	}
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) || *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		out, _ := json.MarshalIndent(enc, "", "  ")
		if err := os.WriteFile(path, append(out, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Errorf("wrote %s with %d values: commit it; the test compares against it from now on", path, len(got))
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if len(want) != len(got) {
		t.Fatalf("%d values, fixture %s has %d", len(got), path, len(want))
	}
	for i := range want {
		if enc[i] != want[i] {
			t.Errorf("value %d: got %s, fixture %s has %s (not bit-identical)", i+1, enc[i], path, want[i])
		}
	}
}
