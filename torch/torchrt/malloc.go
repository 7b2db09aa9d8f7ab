package torchrt

/*
#cgo LDFLAGS: -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <sys/types.h>

typedef int (*mallctl_fn)(const char *, void *, size_t *, void *, size_t);

// mallctl is looked up, not linked, so that a glibc_malloc build, which does
// not link jemalloc, still builds and reports glibc.
static int mallctl_read(const char *name, void *oldp, size_t *oldlenp) {
	mallctl_fn f = (mallctl_fn)dlsym(RTLD_DEFAULT, "mallctl");
	if (f == NULL) return -1;
	return f(name, oldp, oldlenp, NULL, 0);
}

// malloc_library names the shared object that serves malloc for the whole
// process, libtorch included: the first definition in the global lookup order.
static const char *malloc_library(void) {
	Dl_info info;
	void *f = dlsym(RTLD_DEFAULT, "malloc");
	if (f == NULL || dladdr(f, &info) == 0 || info.dli_fname == NULL) return "";
	return info.dli_fname;
}

static const char *jemalloc_version(void) {
	const char *v = NULL;
	size_t n = sizeof v;
	if (mallctl_read("version", &v, &n) != 0 || v == NULL) return "";
	return v;
}

// jemalloc_decay_ms reads opt.muzzy_decay_ms when muzzy is set, else
// opt.dirty_decay_ms; -2 when jemalloc does not know the option.
static long jemalloc_decay_ms(int muzzy) {
	const char *name = muzzy ? "opt.muzzy_decay_ms" : "opt.dirty_decay_ms";
	ssize_t v = 0;
	size_t n = sizeof v;
	if (mallctl_read(name, &v, &n) != 0) return -2;
	return (long)v;
}
*/
import "C"

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Malloc describes the allocator that serves this process's memory.
type Malloc struct {
	Library    string // the shared object malloc resolves to
	Jemalloc   string // jemalloc's version; empty when malloc is not jemalloc's
	DirtyDecay int    // jemalloc's opt.dirty_decay_ms; -1 keeps freed pages
	MuzzyDecay int    // jemalloc's opt.muzzy_decay_ms
}

// Allocator reports which malloc the process uses and how it is configured.
// torchrt links jemalloc ahead of the C library (malloc_jemalloc.go), so
// every binary that uses libtorch gets it without LD_PRELOAD; a build with
// -tags glibc_malloc keeps glibc's, for scripts/bench_malloc.sh.
func Allocator() Malloc {
	m := Malloc{Library: C.GoString(C.malloc_library())}
	if !strings.Contains(filepath.Base(m.Library), "jemalloc") {
		return m
	}
	m.Jemalloc = C.GoString(C.jemalloc_version())
	m.DirtyDecay = int(C.jemalloc_decay_ms(0))
	m.MuzzyDecay = int(C.jemalloc_decay_ms(1))
	return m
}

// String is the allocator as summary.json records it.
func (m Malloc) String() string {
	if m.Library == "" {
		return "unknown (malloc not found by dlsym)"
	}
	if m.Jemalloc == "" {
		return "malloc of " + filepath.Base(m.Library)
	}
	version, _, _ := strings.Cut(m.Jemalloc, "-")
	return fmt.Sprintf("jemalloc %s (dirty_decay_ms %d, muzzy_decay_ms %d)", version, m.DirtyDecay, m.MuzzyDecay)
}
