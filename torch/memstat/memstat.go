// Package memstat measures the process's memory: resident set size from
// /proc, and the bytes the C heap holds, which is where libtorch's tensors
// and gotch's handles live and where their leaks show.
package memstat

/*
#cgo LDFLAGS: -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <stdint.h>
#include <sys/types.h>

typedef int (*mallctl_fn)(const char *, void *, size_t *, void *, size_t);

// mallctl is looked up, not linked, so that a glibc_malloc build, which does
// not link jemalloc, still builds and reports glibc; NULL without jemalloc.
static mallctl_fn mallctl_lookup(void) {
	return (mallctl_fn)dlsym(RTLD_DEFAULT, "mallctl");
}

static int mallctl_read(const char *name, void *oldp, size_t *oldlenp) {
	mallctl_fn f = mallctl_lookup();
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
// heap_in_use asks jemalloc, when it serves malloc (torchrt links it), and
// glibc's mallinfo2 otherwise, which under jemalloc sees an empty heap.
static long long heap_in_use(void) {
	mallctl_fn mallctl = mallctl_lookup();
	if (mallctl != NULL) {
		uint64_t epoch = 1;
		size_t n = sizeof epoch;
		size_t allocated = 0, m = sizeof allocated;
		// Writing "epoch" refreshes the statistics jemalloc caches.
		if (mallctl("epoch", &epoch, &n, &epoch, n) == 0 &&
		    mallctl("stats.allocated", &allocated, &m, NULL, 0) == 0) {
			return (long long)allocated;
		}
		return -1;
	}
	struct mallinfo2 mi = mallinfo2();
	return (long long)(mi.uordblks + mi.hblkhd);
}

// release_freed_pages hands the pages of freed memory back to the kernel:
// every jemalloc arena's dirty and muzzy pages ("arena.4096.purge", 4096
// being MALLCTL_ARENAS_ALL), or glibc's free memory through malloc_trim.
static int release_freed_pages(void) {
	mallctl_fn mallctl = mallctl_lookup();
	if (mallctl != NULL) return mallctl("arena.4096.purge", NULL, NULL, NULL, 0);
	malloc_trim(0);
	return 0;
}
*/
import "C"

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ReleaseFreedPages returns the pages of freed C-heap memory to the kernel.
// torchrt runs jemalloc with decay off, so that libtorch's large per-step
// tensors reuse pages instead of faulting them in anew every step; but
// tensors whose sizes change from step to step (the padded LSTM's batches of
// varying length) then leave freed pages that are never reused, and the
// resident memory grows without bound (docs/decisions.md). The training
// loop calls this every few hundred steps (train.releaseEvery): the next
// step faults its pages in once, and the growth stops.
func ReleaseFreedPages() error {
	if rc := C.release_freed_pages(); rc != 0 {
		return fmt.Errorf("release freed pages: jemalloc arena purge failed (%d)", int(rc))
	}
	return nil
}

// CHeapInUse is the number of bytes allocated with malloc and not yet freed,
// or -1 when jemalloc serves malloc but was built without statistics.
func CHeapInUse() int64 { return int64(C.heap_in_use()) }

// RSS is the resident set size in bytes.
func RSS() (int64, error) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, fmt.Errorf("read /proc/self/statm: %w", err)
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, fmt.Errorf("/proc/self/statm: unexpected %q", b)
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("/proc/self/statm: %w", err)
	}
	return pages * int64(os.Getpagesize()), nil
}

// PeakRSS is the high-water mark of the resident set size in bytes (VmHWM).
func PeakRSS() (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("read /proc/self/status: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/self/status VmHWM: %w", err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("/proc/self/status has no VmHWM")
}

// Malloc describes the allocator that serves this process's memory.
type Malloc struct {
	Library    string // the shared object malloc resolves to
	Jemalloc   string // jemalloc's version; empty when malloc is not jemalloc's
	DirtyDecay int    // jemalloc's opt.dirty_decay_ms; -1 keeps freed pages
	MuzzyDecay int    // jemalloc's opt.muzzy_decay_ms
}

// Allocator reports which malloc the process uses and how it is configured.
// torchrt links jemalloc ahead of the C library, so every binary that uses
// libtorch gets it without LD_PRELOAD.
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
