package gotchcompat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// FormatVersion changes whenever this package changes what it writes, so a
// copy made by an older version is rebuilt.
const FormatVersion = 5

// maxPasses bounds the compile-and-stub loop: stubbing a wrapper can only
// remove errors, so a second pass is expected to find none.
const maxPasses = 3

// Config says where gotch comes from, where the patched copy goes and which
// libtorch it must build against.
type Config struct {
	GotchDir     string // gotch as unpacked in the Go module cache
	GotchVersion string // for the stamp and messages, e.g. v0.9.1
	OutDir       string // generated copy the build uses (go.mod replaces gotch with it)
	IncludeDir   string // libtorch headers: IncludeDir/torch/csrc/api/include must exist
	LibDir       string // directory holding libtorch.so
	CXX          string // C++ compiler, g++ by default
}

// Stamp records what a patched copy was made from; a matching stamp means
// there is nothing to do.
type Stamp struct {
	FormatVersion   int      `json:"format_version"`
	GotchVersion    string   `json:"gotch_version"`
	LibtorchVersion string   `json:"libtorch_version"`
	IncludeDir      string   `json:"include_dir"`
	LibDir          string   `json:"lib_dir"`
	Stubbed         []string `json:"stubbed"`
	OutputArrays    int      `json:"output_arrays_fixed"`
	InPlaceHandles  int      `json:"in_place_handles_fixed"`
	KeptAlive       int      `json:"functions_keeping_arguments_alive"`
}

const stampName = ".torchlab-compat.json"

// Run makes cfg.OutDir a copy of gotch that builds against the installed
// libtorch, reporting each step to log. It is quick when a matching copy
// exists already.
func Run(cfg Config, log io.Writer) (*Stamp, error) {
	if cfg.CXX == "" {
		cfg.CXX = "g++"
	}
	version, err := LibtorchVersion(cfg.IncludeDir)
	if err != nil {
		return nil, err
	}
	want := Stamp{FormatVersion: FormatVersion, GotchVersion: cfg.GotchVersion, LibtorchVersion: version,
		IncludeDir: cfg.IncludeDir, LibDir: cfg.LibDir}
	if have, err := readStamp(cfg.OutDir); err == nil && have.matches(want) {
		fmt.Fprintf(log, "gotch %s in %s already builds against libtorch %s (%d wrappers stubbed)\n",
			cfg.GotchVersion, cfg.OutDir, version, len(have.Stubbed))
		return have, nil
	}

	tmp := cfg.OutDir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "copying gotch %s from %s\n", cfg.GotchVersion, cfg.GotchDir)
	if err := copyTree(cfg.GotchDir, tmp); err != nil {
		return nil, fmt.Errorf("copy gotch: %w", err)
	}
	libDir := filepath.Join(tmp, "libtch")
	if err := os.WriteFile(filepath.Join(libDir, "lib.go"), []byte(CPULibGo(cfg.IncludeDir, cfg.LibDir)), 0o644); err != nil {
		return nil, err
	}

	stubbed, err := stubUntilClean(cfg, libDir, version, log)
	if err != nil {
		return nil, err
	}
	want.Stubbed = stubbed

	want.OutputArrays, want.InPlaceHandles, err = fixLeaks(filepath.Join(tmp, "ts"))
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "fixed %d leaking output arrays and %d in-place handle leaks in gotch's Go code\n",
		want.OutputArrays, want.InPlaceHandles)
	if want.KeptAlive, err = keepArgumentsAlive(filepath.Join(tmp, "ts")); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "%d functions of gotch's package ts now keep their tensor and scalar arguments alive until they return\n",
		want.KeptAlive)

	if err := writeStamp(tmp, &want); err != nil {
		return nil, err
	}
	if err := os.RemoveAll(cfg.OutDir); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, cfg.OutDir); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "gotch %s ready in %s: %d wrappers stubbed for libtorch %s\n",
		cfg.GotchVersion, cfg.OutDir, len(stubbed), version)
	return &want, nil
}

// stubUntilClean compiles gotch's C++ API for syntax only, stubs the wrappers
// that fail, and repeats until it compiles.
func stubUntilClean(cfg Config, libDir, version string, log io.Writer) ([]string, error) {
	genPath := filepath.Join(libDir, "torch_api_generated.cpp.h")
	var stubbed []string
	for pass := 1; ; pass++ {
		fmt.Fprintf(log, "pass %d: compiling %s against libtorch %s (syntax only, about a minute)\n",
			pass, filepath.Base(genPath), version)
		out, compileErr := syntaxCheck(cfg, libDir)
		if compileErr == nil {
			return stubbed, nil
		}
		if pass == maxPasses {
			return nil, fmt.Errorf("gotch still fails to compile after %d passes:\n%s", maxPasses, tail(out, 40))
		}
		srcBytes, err := os.ReadFile(genPath)
		if err != nil {
			return nil, err
		}
		src := string(srcBytes)
		wrappers, err := FindWrappers(src)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", genPath, err)
		}
		hit, outside := WrappersAt(wrappers, ErrorLines(out, "torch_api_generated.cpp.h"))
		if len(hit) == 0 || len(outside) > 0 {
			return nil, fmt.Errorf("compile errors that stubbing cannot fix (lines %v of the generated file; %v):\n%s",
				outside, compileErr, tail(out, 40))
		}
		for _, w := range hit {
			fmt.Fprintf(log, "  stub %s\n", w.Name)
			stubbed = append(stubbed, w.Name)
		}
		if err := os.WriteFile(genPath, []byte(Stub(src, hit, version)), 0o644); err != nil {
			return nil, err
		}
	}
}

func syntaxCheck(cfg Config, libDir string) (string, error) {
	args := append([]string{"-fsyntax-only", "-fmax-errors=0", "-w"}, cxxFlags(cfg.IncludeDir)...)
	args = append(args, "-I"+libDir, filepath.Join(libDir, "torch_api.cpp"))
	cmd := exec.Command(cfg.CXX, args...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	return buf.String(), err
}

func cxxFlags(includeDir string) []string {
	return []string{"-std=c++17", "-D_GLIBCXX_USE_CXX11_ABI=1",
		"-I" + includeDir,
		"-I" + filepath.Join(includeDir, "torch", "csrc", "api", "include"),
		"-I" + filepath.Join(includeDir, "torch", "csrc")}
}

// CPULibGo is gotch's libtch/lib.go for a CPU-only libtorch: it links no CUDA
// library and uses the C++11 ABI that Debian's libtorch is built with.
func CPULibGo(includeDir, libDir string) string {
	return fmt.Sprintf(`// Code generated by torchlab's gotchcompat for a CPU-only libtorch. DO NOT EDIT.

package libtch

// #cgo LDFLAGS: -lstdc++ -ltorch -lc10 -ltorch_cpu -L%[2]s -Wl,-rpath,%[2]s
// #cgo CFLAGS: -I${SRCDIR} -O2 -Wall -Wno-unused-variable -Wno-deprecated-declarations -Wno-c++11-narrowing -Wno-sign-compare -Wno-unused-function
// #cgo CFLAGS: -D_GLIBCXX_USE_CXX11_ABI=1
// #cgo CXXFLAGS: -std=c++17 -I${SRCDIR} -O2 -w %[1]s
import "C"
`, strings.Join(cxxFlags(includeDir), " "), libDir)
}

var versionDefine = regexp.MustCompile(`#define TORCH_VERSION_(MAJOR|MINOR|PATCH) (\d+)`)

// LibtorchVersion reads the version of the libtorch headers in includeDir.
func LibtorchVersion(includeDir string) (string, error) {
	path := filepath.Join(includeDir, "torch", "csrc", "api", "include", "torch", "version.h")
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("libtorch headers not found (is libtorch-dev installed? `make setup` installs it): %w", err)
	}
	parts := map[string]string{}
	for _, m := range versionDefine.FindAllStringSubmatch(string(b), -1) {
		parts[m[1]] = m[2]
	}
	if len(parts) != 3 {
		return "", fmt.Errorf("%s: no TORCH_VERSION_MAJOR/MINOR/PATCH defines", path)
	}
	return parts["MAJOR"] + "." + parts["MINOR"] + "." + parts["PATCH"], nil
}

func fixLeaks(tsDir string) (outputArrays, inPlace int, err error) {
	for _, name := range []string{"tensor-generated.go", "patch.go"} {
		path := filepath.Join(tsDir, name)
		b, err := os.ReadFile(path)
		if err != nil {
			return 0, 0, err
		}
		src, n := FixOutputArrays(string(b))
		outputArrays += n
		src, m := FixInPlaceHandles(src)
		inPlace += m
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			return 0, 0, err
		}
	}
	if outputArrays == 0 || inPlace == 0 {
		return 0, 0, errors.New("gotch's generated Go code no longer has the expected shape: no leak was found to fix; check internal/gotchcompat against this gotch version")
	}
	return outputArrays, inPlace, nil
}

// keepArgumentsAlive runs KeepArgumentsAlive over every Go file of gotch's
// package ts but its tests.
func keepArgumentsAlive(tsDir string) (int, error) {
	paths, err := filepath.Glob(filepath.Join(tsDir, "*.go"))
	if err != nil {
		return 0, err
	}
	total := 0
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return 0, err
		}
		src, n, err := KeepArgumentsAlive(string(b))
		if err != nil {
			return 0, fmt.Errorf("keep arguments alive in %s: %w", path, err)
		}
		if n == 0 {
			continue
		}
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			return 0, err
		}
		total += n
	}
	if total == 0 {
		return 0, errors.New("gotch's package ts has no function taking a *Tensor: check internal/gotchcompat against this gotch version")
	}
	return total, nil
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			// gotch's examples are main packages with their own data; the
			// build never needs them.
			if rel == "example" {
				return filepath.SkipDir
			}
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}

func readStamp(dir string) (*Stamp, error) {
	b, err := os.ReadFile(filepath.Join(dir, stampName))
	if err != nil {
		return nil, err
	}
	var s Stamp
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

func writeStamp(dir string, s *Stamp) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, stampName), append(b, '\n'), 0o644)
}

func (s *Stamp) matches(want Stamp) bool {
	return s.FormatVersion == want.FormatVersion && s.GotchVersion == want.GotchVersion &&
		s.LibtorchVersion == want.LibtorchVersion && s.IncludeDir == want.IncludeDir && s.LibDir == want.LibDir
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
