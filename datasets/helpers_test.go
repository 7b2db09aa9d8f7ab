package datasets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dataSet returns the folder of data set sub as the commands find it: the
// full data where a data folder exists, else the bundled sample (MNIST: the
// GoMNIST module). It never skips: every machine has one of them.
func dataSet(t *testing.T, sub string) Source {
	t.Helper()
	src, err := Locate("", sub)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %s (%s)", sub, src.Dir, src.FoundBy)
	return src
}

// fullDataSet is dataSet for tests of the full data's own counts: they skip,
// saying so, where only the bundled sample is available.
func fullDataSet(t *testing.T, sub string) string {
	t.Helper()
	src := dataSet(t, sub)
	if src.Sample {
		t.Skipf("%s checks the full %s data set, and only the bundled sample was found (set TORCHLAB_DATA to run it)", t.Name(), sub)
	}
	return src.Dir
}

// writeFile writes data to dir/name and returns the path.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// wantFileError checks a reader's error against a table row's wantErr. With
// wantErr set, err must contain it and name the file (path), and the row is
// done (true); without, err must be nil and the row goes on to check the
// result (false).
func wantFileError(t *testing.T, err error, path, wantErr string) bool {
	t.Helper()
	if wantErr == "" {
		if err != nil {
			t.Fatal(err)
		}
		return false
	}
	if err == nil || !strings.Contains(err.Error(), wantErr) || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v, want it to name %s and contain %q", err, path, wantErr)
	}
	return true
}
