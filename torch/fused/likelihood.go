package fused

// #include <stdlib.h>
// #include "likelihood.h"
import "C"

import (
	"fmt"
	"runtime"
	"unsafe"

	lib "github.com/sugarme/gotch/libtch"
	"github.com/sugarme/gotch/ts"
)

// DiscretizedLogisticLogProb returns log P(x) per example [N] for images x
// [N, C, H, W] in [0, 1] (taken as the 8-bit values round(255x)) under one
// logistic per pixel and channel whose locations are params[:, :C] and
// log-scales params[:, C:] ([N, 2C, H, W], on images scaled to [-1, 1],
// log-scales floored at -7). Each of the 256 values gets the logistic's
// mass over its bin, the edge values the tails, so the 256 probabilities of
// a pixel sum to one. Differentiable in params.
func DiscretizedLogisticLogProb(params, x *ts.Tensor) (*ts.Tensor, error) {
	defer runtime.KeepAlive(params)
	defer runtime.KeepAlive(x)
	var out unsafe.Pointer
	if err := check(C.torchlab_dlogistic_logp(params.Ctensor(), x.Ctensor(), &out)); err != nil {
		return nil, err
	}
	return ts.New(lib.Ctensor(out)), nil
}

// ClipGradNorm is torch.nn.utils.clip_grad_norm_(params, maxNorm): it
// returns the 2-norm of all the parameters' gradients together and, when
// maxNorm > 0 and the norm exceeds it, scales every gradient by
// maxNorm/(norm+1e-6). Parameters without a gradient are left out.
func ClipGradNorm(params []*ts.Tensor, maxNorm float64) (float64, error) {
	if len(params) == 0 {
		return 0, nil
	}
	ptrs := C.malloc(C.size_t(len(params)) * C.size_t(unsafe.Sizeof(uintptr(0))))
	defer C.free(ptrs)
	arr := unsafe.Slice((*unsafe.Pointer)(ptrs), len(params))
	for i, p := range params {
		arr[i] = unsafe.Pointer(p.Ctensor())
	}
	defer runtime.KeepAlive(params)
	var norm C.double
	if err := check(C.torchlab_grad_norm_clip((*unsafe.Pointer)(ptrs), C.int64_t(len(params)), C.double(maxNorm), &norm)); err != nil {
		return 0, fmt.Errorf("clip grad norm: %w", err)
	}
	return float64(norm), nil
}
