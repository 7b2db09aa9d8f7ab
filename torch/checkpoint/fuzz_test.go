package checkpoint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzReadMeta: any checkpoint.json gives metadata or an error naming the
// file, never a panic. Seeds: the metadata Save writes, cut short, empty.
func FuzzReadMeta(f *testing.F) {
	seed := []byte(`{
  "step": 12,
  "epoch": 1,
  "seed": 1,
  "optimizer_steps": 12,
  "param_steps": {"fc.bias": 12, "fc.weight": 9},
  "optimizer": {"name": "adam", "lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
  "config": {"epochs": 2, "out": "out/vgg-mnist"},
  "saved": "2026-12-07T19:58:07Z",
  "seconds": 3.5
}
`)
	f.Add(seed)
	f.Add(seed[:len(seed)/2])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, metaFile)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		meta, err := ReadMeta(dir)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error does not name %s: %v", path, err)
			}
			return
		}
		if meta.Found != dir {
			t.Errorf("Found = %q, want %q", meta.Found, dir)
		}
	})
}
