// Package lstmfused is a one-layer LSTM over one-hot codes whose forward
// pass and backward pass (hand-written backpropagation through time) each
// run in one C++ call, plugged into libtorch's autograd.
//
// libtorch 1.13's CPU LSTM runs ~20 small ATen ops per time step forward and
// more backward; for a character model (batch 32, hidden 128) the per-op
// overhead, not the arithmetic, dominates. Here each time step is one BLAS
// product and one vectorised loop over the batch's gates, the one-hot input
// projection is a row lookup in W_ih^T, and each sequence stops at its own
// length (no work on padding). The result equals torch.nn.LSTM's hidden state
// at each sequence's last real step, and so do the weight gradients.
package lstmfused

// #cgo CXXFLAGS: -std=c++17 -O3 -D_GLIBCXX_USE_CXX11_ABI=1 -w -I/usr/include/torch/csrc/api/include
// #cgo LDFLAGS: -lstdc++ -ltorch_cpu -lc10 -l:libdnnl.so.2
// #include <stdlib.h>
// #include "lstmfused.h"
import "C"

import (
	"errors"
	"runtime"
	"unsafe"

	lib "github.com/sugarme/gotch/libtch"
	"github.com/sugarme/gotch/ts"
)

// Forward runs the LSTM over codes [batch, steps] (int64, each < vocab) from a
// zero state, sequence b stopping after lengths[b] (int64, 1..steps) codes;
// the codes after that are ignored. It returns h [batch, hidden], each
// sequence's hidden state after its last code, with autograd attached for
// the four weights, which are torch.nn.LSTM's layer-0 parameters: wih
// [4*hidden, vocab], whh [4*hidden, hidden], bih and bhh [4*hidden], float32,
// gates in PyTorch's order i, f, g, o.
//
// When gradients are recorded, the forward pass keeps every step's gates and
// cell state for the backward pass, 7*hidden floats per real character;
// without, two steps' worth. These workspaces are reused by later calls once
// the graph that saved them is gone (up to 8 are kept for the process), which
// spares the page faults of fresh multi-megabyte buffers.
//
// With more than one libtorch thread, each thread runs the whole recurrence of
// its share of the batch; results may then differ from one thread's in the last
// bits. The matrix products go through oneDNN's sgemm, not OpenBLAS, so
// OpenBLAS's thread count does not matter here.
func Forward(codes, lengths, wih, whh, bih, bhh *ts.Tensor) (*ts.Tensor, error) {
	defer runtime.KeepAlive(codes)
	defer runtime.KeepAlive(lengths)
	defer runtime.KeepAlive(wih)
	defer runtime.KeepAlive(whh)
	defer runtime.KeepAlive(bih)
	defer runtime.KeepAlive(bhh)
	var out unsafe.Pointer
	msg := C.torchlab_lstm_fused(codes.Ctensor(), lengths.Ctensor(), wih.Ctensor(), whh.Ctensor(),
		bih.Ctensor(), bhh.Ctensor(), &out)
	if msg != nil {
		defer C.free(unsafe.Pointer(msg))
		return nil, errors.New(C.GoString(msg))
	}
	return ts.New(lib.Ctensor(out)), nil
}

// forceScalar makes Forward take the scalar rows (a CPU without AVX2's)
// when on, and returns the previous setting; for tests.
func forceScalar(on bool) bool {
	v := 0
	if on {
		v = 1
	}
	return C.torchlab_lstm_force_scalar(C.int(v)) == 1
}

// sgemmPeak is the GFLOP/s of an [n,n]x[n,n] float product through the sgemm
// Forward uses (oneDNN's), best of reps, at libtorch's current thread count.
func sgemmPeak(n, reps int) float64 {
	return float64(C.torchlab_lstm_sgemm_gflops(C.int64_t(n), C.int(reps)))
}
