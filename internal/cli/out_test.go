package cli

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// snapshot is every file under dir and its bytes.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		files[path] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func writeFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, n := range names {
		p := filepath.Join(dir, n)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("old "+n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestClaimOutRefusesAUsedFolder: a folder that holds a run is refused
// (exit 2, naming the folder and --resume and --overwrite) and left byte
// for byte; --resume is let through; --overwrite removes the run's files
// and nothing else.
func TestClaimOutRefusesAUsedFolder(t *testing.T) {
	for _, mark := range []string{"metrics.csv", "summary.json", "checkpoint/checkpoint.json", "best/best.json"} {
		out := filepath.Join(t.TempDir(), "run")
		writeFiles(t, out, mark, "loss.png")
		before := snapshot(t, out)
		_, err := (&Common{Out: out}).ClaimOut(filepath.Join(out, "checkpoint"))
		if err == nil || ExitCode(err) != 2 || !strings.Contains(err.Error(), out+" already holds a run") ||
			!strings.Contains(err.Error(), "--resume") || !strings.Contains(err.Error(), "--overwrite") {
			t.Errorf("%s: err %v (exit %d), want a usage error naming %s, --resume and --overwrite", mark, err, ExitCode(err), out)
		}
		after := snapshot(t, out)
		if len(after) != len(before) {
			t.Errorf("%s: files %v, want %v", mark, after, before)
		}
		for p, b := range before {
			if after[p] != b {
				t.Errorf("%s: %s changed", mark, p)
			}
		}
		if _, err := (&Common{Out: out, Resume: true}).ClaimOut(filepath.Join(out, "checkpoint")); err != nil {
			t.Errorf("%s: --resume: %v", mark, err)
		}
		if _, err := (&Common{Out: out, Overwrite: true}).ClaimOut(filepath.Join(out, "checkpoint")); err != nil {
			t.Errorf("%s: --overwrite: %v", mark, err)
		}
		left := snapshot(t, out)
		if len(left) != 1 || left[filepath.Join(out, "loss.png")] == "" {
			t.Errorf("%s: after --overwrite %v, want only loss.png", mark, left)
		}
	}
	if _, err := (&Common{Out: t.TempDir(), Resume: true, Overwrite: true}).ClaimOut(""); ExitCode(err) != 2 {
		t.Errorf("--resume with --overwrite: %v, want a usage error", err)
	}
}

// TestClaimOutCheckpointElsewhere: a checkpoint in --checkpoint-dir marks
// the run too.
func TestClaimOutCheckpointElsewhere(t *testing.T) {
	ck := filepath.Join(t.TempDir(), "ck")
	writeFiles(t, ck, "checkpoint.json")
	if _, err := (&Common{Out: t.TempDir()}).ClaimOut(ck); ExitCode(err) != 2 || !strings.Contains(err.Error(), ck) {
		t.Errorf("err %v, want a usage error naming %s", err, ck)
	}
}

// TestClaimOutTidy: tidy removes the folders ClaimOut found missing when
// they are still empty, and nothing that existed or holds files.
func TestClaimOutTidy(t *testing.T) {
	root := t.TempDir()
	out := filepath.Join(root, "a", "b")
	tidy, err := (&Common{Out: out}).ClaimOut("")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	tidy()
	if _, err := os.Stat(filepath.Join(root, "a")); !os.IsNotExist(err) {
		t.Errorf("empty folders left behind: %v", err)
	}
	if _, err := os.Stat(root); err != nil {
		t.Errorf("the existing parent went: %v", err)
	}

	tidy, err = (&Common{Out: out}).ClaimOut("")
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, out, "metrics.csv")
	tidy()
	if _, err := os.Stat(filepath.Join(out, "metrics.csv")); err != nil {
		t.Errorf("a folder with files went: %v", err)
	}
}
