package torchrt

import "torchlab/torch/memstat"

// Malloc describes the allocator that serves this process's memory.
type Malloc = memstat.Malloc

// Allocator reports which malloc the process uses and how it is configured
// (memstat.Allocator). torchrt links jemalloc ahead of the C library
// (malloc_jemalloc.go), so every binary that uses libtorch gets it without
// LD_PRELOAD; a build with -tags glibc_malloc keeps glibc's, for
// scripts/bench_malloc.sh.
func Allocator() Malloc { return memstat.Allocator() }
