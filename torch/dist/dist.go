// Package dist binds libtorch's own distributed engine, c10d: a TCPStore
// for the rendezvous and a ProcessGroupGloo for the collectives (all-reduce,
// broadcast, barrier) on CPU tensors. Processes find each other the way
// torchrun's static rendezvous does, through MASTER_ADDR, MASTER_PORT, RANK,
// WORLD_SIZE and LOCAL_RANK (FromEnv), so a Go rank and a Python rank
// (torch.distributed, backend "gloo") can join one group.
//
// Every collective is bounded by the group's timeout: a rank that dies makes
// the others' next collective fail with an error (Gloo sees the connection
// close, or the timeout passes), never hang.
package dist

// #cgo CXXFLAGS: -std=c++17 -O2 -D_GLIBCXX_USE_CXX11_ABI=1 -DUSE_C10D_GLOO -w -I/usr/include/torch/csrc/api/include
// #cgo LDFLAGS: -lstdc++ -ltorch_cpu -lc10
// #include <stdlib.h>
// #include "dist.h"
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"
	"unsafe"

	"github.com/sugarme/gotch/ts"
)

// BucketBytes is the most a single collective carries; larger sets of
// tensors go in several flat buckets (PyTorch DDP's default is 25 MiB).
const BucketBytes = 25 << 20

// Group is this process's membership of a process group.
type Group struct {
	ptr    unsafe.Pointer
	cfg    Config
	calls  int // collectives made, for error messages
	stats  Stats
	joined time.Time
}

// Stats add up a group's collectives since Join: how many, the bytes of
// the tensors they carried, and the time spent in them.
type Stats struct {
	Calls   int
	Bytes   int64
	Seconds float64
	Since   time.Duration // since Join
}

// Stats are the group's collectives so far.
func (g *Group) Stats() Stats {
	s := g.stats
	s.Calls, s.Since = g.calls, time.Since(g.joined)
	return s
}

// Join connects to the group that cfg describes: rank 0 starts the TCPStore
// at cfg.Addr:cfg.Port (unless torchrun's agent hosts it: cfg.AgentStore),
// the others connect to it, and all wait until cfg.World ranks are there
// (at most cfg.Timeout).
func Join(cfg Config) (*Group, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	host := C.CString(cfg.Addr)
	defer C.free(unsafe.Pointer(host))
	iface := C.CString(cfg.Interface)
	defer C.free(unsafe.Pointer(iface))
	prefix := C.CString(cfg.storePrefix())
	defer C.free(unsafe.Pointer(prefix))
	serve := 0
	if cfg.servesStore() {
		serve = 1
	}
	var ptr unsafe.Pointer
	msg := C.torchlab_dist_join(host, C.int(cfg.Port), C.int(cfg.Rank), C.int(cfg.World),
		C.int64_t(cfg.Timeout.Milliseconds()), iface, C.int(serve), prefix, &ptr)
	if err := errOf(msg); err != nil {
		what := "connect to"
		if cfg.servesStore() {
			what = "start"
		}
		return nil, fmt.Errorf("rank %d of %d: %s the rendezvous at %s:%d (timeout %s): %w",
			cfg.Rank, cfg.World, what, cfg.Addr, cfg.Port, cfg.Timeout, err)
	}
	return &Group{ptr: ptr, cfg: cfg, joined: time.Now()}, nil
}

// Rank is this process's rank, 0..World()-1.
func (g *Group) Rank() int { return g.cfg.Rank }

// World is the number of ranks.
func (g *Group) World() int { return g.cfg.World }

// Close leaves the group.
func (g *Group) Close() {
	if g.ptr != nil {
		C.torchlab_dist_free(g.ptr)
		g.ptr = nil
	}
}

// AllReduceSum replaces each tensor by its sum over the ranks.
func (g *Group) AllReduceSum(tensors ...*ts.Tensor) error {
	return g.call("all-reduce", func(p *unsafe.Pointer, n C.int) *C.char {
		return C.torchlab_dist_allreduce(g.ptr, p, n, 0, BucketBytes)
	}, tensors)
}

// AllReduceMean replaces each tensor by its mean over the ranks.
func (g *Group) AllReduceMean(tensors ...*ts.Tensor) error {
	return g.call("all-reduce", func(p *unsafe.Pointer, n C.int) *C.char {
		return C.torchlab_dist_allreduce(g.ptr, p, n, 1, BucketBytes)
	}, tensors)
}

// AverageGrads replaces each parameter's gradient by its mean over the
// ranks (a parameter without one counts as zeros), as DDP does after
// backward.
func (g *Group) AverageGrads(params []*ts.Tensor) error {
	return g.call("gradient all-reduce", func(p *unsafe.Pointer, n C.int) *C.char {
		return C.torchlab_dist_allreduce_grads(g.ptr, p, n, BucketBytes)
	}, params)
}

// Broadcast copies root's tensors into every rank's.
func (g *Group) Broadcast(root int, tensors ...*ts.Tensor) error {
	return g.call(fmt.Sprintf("broadcast from rank %d", root), func(p *unsafe.Pointer, n C.int) *C.char {
		return C.torchlab_dist_broadcast(g.ptr, p, n, C.int(root), BucketBytes)
	}, tensors)
}

// Barrier returns when every rank has called it.
func (g *Group) Barrier() error {
	return g.call("barrier", func(*unsafe.Pointer, C.int) *C.char { return C.torchlab_dist_barrier(g.ptr) }, nil)
}

// call runs one collective on the C tensors of tensors.
func (g *Group) call(what string, f func(p *unsafe.Pointer, n C.int) *C.char, tensors []*ts.Tensor) error {
	defer runtime.KeepAlive(tensors)
	if g.ptr == nil {
		return fmt.Errorf("%s: the group is closed", what)
	}
	g.calls++
	var first *unsafe.Pointer
	if len(tensors) > 0 {
		// C memory: cgo forbids passing Go memory that holds pointers.
		first = (*unsafe.Pointer)(C.malloc(C.size_t(len(tensors)) * C.size_t(unsafe.Sizeof(uintptr(0)))))
		defer C.free(unsafe.Pointer(first))
		ptrs := unsafe.Slice(first, len(tensors))
		for i, t := range tensors {
			ptrs[i] = unsafe.Pointer(t.Ctensor())
			g.stats.Bytes += int64(t.Numel() * t.DType().Size())
		}
	}
	began := time.Now()
	defer func() { g.stats.Seconds += time.Since(began).Seconds() }()
	if err := errOf(f(first, C.int(len(tensors)))); err != nil {
		return fmt.Errorf("rank %d of %d: %s (collective %d) failed; %s: %w",
			g.cfg.Rank, g.cfg.World, what, g.calls, g.whoIsGone(), err)
	}
	return nil
}

// RollCallWait bounds how long a rank whose collective failed waits for
// the others to answer the roll call that names the missing ranks.
const RollCallWait = 5 * time.Second

// whoIsGone says which ranks did not answer a roll call in the store after
// a failed collective (a rank that stopped, was killed or is stuck).
func (g *Group) whoIsGone() string {
	answered := (*C.int)(C.calloc(C.size_t(g.cfg.World), C.size_t(unsafe.Sizeof(C.int(0)))))
	defer C.free(unsafe.Pointer(answered))
	if err := errOf(C.torchlab_dist_rollcall(g.ptr, C.int(g.cfg.Rank), C.int64_t(RollCallWait.Milliseconds()), answered)); err != nil {
		return fmt.Sprintf("rank 0, which serves the rendezvous store at %s:%d, cannot be reached (stopped or killed?)", g.cfg.Addr, g.cfg.Port)
	}
	var gone []string
	for r, ok := range unsafe.Slice(answered, g.cfg.World) {
		if ok == 0 {
			gone = append(gone, fmt.Sprint(r))
		}
	}
	switch len(gone) {
	case 0:
		return "every rank answered a roll call afterwards, so the connection between them failed"
	case 1:
		return fmt.Sprintf("rank %s did not answer a roll call within %v: it stopped, was killed or is stuck", gone[0], RollCallWait)
	}
	return fmt.Sprintf("ranks %s did not answer a roll call within %v: they stopped, were killed or are stuck", strings.Join(gone, ", "), RollCallWait)
}

func errOf(msg *C.char) error {
	if msg == nil {
		return nil
	}
	defer C.free(unsafe.Pointer(msg))
	return errors.New(firstLines(C.GoString(msg), 3))
}

// Timeout is the default bound on the rendezvous and on each collective.
const Timeout = 60 * time.Second

// SumFloat64s returns the element-wise sum of v over the ranks (every rank
// passes the same length), e.g. the loss sums and counts of an evaluation
// each rank ran on its share.
func (g *Group) SumFloat64s(v []float64) ([]float64, error) {
	t, err := ts.OfSlice(v)
	if err != nil {
		return nil, err
	}
	defer t.MustDrop()
	if err := g.AllReduceSum(t); err != nil {
		return nil, err
	}
	out := make([]float64, len(v))
	return out, t.CopyData(out, uint(len(v)))
}

// AnyTrue is true on every rank when v is true on any rank (train.Ranks):
// the ranks agree to stop after the same step.
func (g *Group) AnyTrue(v bool) (bool, error) {
	x := 0.0
	if v {
		x = 1
	}
	s, err := g.SumFloat64s([]float64{x})
	if err != nil {
		return false, err
	}
	return s[0] > 0, nil
}

// Share is the half-open range [start, end) of n items that rank takes
// when the world splits them into contiguous, nearly equal parts (an
// evaluation set, say: every item is counted once).
func Share(n, rank, world int) (start, end int) {
	return n * rank / world, n * (rank + 1) / world
}

// ShardBatch is this rank's part of a global batch: items rank, rank+world,
// rank+2*world, ... of idx, padded by wrapping around to the batch's start
// so that every rank gets the same count, as torch's DistributedSampler pads
// an epoch. With world ranks each taking ShardBatch of the same global
// batches, the average of their gradients equals one process's gradient of
// the whole batch when world divides the batch size.
func ShardBatch[T any](idx []T, rank, world int) []T {
	per := (len(idx) + world - 1) / world
	out := make([]T, 0, per)
	for i := 0; i < per; i++ {
		out = append(out, idx[(i*world+rank)%len(idx)])
	}
	return out
}
