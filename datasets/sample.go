package datasets

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// sampleFS is the bundled sample (sample/SOURCES.md says what it holds and
// how scripts/make-sample drew it). It is embedded so that every binary
// runs anywhere, whatever its working directory.
//
//go:embed sample
var sampleFS embed.FS

// SampleDir returns a folder holding the bundled sample (tweets/,
// galaxyzoo/), extracting it on first use into the user cache directory
// ($XDG_CACHE_HOME or ~/.cache)/torchlab/sample-<hash>/. The loaders read
// files by path, and the hash in the name keeps a stale extraction of an
// older sample from being used.
func SampleDir() (string, error) {
	var files []string
	h := sha256.New()
	err := fs.WalkDir(sampleFS, "sample", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files = append(files, path)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("bundled sample: %w", err)
	}
	sort.Strings(files)
	for _, f := range files {
		b, err := sampleFS.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("bundled sample: %w", err)
		}
		fmt.Fprintf(h, "%s %d\n", f, len(b))
		h.Write(b)
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "torchlab", "sample-"+hex.EncodeToString(h.Sum(nil))[:16])
	if isDir(dir) == nil {
		return dir, nil
	}
	// Write into a temporary folder and rename it into place, so a crash or
	// a second process never sees half a sample.
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", fmt.Errorf("bundled sample: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".sample-*")
	if err != nil {
		return "", fmt.Errorf("bundled sample: %w", err)
	}
	defer os.RemoveAll(tmp)
	for _, f := range files {
		b, _ := sampleFS.ReadFile(f) // read above
		dst := filepath.Join(tmp, filepath.FromSlash(f[len("sample/"):]))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return "", fmt.Errorf("bundled sample: %w", err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			return "", fmt.Errorf("bundled sample: %w", err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil && isDir(dir) != nil {
		return "", fmt.Errorf("bundled sample: %w", err)
	}
	return dir, nil
}
