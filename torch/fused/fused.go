// Package fused runs small groups of libtorch ops in one cgo call: the
// optimiser steps of torch.optim (whose alpha/value arguments gotch's
// generated bindings drop) and leaky ReLU with a slope. One call per
// parameter also spares gotch's per-tensor overhead on the hot path.
//
// Every wrapper defers runtime.KeepAlive on its tensor arguments: gotch
// frees a tensor in a finalizer, and an argument whose last use is the
// wrapper's read of its C pointer could otherwise be freed while the C++
// side still reads it (internal/gotchcompat does the same for gotch).
package fused

// #cgo CXXFLAGS: -std=c++17 -O2 -D_GLIBCXX_USE_CXX11_ABI=1 -w
// #cgo LDFLAGS: -lstdc++ -ltorch_cpu -lc10
// #include <stdlib.h>
// #include "fused.h"
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	lib "github.com/sugarme/gotch/libtch"
	"github.com/sugarme/gotch/ts"
)

func check(msg *C.char) error {
	if msg == nil {
		return nil
	}
	defer C.free(unsafe.Pointer(msg))
	return errors.New(C.GoString(msg))
}

// CacheChunk is the slice length, in elements, the optimiser steps work in
// when given it as chunk: 64 Ki floats, 256 KiB per tensor, so the four or
// five tensors an Adam step touches stay in cache from one op to the next
// (see by_chunks in fused.cpp), and still large enough for ATen to split
// each op between two threads (its grain is 32 Ki elements).
const CacheChunk = 1 << 16

// SGDStep applies one torch.optim.SGD update to p from p's gradient. buf is
// the momentum buffer (same shape as p), required when momentum is not 0;
// hasBuf false means it is still empty and is filled with the first
// gradient, as PyTorch does. chunk as in AdamStep.
func SGDStep(p, buf *ts.Tensor, hasBuf bool, lr, momentum, dampening, weightDecay float64, nesterov bool, chunk int64) error {
	defer runtime.KeepAlive(p)
	defer runtime.KeepAlive(buf)
	return check(C.torchlab_sgd_step(p.Ctensor(), optionalCtensor(buf), cbool(hasBuf), C.double(lr), C.double(momentum),
		C.double(dampening), C.double(weightDecay), cbool(nesterov), C.int64_t(chunk)))
}

// AdamStep applies one torch.optim.Adam update; step is the parameter's own
// update count, from 1 (a step below 1 is an error: its bias correction
// would divide by zero). With
// chunk > 0 (CacheChunk) it runs PyTorch's ops on slices of chunk elements
// in turn instead of on the whole tensors: the same numbers (bit for bit at
// one thread) with a fraction of the memory traffic; chunk 0 runs them
// whole, exactly as torch.optim does.
func AdamStep(p, expAvg, expAvgSq *ts.Tensor, step int64, lr, beta1, beta2, eps, weightDecay float64, chunk int64) error {
	defer runtime.KeepAlive(p)
	defer runtime.KeepAlive(expAvg)
	defer runtime.KeepAlive(expAvgSq)
	return check(C.torchlab_adam_step(p.Ctensor(), expAvg.Ctensor(), expAvgSq.Ctensor(), C.int64_t(step),
		C.double(lr), C.double(beta1), C.double(beta2), C.double(eps), C.double(weightDecay), C.int64_t(chunk)))
}

// HasGrad says whether p has a gradient (torch.optim skips a parameter
// without one: no update, and its step count does not advance).
func HasGrad(p *ts.Tensor) (bool, error) {
	defer runtime.KeepAlive(p)
	switch C.torchlab_has_grad(p.Ctensor()) {
	case 1:
		return true, nil
	case 0:
		return false, nil
	}
	return false, errors.New("read a parameter's gradient: libtorch failed")
}

// ZeroGrad zeroes p's gradient in place, if it has one.
func ZeroGrad(p *ts.Tensor) error {
	defer runtime.KeepAlive(p)
	return check(C.torchlab_zero_grad(p.Ctensor()))
}

// ConvTransposeSubpixel is conv_transpose2d(x, w, b) with stride s and
// padding p (square kernel k = s + 2p, no output padding, dilation 1, one
// group), computed as an ordinary convolution followed by pixel_shuffle:
// oneDNN's convolution instead of libtorch's slow transposed one on the
// CPU. b may be nil. Equal to conv_transpose2d within float rounding;
// gradients reach w and b through autograd.
func ConvTransposeSubpixel(x, w, b *ts.Tensor, s, p int64) (*ts.Tensor, error) {
	defer runtime.KeepAlive(x)
	defer runtime.KeepAlive(w)
	defer runtime.KeepAlive(b)
	var out unsafe.Pointer
	if err := check(C.torchlab_conv_transpose_subpixel(x.Ctensor(), w.Ctensor(), optionalCtensor(b), C.int64_t(s), C.int64_t(p), &out)); err != nil {
		return nil, err
	}
	return ts.New(lib.Ctensor(out)), nil
}

// Conv2dPointwiseStrided is conv2d(x, w, b) with a 1x1 kernel w [out, in,
// 1, 1], stride s and no padding; b may be nil. When w is laid out
// channels-last (SetChannelsLast) it runs as a stride-1 convolution of
// every s-th pixel, because libtorch 1.13's channels-last strided 1x1
// convolution corrupts the heap in backward when the batch size changes
// (see fused.cpp); otherwise it is libtorch's conv2d as it stands.
func Conv2dPointwiseStrided(x, w, b *ts.Tensor, s int64) (*ts.Tensor, error) {
	defer runtime.KeepAlive(x)
	defer runtime.KeepAlive(w)
	defer runtime.KeepAlive(b)
	var out unsafe.Pointer
	if err := check(C.torchlab_conv2d_pointwise_strided(x.Ctensor(), w.Ctensor(), optionalCtensor(b), C.int64_t(s), &out)); err != nil {
		return nil, err
	}
	return ts.New(lib.Ctensor(out)), nil
}

// LeakyReLU is torch.nn.functional.leaky_relu(x, slope).
func LeakyReLU(x *ts.Tensor, slope float64) (*ts.Tensor, error) {
	defer runtime.KeepAlive(x)
	var out unsafe.Pointer
	if err := check(C.torchlab_leaky_relu(x.Ctensor(), C.double(slope), &out)); err != nil {
		return nil, err
	}
	return ts.New(lib.Ctensor(out)), nil
}

// ChannelsLast returns a copy of x [N, C, H, W] laid out channels-last (NHWC
// in memory; the shape and values are unchanged). oneDNN's convolutions run
// faster forward on that layout (see models/vgg's SetChannelsLast).
func ChannelsLast(x *ts.Tensor) (*ts.Tensor, error) {
	defer runtime.KeepAlive(x)
	var out unsafe.Pointer
	if err := check(C.torchlab_channels_last(x.Ctensor(), &out)); err != nil {
		return nil, err
	}
	return ts.New(lib.Ctensor(out)), nil
}

// SetChannelsLast re-lays the data of a 4-D parameter in place, channels-last
// (on) or contiguous (off), keeping its values and every handle to it valid.
// It leaves tensors of other ranks alone.
func SetChannelsLast(p *ts.Tensor, on bool) error {
	defer runtime.KeepAlive(p)
	return check(C.torchlab_set_channels_last(p.Ctensor(), cbool(on)))
}

// SetChannelsLastAll re-lays every 4-D tensor of params as SetChannelsLast
// does: a model's convolution weights, trained or evaluated in that layout.
func SetChannelsLastAll(params map[string]*ts.Tensor, on bool) error {
	for name, p := range params {
		if err := SetChannelsLast(p, on); err != nil {
			return fmt.Errorf("lay out %s: %w", name, err)
		}
	}
	return nil
}

// optionalCtensor is t's C tensor, or nil for an absent (nil) tensor such
// as a layer's missing bias.
func optionalCtensor(t *ts.Tensor) unsafe.Pointer {
	if t == nil {
		return nil
	}
	return t.Ctensor()
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// RNGState copies libtorch's default CPU generator state (a uint8 tensor), so
// a checkpoint can resume dropout and sampling exactly where they were.
func RNGState() (*ts.Tensor, error) {
	var out unsafe.Pointer
	if err := check(C.torchlab_get_rng_state(&out)); err != nil {
		return nil, err
	}
	return ts.New(lib.Ctensor(out)), nil
}

// SetRNGState restores a state RNGState returned.
func SetRNGState(state *ts.Tensor) error {
	defer runtime.KeepAlive(state)
	return check(C.torchlab_set_rng_state(state.Ctensor()))
}
