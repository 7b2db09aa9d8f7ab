// Package gotchcompat makes a copy of gotch build against the libtorch that is
// installed on this machine.
//
// gotch v0.9.1 is generated for libtorch 2.1 and links CUDA; Debian 12 ships a
// CPU-only libtorch 1.13.1. Three things are needed and done here, on a copy of
// gotch taken from the Go module cache (never a copy committed to the repo):
//
//   - a CPU lib.go with the installed libtorch's include and library paths;
//   - the generated C++ wrappers that name ATen ops missing from (or changed
//     in) the installed libtorch get a body that raises a C++ exception, so
//     that calling one returns an ordinary Go error naming the op;
//   - two memory leaks of the generated Go code are fixed (see leaks.go).
//
// A libtorch that gotch matches produces no compile errors and so nothing is
// stubbed.
package gotchcompat

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// wrapperStart matches the first line of a generated wrapper, for example
// "tensor *atg_split(tensor self, int64_t split_size, int64_t dim) {".
var wrapperStart = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_ ]*?\s*\**)\s*(atg_[A-Za-z0-9_]+)\(.*\)\s*\{\s*$`)

// Wrapper is one generated C++ function: its name, return type and the
// 1-based line range from its signature to its closing brace.
type Wrapper struct {
	Name       string
	ReturnType string
	First      int
	Last       int
}

// FindWrappers lists the generated wrapper functions of src in file order.
// Every wrapper begins with a signature line ending in "{" and ends with a
// line that is exactly "}".
func FindWrappers(src string) ([]Wrapper, error) {
	lines := strings.Split(src, "\n")
	var out []Wrapper
	for i := 0; i < len(lines); i++ {
		m := wrapperStart.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		w := Wrapper{Name: m[2], ReturnType: strings.TrimSpace(m[1]), First: i + 1}
		for j := i + 1; j < len(lines); j++ {
			if lines[j] == "}" {
				w.Last = j + 1
				break
			}
			if wrapperStart.MatchString(lines[j]) {
				return nil, fmt.Errorf("line %d: wrapper %s has no closing brace before line %d", i+1, w.Name, j+1)
			}
		}
		if w.Last == 0 {
			return nil, fmt.Errorf("line %d: wrapper %s has no closing brace", i+1, w.Name)
		}
		out = append(out, w)
		i = w.Last - 1
	}
	return out, nil
}

// ErrorLines returns the sorted, distinct line numbers of compiler errors
// (GCC or Clang format "FILE:LINE:COL: error: ...") reported in a file whose
// path ends with fileSuffix.
func ErrorLines(compilerOutput, fileSuffix string) []int {
	seen := map[int]bool{}
	for _, line := range strings.Split(compilerOutput, "\n") {
		idx := strings.Index(line, ": error:")
		if idx < 0 {
			continue
		}
		loc := strings.Split(line[:idx], ":")
		if len(loc) < 3 || !strings.HasSuffix(loc[0], fileSuffix) {
			continue
		}
		n, err := strconv.Atoi(loc[1])
		if err == nil {
			seen[n] = true
		}
	}
	out := make([]int, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Ints(out)
	return out
}

// WrappersAt maps error line numbers to the wrappers that contain them. A
// line outside every wrapper is returned in outside: it cannot be fixed by
// stubbing and must be reported.
func WrappersAt(wrappers []Wrapper, lines []int) (hit []Wrapper, outside []int) {
	seen := map[string]bool{}
	for _, n := range lines {
		i := sort.Search(len(wrappers), func(i int) bool { return wrappers[i].Last >= n })
		if i == len(wrappers) || wrappers[i].First > n {
			outside = append(outside, n)
			continue
		}
		if !seen[wrappers[i].Name] {
			seen[wrappers[i].Name] = true
			hit = append(hit, wrappers[i])
		}
	}
	return hit, outside
}

// Stub replaces the bodies of the given wrappers in src. The new body raises
// inside PROTECT, which stores the message in gotch's last-error slot, so the
// Go side returns an error naming the op and why it is missing.
func Stub(src string, stubs []Wrapper, libtorchVersion string) string {
	lines := strings.Split(src, "\n")
	byFirst := map[int]Wrapper{}
	for _, w := range stubs {
		byFirst[w.First] = w
	}
	var b strings.Builder
	for i := 0; i < len(lines); i++ {
		w, ok := byFirst[i+1]
		if !ok {
			b.WriteString(lines[i])
			if i < len(lines)-1 {
				b.WriteByte('\n')
			}
			continue
		}
		b.WriteString(lines[i])
		b.WriteByte('\n')
		fmt.Fprintf(&b, "  // Stubbed by torchlab's gotchcompat: does not compile against libtorch %s.\n", libtorchVersion)
		fmt.Fprintf(&b, "  PROTECT(\n    throw std::runtime_error(%q);\n  )\n",
			fmt.Sprintf("%s is not available: gotch's wrapper does not compile against the installed libtorch %s (stubbed by torchlab's gotchcompat)", w.Name, libtorchVersion))
		if w.ReturnType != "void" {
			b.WriteString("  return 0;\n")
		}
		b.WriteString("}")
		if w.Last < len(lines) {
			b.WriteByte('\n')
		}
		i = w.Last - 1
	}
	return b.String()
}
