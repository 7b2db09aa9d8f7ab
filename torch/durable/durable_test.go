package durable

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestWriteFileReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "summary.json")
	for _, content := range []string{"first\n", "second, longer\n", ""} {
		if err := WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Fatalf("after writing %q: read %q, %v", content, got, err)
		}
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, %v: want 0644 (readable by other tools)", fi.Mode(), err)
	}
	onlyFile(t, dir, "summary.json")
}

// TestFullDiskKeepsOldFile: the write that runs out of space fails with
// ENOSPC naming the file, leaves no temporary file, and the old content.
func TestFullDiskKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "best.json")
	if err := WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	lift := SetQuota(5)
	err := WriteFile(path, []byte("new content"), 0o644)
	lift()
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "best.json") || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("err = %v, want ENOSPC naming best.json", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Errorf("content %q after the failed write, want the old one", got)
	}
	onlyFile(t, dir, "best.json")
	if err := WriteFile(path, []byte("new content"), 0o644); err != nil {
		t.Errorf("after the quota is lifted: %v", err)
	}
}

// TestQuotaSpansFiles: the quota counts bytes across files and writers,
// like one disk, and the crossing write keeps what fits.
func TestQuotaSpansFiles(t *testing.T) {
	dir := t.TempDir()
	lift := SetQuota(10)
	defer lift()
	if err := WriteFile(filepath.Join(dir, "a"), []byte("123456"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Create(filepath.Join(dir, "b"), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	n, err := f.Write([]byte("abcdef"))
	f.Close()
	if n != 4 || !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("wrote %d bytes, err %v: want 4 bytes then ENOSPC", n, err)
	}
}

func onlyFile(t *testing.T, dir, name string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != name {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("%s holds %v, want only %s (no temporary file left)", dir, names, name)
	}
}
