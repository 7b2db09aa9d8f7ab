//go:build !glibc_malloc

package torchrt_test

import (
	"strings"
	"testing"

	"torchlab/torch/torchrt"
)

// TestJemallocServesTheProcess checks that linking torchrt is enough: malloc
// resolves into jemalloc for the whole process, and the decay options come
// from torchrt's malloc_conf, not jemalloc's defaults (10 s and 0 s), which
// are slower than glibc for the resnet VAE (docs/performance.md).
func TestJemallocServesTheProcess(t *testing.T) {
	m := torchrt.Allocator()
	if !strings.Contains(m.Library, "jemalloc") || m.Jemalloc == "" {
		t.Fatalf("malloc resolves to %q (jemalloc version %q), want libjemalloc", m.Library, m.Jemalloc)
	}
	if m.DirtyDecay != -1 || m.MuzzyDecay != -1 {
		t.Errorf("dirty_decay_ms %d, muzzy_decay_ms %d; want -1 and -1 from torchrt's malloc_conf", m.DirtyDecay, m.MuzzyDecay)
	}
	if s := m.String(); !strings.HasPrefix(s, "jemalloc 5.") {
		t.Errorf("String() = %q, want it to name jemalloc 5.x", s)
	}
}
