// Package memstat measures the process's memory: resident set size from
// /proc, and the bytes the C heap holds (glibc's mallinfo2), which is where
// libtorch's tensors and gotch's handles live and where their leaks show.
package memstat

// #include <malloc.h>
import "C"

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// CHeapInUse is the number of bytes allocated with malloc and not yet freed.
func CHeapInUse() int64 {
	mi := C.mallinfo2()
	return int64(mi.uordblks) + int64(mi.hblkhd)
}

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
