// Command gotch-compat prepares build/gotch: a copy of gotch from the Go module
// cache that compiles against the libtorch installed on this machine. `make
// setup` runs it; it does nothing when the copy is already up to date.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"

	"github.com/spf13/pflag"

	"torchlab/internal/gotchcompat"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("gotch-compat: ")
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		log.Fatal(err)
	}
	if _, err := gotchcompat.Run(cfg, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func parseFlags(args []string) (gotchcompat.Config, error) {
	fs := pflag.NewFlagSet("gotch-compat", pflag.ContinueOnError)
	var cfg gotchcompat.Config
	libtorch := os.Getenv("LIBTORCH")
	fs.StringVar(&cfg.GotchVersion, "gotch-version", "", "gotch version to prepare (default: the one go.mod requires)")
	fs.StringVar(&cfg.OutDir, "out", "build/gotch", "where the patched copy goes (go.mod replaces gotch with it)")
	fs.StringVar(&cfg.IncludeDir, "libtorch-include", "", "libtorch include dir (default: $LIBTORCH/include, else /usr/include)")
	fs.StringVar(&cfg.LibDir, "libtorch-lib", "", "directory with libtorch.so (default: $LIBTORCH/lib, else found under /usr/lib)")
	fs.StringVar(&cfg.CXX, "cxx", "g++", "C++ compiler used for the syntax check")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	var err error
	if cfg.GotchVersion == "" {
		if cfg.GotchVersion, err = requiredVersion("go.mod", "github.com/sugarme/gotch"); err != nil {
			return cfg, err
		}
	}
	if cfg.IncludeDir == "" {
		cfg.IncludeDir = "/usr/include"
		if libtorch != "" {
			cfg.IncludeDir = filepath.Join(libtorch, "include")
		}
	}
	if cfg.LibDir == "" {
		if cfg.LibDir, err = findLibDir(libtorch); err != nil {
			return cfg, err
		}
	}
	cfg.GotchDir, err = moduleDir("github.com/sugarme/gotch", cfg.GotchVersion)
	return cfg, err
}

// requiredVersion reads a module's version from the require block of go.mod.
func requiredVersion(goMod, module string) (string, error) {
	b, err := os.ReadFile(goMod)
	if err != nil {
		return "", fmt.Errorf("read %s (run from the repository root): %w", goMod, err)
	}
	m := regexp.MustCompile(`(?m)^\s*(?:require\s+)?` + regexp.QuoteMeta(module) + `\s+(v\S+)`).FindSubmatch(b)
	if m == nil {
		return "", fmt.Errorf("%s does not require %s", goMod, module)
	}
	return string(m[1]), nil
}

func findLibDir(libtorch string) (string, error) {
	candidates := []string{}
	if libtorch != "" {
		candidates = append(candidates, filepath.Join(libtorch, "lib"))
	}
	multiarch, _ := filepath.Glob("/usr/lib/*-linux-gnu")
	candidates = append(candidates, multiarch...)
	candidates = append(candidates, "/usr/lib", "/usr/local/lib")
	for _, dir := range candidates {
		if _, err := os.Stat(filepath.Join(dir, "libtorch.so")); err == nil {
			return dir, nil
		}
	}
	return "", fmt.Errorf("libtorch.so not found in %v: install libtorch-dev (`make setup` does) or set $LIBTORCH", candidates)
}

// moduleDir downloads (or finds) a module version in the module cache. It
// runs outside this module, whose go.mod replaces gotch with the copy being
// made.
func moduleDir(module, version string) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", module+"@"+version)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GO111MODULE=on")
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	if jsonErr := json.Unmarshal(out, &info); jsonErr == nil && info.Error != "" {
		return "", errors.New(info.Error)
	}
	if err != nil {
		return "", fmt.Errorf("go mod download %s@%s: %w", module, version, err)
	}
	if info.Dir == "" {
		return "", fmt.Errorf("go mod download %s@%s gave no directory", module, version)
	}
	return info.Dir, nil
}
