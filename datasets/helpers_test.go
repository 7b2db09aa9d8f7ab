package datasets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// realDataDir returns the shared data directory's sub folder, or skips the
// test: the real data lives outside the repo and is not on every machine.
func realDataDir(t *testing.T, sub string) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := findDataDir("", "", wd)
	if err != nil {
		t.Skipf("real data not available: %v", err)
	}
	d := filepath.Join(dir, sub)
	if isDir(d) != nil {
		t.Skipf("real data not available: no %s", d)
	}
	return d
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
