package gotchcompat

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// generated mimics the shape of gotch's torch_api_generated.cpp.h.
const generated = `// header
void atg_good(tensor *out__, tensor self) {
  PROTECT(
    auto outputs__ = good(self);
    out__[0] = new int(outputs__);
  )
}

int64_t atg_bad(tensor self) {
  PROTECT(
    return missing_op(self);
  )
  return 0;
}

tensor *atg_bad_list(tensor self, int64_t dim) {
  PROTECT(
    auto x = missing_list(self, dim);
  )
  return nullptr;
}
`

func TestFindWrappers(t *testing.T) {
	ws, err := FindWrappers(generated)
	if err != nil {
		t.Fatal(err)
	}
	want := []Wrapper{
		{Name: "atg_good", ReturnType: "void", First: 2, Last: 7},
		{Name: "atg_bad", ReturnType: "int64_t", First: 9, Last: 14},
		{Name: "atg_bad_list", ReturnType: "tensor *", First: 16, Last: 21},
	}
	if len(ws) != len(want) {
		t.Fatalf("got %d wrappers %+v, want %d", len(ws), ws, len(want))
	}
	for i := range want {
		if ws[i] != want[i] {
			t.Errorf("wrapper %d = %+v, want %+v", i, ws[i], want[i])
		}
	}
}

func TestFindWrappersUnclosed(t *testing.T) {
	if _, err := FindWrappers("void atg_x(int a) {\n  PROTECT(\n"); err == nil {
		t.Fatal("want an error for a wrapper without closing brace")
	}
}

func TestErrorLinesAndWrappersAt(t *testing.T) {
	out := strings.Join([]string{
		"In file included from torch_api.cpp:1:",
		"/x/libtch/torch_api_generated.cpp.h:11:12: error: 'missing_op' was not declared",
		"/x/libtch/torch_api_generated.cpp.h:11:20: error: again on the same line",
		"/x/libtch/torch_api_generated.cpp.h:18:5: error: 'missing_list' was not declared",
		"/usr/include/other.h:5:1: error: not ours",
		"/x/libtch/torch_api_generated.cpp.h:30:1: error: outside any wrapper",
		"/x/libtch/torch_api_generated.cpp.h:4:1: note: notes are not errors",
	}, "\n")
	lines := ErrorLines(out, "torch_api_generated.cpp.h")
	if got, want := lines, []int{11, 18, 30}; !equalInts(got, want) {
		t.Fatalf("ErrorLines = %v, want %v", got, want)
	}
	ws, _ := FindWrappers(generated)
	hit, outside := WrappersAt(ws, lines)
	if len(hit) != 2 || hit[0].Name != "atg_bad" || hit[1].Name != "atg_bad_list" {
		t.Errorf("hit = %+v, want atg_bad and atg_bad_list", hit)
	}
	if !equalInts(outside, []int{30}) {
		t.Errorf("outside = %v, want [30]", outside)
	}
}

func TestStubKeepsOtherWrappers(t *testing.T) {
	ws, _ := FindWrappers(generated)
	out := Stub(generated, ws[1:2], "1.13.0")
	if strings.Contains(out, "missing_op") {
		t.Error("stubbed body still calls missing_op")
	}
	if !strings.Contains(out, "missing_list") || !strings.Contains(out, "auto outputs__ = good(self);") {
		t.Error("stub changed wrappers it was not asked to")
	}
	if !strings.Contains(out, `"atg_bad is not available`) || !strings.Contains(out, "libtorch 1.13.0") {
		t.Errorf("stub message lacks op name or version:\n%s", out)
	}
	after, err := FindWrappers(out)
	if err != nil || len(after) != 3 {
		t.Fatalf("stubbed source no longer parses into 3 wrappers: %v %+v", err, after)
	}
}

// TestCompileAndStub runs the real loop on a tiny translation unit: the
// wrappers that name missing functions are stubbed, the result compiles, and
// a source that compiles is left byte-for-byte alone.
func TestCompileAndStub(t *testing.T) {
	if _, err := exec.LookPath("g++"); err != nil {
		t.Fatalf("g++ is needed to build gotch at all (make setup installs build-essential): %v", err)
	}
	prelude := `#include <stdexcept>
#include <cstring>
#include <cstdint>
typedef int *tensor;
thread_local char *torch_last_err = nullptr;
#define PROTECT(x) try { x } catch (const std::exception &e) { torch_last_err = strdup(e.what()); }
int good(tensor t) { return *t; }
#include "gen.h"
`
	for _, tc := range []struct {
		name      string
		gen       string
		wantStubs []string
	}{
		{"broken", generated, []string{"atg_bad", "atg_bad_list"}},
		{"clean", strings.SplitAfter(generated, "}\n")[0], nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, filepath.Join(dir, "torch_api.cpp"), prelude)
			write(t, filepath.Join(dir, "torch_api_generated.cpp.h"), tc.gen)
			// The test's translation unit includes gen.h; point it at the generated file.
			write(t, filepath.Join(dir, "gen.h"), `#include "torch_api_generated.cpp.h"`+"\n")
			got, err := stubUntilClean(Config{CXX: "g++", IncludeDir: dir}, dir, "9.9.9", &strings.Builder{})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, ",") != strings.Join(tc.wantStubs, ",") {
				t.Errorf("stubbed %v, want %v", got, tc.wantStubs)
			}
			after, _ := os.ReadFile(filepath.Join(dir, "torch_api_generated.cpp.h"))
			if tc.wantStubs == nil && string(after) != tc.gen {
				t.Error("a source that compiles was changed")
			}
		})
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
