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

typedef int (*mallctl_fn)(const char *, void *, size_t *, void *, size_t);

// heap_in_use asks jemalloc, when it serves malloc (torchrt links it), and
// glibc's mallinfo2 otherwise, which under jemalloc sees an empty heap.
static long long heap_in_use(void) {
	mallctl_fn mallctl = (mallctl_fn)dlsym(RTLD_DEFAULT, "mallctl");
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
*/
import "C"

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

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
