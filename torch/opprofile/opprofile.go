// Package opprofile measures where a step's time goes inside libtorch: its
// op profiler, reduced to one row per phase and op (calls, total and self
// time, FLOPs), and a summary by kind of work.
//
// The profiler is thread-local: Start and Stop must run on the same OS
// thread (the caller holds it with runtime.LockOSThread, as the training
// commands do), and it sees the ops that thread runs, the time its
// intra-op helper threads take included in each op's time.
package opprofile

// #cgo CXXFLAGS: -std=c++17 -O2 -D_GLIBCXX_USE_CXX11_ABI=1 -w
// #cgo LDFLAGS: -lstdc++ -ltorch_cpu -lc10
// #include <stdlib.h>
// #include "opprofile.h"
import "C"

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"unsafe"
)

// Op is one op name within one phase of the profiled steps.
type Op struct {
	Phase string // "forward", "backward" (autograd's engine) or a Scope's name
	Name  string // e.g. "aten::convolution_backward"
	Calls int
	Total float64 // µs, nested ops included
	Self  float64 // µs, nested ops excluded
	FLOPs float64 // matrix products and convolutions only, from input shapes
	Kind  string  // Kind(Phase, Name)
}

// Profile is what ran between Start and Stop.
type Profile struct {
	Ops []Op
}

var active atomic.Bool

func check(msg *C.char) error {
	if msg == nil {
		return nil
	}
	defer C.free(unsafe.Pointer(msg))
	return errors.New(C.GoString(msg))
}

// Start enables the op profiler on the calling OS thread.
func Start() error {
	if !active.CompareAndSwap(false, true) {
		return errors.New("op profile: already started")
	}
	if err := check(C.torchlab_profile_start()); err != nil {
		active.Store(false)
		return fmt.Errorf("op profile: start: %w", err)
	}
	return nil
}

// Stop disables the profiler started on this thread and returns its ops.
func Stop() (Profile, error) {
	if !active.Load() {
		return Profile{}, errors.New("op profile: not started")
	}
	defer active.Store(false)
	var out *C.char
	if err := check(C.torchlab_profile_stop(&out)); err != nil {
		return Profile{}, fmt.Errorf("op profile: stop: %w", err)
	}
	defer C.free(unsafe.Pointer(out))
	return parse(C.GoString(out))
}

func parse(table string) (Profile, error) {
	var p Profile
	for i, line := range strings.Split(strings.TrimSuffix(table, "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 6 {
			return Profile{}, fmt.Errorf("op profile: row %d has %d fields, want 6: %q", i+1, len(f), line)
		}
		var nums [4]float64
		for j := range nums {
			v, err := strconv.ParseFloat(f[2+j], 64)
			if err != nil {
				return Profile{}, fmt.Errorf("op profile: row %d: %w", i+1, err)
			}
			nums[j] = v
		}
		p.Ops = append(p.Ops, Op{Phase: f[0], Name: f[1], Calls: int(nums[0]), Total: nums[1], Self: nums[2],
			FLOPs: nums[3], Kind: Kind(f[0], f[1])})
	}
	return p, nil
}

// Scope marks a named range (e.g. "optimizer step") in a running profile;
// the ops inside it are reported under that phase. The returned function
// ends it. Without a profile running it costs nothing.
func Scope(name string) (end func() error, err error) {
	if !active.Load() {
		return func() error { return nil }, nil
	}
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var scope unsafe.Pointer
	if err := check(C.torchlab_profile_scope_begin(cname, &scope)); err != nil {
		return nil, fmt.Errorf("op profile: scope %q: %w", name, err)
	}
	return func() error { return check(C.torchlab_profile_scope_end(scope)) }, nil
}

// Kinds in the order the summary lists them.
var Kinds = []string{"convolution", "matrix product", "batch norm", "elementwise", "reduction",
	"copy and layout", "allocation", "optimizer step", "collectives", "autograd bookkeeping", "other"}

// Kind sorts an op into the kind of work it does. Ops inside an
// "optimizer step" or "collectives" scope are that kind whatever their
// name; the scope's own self time (a collective's wait) too.
func Kind(phase, name string) string {
	n := strings.TrimPrefix(name, "aten::")
	switch {
	case phase == "optimizer step" || phase == "collectives":
		return phase
	case strings.HasPrefix(name, "autograd::") || strings.HasSuffix(name, "Backward0") ||
		strings.HasSuffix(name, "Backward1"):
		return "autograd bookkeeping"
	case strings.Contains(n, "conv"):
		return "convolution"
	case n == "mm" || n == "addmm" || n == "bmm" || n == "matmul" || n == "linear":
		return "matrix product"
	case strings.Contains(n, "batch_norm"):
		return "batch norm"
	case n == "sum" || n == "mean" || n == "logsumexp" || n == "max" || n == "min" || n == "norm":
		return "reduction"
	case n == "copy_" || n == "contiguous" || n == "clone" || n == "_to_copy" || n == "to" || n == "cat" ||
		n == "pixel_shuffle" || n == "index_select" || n == "stack" || n == "_reshape_alias" || n == "as_strided":
		return "copy and layout"
	case n == "empty" || n == "empty_like" || n == "empty_strided" || n == "zeros" || n == "zeros_like" ||
		n == "zero_" || n == "fill_" || n == "resize_" || n == "ones_like" || n == "full":
		return "allocation"
	case isElementwise(n):
		return "elementwise"
	}
	return "other"
}

func isElementwise(n string) bool {
	n = strings.TrimSuffix(n, "_")
	for _, e := range []string{"add", "sub", "mul", "div", "relu", "threshold_backward", "leaky_relu",
		"leaky_relu_backward", "sigmoid", "sigmoid_backward", "exp", "log", "neg", "softplus",
		"softplus_backward", "tanh", "tanh_backward", "sqrt", "rsqrt", "pow", "clamp", "clamp_min",
		"clamp_max", "where", "addcmul", "addcdiv", "lerp", "abs", "sign", "log1p", "expm1",
		"binary_cross_entropy_with_logits", "binary_cross_entropy_with_logits_backward", "randn", "normal",
		"rsub", "maximum", "minimum", "square", "log_sigmoid_forward", "log_sigmoid_backward"} {
		if n == e {
			return true
		}
	}
	return false
}

// KindRow is the self time and FLOPs of one kind of work.
type KindRow struct {
	Kind  string
	Self  float64 // µs
	FLOPs float64
}

// ByKind sums self time and FLOPs by kind, in the order of Kinds. The
// convolutions' forward FLOPs, which their forward events cannot show, are
// counted as half their backward's (every convolution of a training step
// runs once each way; the first layer's unneeded input gradient makes this
// an overcount of at most that layer's forward).
func (p Profile) ByKind() []KindRow {
	sums := map[string]*KindRow{}
	for _, k := range Kinds {
		sums[k] = &KindRow{Kind: k}
	}
	for _, op := range p.Ops {
		r := sums[op.Kind]
		r.Self += op.Self
		r.FLOPs += op.FLOPs
		if op.Name == "aten::convolution_backward" {
			r.FLOPs += op.FLOPs / 2
		}
	}
	rows := make([]KindRow, len(Kinds))
	for i, k := range Kinds {
		rows[i] = *sums[k]
	}
	return rows
}

// Self is the self time of all ops (µs): the time spent inside libtorch.
func (p Profile) Self() float64 {
	s := 0.0
	for _, op := range p.Ops {
		s += op.Self
	}
	return s
}

// Top returns the n ops with the most self time.
func (p Profile) Top(n int) []Op {
	ops := append([]Op(nil), p.Ops...)
	sort.Slice(ops, func(i, j int) bool { return ops[i].Self > ops[j].Self })
	if len(ops) > n {
		ops = ops[:n]
	}
	return ops
}
