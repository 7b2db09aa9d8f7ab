// Package torchrt holds the process-wide libtorch settings every torchlab
// binary and test needs: one locked OS thread, the intra-op thread count and
// the random seed.
//
// libtorch's grad mode and gotch's last-error slot are thread-local, while a
// goroutine may move between OS threads between two cgo calls. A training
// loop that is not locked to one thread therefore fails at random ("element 0
// of tensors does not require grad"). Every goroutine that talks to libtorch
// must call Lock first; binaries do it in an init function of package main.
package torchrt

// #cgo CXXFLAGS: -std=c++17 -O2 -D_GLIBCXX_USE_CXX11_ABI=1 -w
// #cgo LDFLAGS: -lstdc++ -ltorch_cpu -lc10
// #include <stdlib.h>
// #include "shim.h"
import "C"

import (
	"errors"
	"fmt"
	"math/rand"
	"runtime"
	"unsafe"
)

// Lock wires the calling goroutine to its OS thread for the rest of its life,
// so that all of its libtorch calls see the same thread-local state.
func Lock() { runtime.LockOSThread() }

// Config is what a binary's --threads and --seed flags set.
type Config struct {
	Threads int   // intra-op threads; 0 means one per CPU core
	Seed    int64 // seeds libtorch's generator and the returned Go RNG
}

// Init locks the calling goroutine, sets libtorch's thread count and seeds
// libtorch. It returns a Go RNG seeded the same way, for data shuffling.
func Init(cfg Config) (*rand.Rand, error) {
	Lock()
	threads := cfg.Threads
	if threads == 0 {
		threads = runtime.NumCPU()
	}
	if threads < 0 {
		return nil, fmt.Errorf("threads must be >= 0, got %d", threads)
	}
	if err := SetThreads(threads); err != nil {
		return nil, err
	}
	if err := ManualSeed(cfg.Seed); err != nil {
		return nil, err
	}
	return rand.New(rand.NewSource(cfg.Seed)), nil
}

// check turns an error string from the shim into an error (nil for none).
func check(msg *C.char) error {
	if msg == nil {
		return nil
	}
	defer C.free(unsafe.Pointer(msg))
	return errors.New(C.GoString(msg))
}

// SetThreads sets libtorch's intra-op thread count (n >= 1; libtorch refuses
// 0 with an error). Debian's libtorch starts with 1 even on a multi-core
// machine.
func SetThreads(n int) error {
	if err := check(C.torchlab_set_num_threads(C.int(n))); err != nil {
		return fmt.Errorf("set %d libtorch threads: %w", n, err)
	}
	return nil
}

// Threads reports libtorch's intra-op thread count.
func Threads() int { return int(C.torchlab_get_num_threads()) }

// ManualSeed seeds libtorch's default CPU generator, as torch.manual_seed does.
func ManualSeed(seed int64) error {
	if err := check(C.torchlab_manual_seed(C.int64_t(seed))); err != nil {
		return fmt.Errorf("seed libtorch: %w", err)
	}
	return nil
}

// NoGrad runs f with gradient recording off and restores the previous grad
// mode afterwards, even when f fails. (gotch's ts.NoGrad turns grad mode on
// unconditionally when it returns.)
func NoGrad(f func() error) error {
	prev := SetGradEnabled(false)
	defer SetGradEnabled(prev)
	return f()
}

// SetGradEnabled sets this thread's grad mode and returns the previous one.
func SetGradEnabled(on bool) bool {
	v := 0
	if on {
		v = 1
	}
	return C.torchlab_set_grad_enabled(C.int(v)) == 1
}

// GradEnabled reports whether libtorch records gradients on this thread.
func GradEnabled() bool {
	prev := SetGradEnabled(true)
	SetGradEnabled(prev)
	return prev
}
