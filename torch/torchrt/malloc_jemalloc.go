//go:build !glibc_malloc

package torchrt

/*
#cgo LDFLAGS: -Wl,--no-as-needed -l:libjemalloc.so.2 -Wl,--as-needed

// jemalloc reads its options from this symbol when the process starts. With
// decay off it keeps the pages of freed memory mapped, so libtorch's large
// per-step tensors reuse them instead of being faulted in afresh on every
// step, as glibc's mmap threshold makes them, and jemalloc's own default
// decay gives them back too soon (docs/performance.md, "A third of the CPU
// in page faults"). The MALLOC_CONF environment variable still overrides it.
const char *malloc_conf = "dirty_decay_ms:-1,muzzy_decay_ms:-1,background_thread:false";
*/
import "C"
