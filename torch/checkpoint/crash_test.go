package checkpoint

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/sugarme/gotch/ts"

	"torchlab/torch/durable"
	"torchlab/torch/testnet"
	"torchlab/torch/torchrt"
)

// savePoints are the points of Save a crash can stop at, in order.
var savePoints = []string{
	"cleared", "folder created",
	"tensors created", "tensors written", "tensors synced",
	"metadata created", "metadata written", "metadata synced",
	"new folder synced", "previous removed", "current moved aside",
	"new folder renamed", "parent synced",
}

func tinyModel(t *testing.T) map[string]*ts.Tensor {
	t.Helper()
	torchrt.Lock()
	_, model, err := testnet.NewNamed()
	if err != nil {
		t.Fatal(err)
	}
	return model
}

// copyTree copies the folder src to dst, as a crash at that moment leaves
// it (Save syncs before each point, so the disk holds what the folder does).
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestCrashAtEveryPointOfSave stops a save (step 3, over the checkpoints of
// steps 1 and 2) at each of its points: the folder then left must load as
// step 3 or step 2, say which, and take the next save.
func TestCrashAtEveryPointOfSave(t *testing.T) {
	model := tinyModel(t)
	root := t.TempDir()
	dir := filepath.Join(root, "run", "checkpoint")
	for step := int64(1); step <= 2; step++ {
		if err := Save(dir, Meta{Step: step}, nil, model, nil); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	crashPoint = func(point string) {
		seen = append(seen, point)
		copyTree(t, filepath.Join(root, "run"), filepath.Join(root, "crash", point))
	}
	err := Save(dir, Meta{Step: 3}, nil, model, nil)
	crashPoint = nil
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seen, savePoints) {
		t.Fatalf("Save passed %q, want %q", seen, savePoints)
	}
	renamed := slices.Index(savePoints, "new folder renamed")
	for i, point := range savePoints {
		left := filepath.Join(root, "crash", point, "checkpoint")
		if !Exists(left) {
			t.Errorf("crash at %q: Exists is false", point)
			continue
		}
		meta, err := Load(left, model, nil)
		if err != nil {
			t.Errorf("crash at %q: %v", point, err)
			continue
		}
		want, fromPrev := int64(2), point == "current moved aside"
		if i >= renamed {
			want = 3
		}
		if meta.Step != want {
			t.Errorf("crash at %q: loaded step %d, want %d", point, meta.Step, want)
		}
		if got := strings.Contains(meta.Found, prevSuffix); got != fromPrev {
			t.Errorf("crash at %q: Found = %q, want the previous checkpoint named: %v", point, meta.Found, fromPrev)
		}
		if rm, err := ReadMeta(left); err != nil || rm.Step != want {
			t.Errorf("crash at %q: ReadMeta = %+v, %v; want step %d", point, rm, err, want)
		}
		// The resumed run's next save must complete over what is left.
		if err := Save(left, Meta{Step: 4}, nil, model, nil); err != nil {
			t.Errorf("crash at %q: next save: %v", point, err)
			continue
		}
		if meta, err := Load(left, model, nil); err != nil || meta.Step != 4 || meta.Found != left {
			t.Errorf("crash at %q: after the next save: %+v, %v", point, meta, err)
		}
		if _, err := os.Stat(left + newSuffix); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("crash at %q: %s left after the next save", point, left+newSuffix)
		}
	}
}

// TestDamagedCheckpoint: a truncated or empty file (what a power cut does to
// a file renamed before its data reached the disk) is an error naming the
// file, and Load falls back to the previous checkpoint when there is one.
func TestDamagedCheckpoint(t *testing.T) {
	model := tinyModel(t)
	for _, tt := range []struct {
		name, file string
		damage     func(size int64) int64 // the length to cut the file to
	}{
		{"truncated npz", tensorsFile, func(n int64) int64 { return n / 2 }},
		{"empty npz", tensorsFile, func(int64) int64 { return 0 }},
		{"empty json", metaFile, func(int64) int64 { return 0 }},
		{"truncated json", metaFile, func(n int64) int64 { return n - 10 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, withPrev := range []bool{false, true} {
				dir := filepath.Join(t.TempDir(), "checkpoint")
				if withPrev {
					if err := Save(dir, Meta{Step: 1}, nil, model, nil); err != nil {
						t.Fatal(err)
					}
				}
				if err := Save(dir, Meta{Step: 2}, nil, model, nil); err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(dir, tt.file)
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.Truncate(path, tt.damage(fi.Size())); err != nil {
					t.Fatal(err)
				}
				meta, err := Load(dir, model, nil)
				if !withPrev {
					if err == nil || !strings.Contains(err.Error(), path) {
						t.Errorf("no previous: err = %v, want an error naming %s", err, path)
					}
					continue
				}
				if err != nil {
					t.Fatalf("with a previous checkpoint: %v", err)
				}
				if meta.Step != 1 || !strings.Contains(meta.Found, dir+prevSuffix) || !strings.Contains(meta.Found, path) {
					t.Errorf("loaded step %d, Found %q: want step 1 from %s, naming %s", meta.Step, meta.Found, dir+prevSuffix, path)
				}
			}
		})
	}
}

// TestSaveOnFullDisk: a save that runs out of space fails with ENOSPC
// naming the file, leaves no partial folder, and the checkpoint before it
// still loads.
func TestSaveOnFullDisk(t *testing.T) {
	model := tinyModel(t)
	root := t.TempDir()
	dir := filepath.Join(root, "checkpoint")
	if err := Save(dir, Meta{Step: 1}, nil, model, nil); err != nil {
		t.Fatal(err)
	}
	for _, quota := range []int64{0, 100, 2000} {
		lift := durable.SetQuota(quota)
		err := Save(dir, Meta{Step: 2}, nil, model, nil)
		lift()
		if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "no space left on device") || !strings.Contains(err.Error(), filepath.Join(dir+newSuffix, tensorsFile)) {
			t.Errorf("quota %d: err = %v, want ENOSPC naming %s", quota, err, filepath.Join(dir+newSuffix, tensorsFile))
		}
		entries, _ := os.ReadDir(root)
		if len(entries) != 1 || entries[0].Name() != "checkpoint" {
			t.Errorf("quota %d: %s holds %v, want only checkpoint", quota, root, entries)
		}
		if meta, err := Load(dir, model, nil); err != nil || meta.Step != 1 {
			t.Errorf("quota %d: the checkpoint before: %+v, %v", quota, meta, err)
		}
	}
}
