package datasets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tweetsDir makes root/sub/tweets look like a tweets data set.
func tweetsDir(t *testing.T, root string) string {
	t.Helper()
	for _, f := range []string{"tweetstrain.csv", "tweetstest.csv"} {
		writeFile(t, filepath.Join(root, "tweets"), f, []byte("text,label\n"))
	}
	return root
}

func TestLocate(t *testing.T) {
	root := t.TempDir()
	repo := filepath.Join(root, "work", "main")
	pkg := filepath.Join(repo, "datasets")
	shared := tweetsDir(t, filepath.Join(root, "work", "shared", "data"))
	local := tweetsDir(t, filepath.Join(root, "other", "data"))
	empty := filepath.Join(root, "empty")
	for _, d := range []string{pkg, empty} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	file := writeFile(t, root, "file", []byte("x"))

	tests := []struct {
		name          string
		flag, env, wd string
		want, by      string
		wantErr       string
	}{
		{"flag wins", shared, local, pkg, shared, "--data-dir", ""},
		{"flag missing is an error", filepath.Join(root, "nope"), "", pkg, "", "", "--data-dir"},
		{"flag is a file", file, "", pkg, "", "", "not a directory"},
		{"flag without tweets/ is an error", empty, "", pkg, "", "", "no tweets/ folder"},
		{"env", "", local, pkg, local, "TORCHLAB_DATA", ""},
		{"env missing is an error", "", filepath.Join(root, "nope"), pkg, "", "", "TORCHLAB_DATA"},
		{"repo root finds ../shared/data", "", "", repo, shared, "../shared/data", ""},
		{"package dir finds it upwards", "", "", pkg, shared, "../shared/data", ""},
		{"./data first", "", "", filepath.Join(root, "other"), local, "./data", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := locate(tt.flag, tt.env, tt.wd, "tweets")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %+v, %v; want error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(tt.want, "tweets"); got.Dir != want || got.FoundBy != tt.by || got.Sample {
				t.Errorf("got %+v, want %s found by %s", got, want, tt.by)
			}
		})
	}
}

// With no data folder anywhere, tweets and galaxies come from the bundled
// sample, which holds both in the layout the loaders read.
func TestLocateFallsBackToSample(t *testing.T) {
	wd := t.TempDir()
	for _, sub := range []string{"tweets", "galaxyzoo"} {
		src, err := locate("", "", wd, sub)
		if err != nil {
			t.Fatal(err)
		}
		if !src.Sample || src.FoundBy != "bundled sample" || filepath.Base(src.Dir) != sub {
			t.Errorf("%s: got %+v, want the bundled sample", sub, src)
		}
		if err := hasDataSet(src.Dir, sub); err != nil {
			t.Error(err)
		}
		if note := src.Note("n"); !strings.Contains(note, "bundled sample") || !strings.Contains(note, "--data-dir") {
			t.Errorf("note %q does not say it is the sample and how to change it", note)
		}
	}
	// A typed folder is never replaced by the sample.
	if _, err := locate(wd, "", wd, "tweets"); err == nil {
		t.Error("--data-dir without tweets/ fell back silently")
	}
}

func TestLocateMNIST(t *testing.T) {
	data := t.TempDir()
	for _, name := range mnistFiles {
		// Mixed raw and gzip names: either form counts.
		if strings.HasPrefix(name, "train") {
			name += ".gz"
		}
		writeFile(t, filepath.Join(data, "mnist"), name, nil)
	}
	got, err := locate(data, "", t.TempDir(), "mnist")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(data, "mnist"); got.Dir != want {
		t.Errorf("got %s, want %s", got.Dir, want)
	}

	// No data folder: the GoMNIST module, which `make setup` downloads. The
	// test suite runs after make setup, so it must be there.
	got, err = locate("", "", t.TempDir(), "mnist")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got.Dir, "!go!m!n!i!s!t@") || missingMNIST(got.Dir) != "" || got.FoundBy != "Go module cache" {
		t.Errorf("fallback %+v is not a complete GoMNIST data dir", got)
	}
}
