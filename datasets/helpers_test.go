package datasets

import (
	"os"
	"path/filepath"
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
