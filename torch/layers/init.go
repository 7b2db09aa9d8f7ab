// Package layers provides the neural-network layers torchlab's models use,
// built on gotch's tensors and VarStore but with PyTorch's parameter names,
// shapes, initialisation and train/eval behaviour.
//
// gotch v0.9.1's own layers differ from PyTorch's in ways that break parity:
// weights start as randn (std 1), Linear's bias bound uses the wrong fan,
// BatchNorm starts at U(0,1) and always trains under Forward, ConvTranspose2d
// stores its weight transposed, LSTM biases start at 0. Every layer here
// draws its initial values from libtorch's generator in the same order and
// with the same bounds as torch.nn, so with the same seed and creation order
// the initial weights are identical to PyTorch's.
package layers

import (
	"math"
	"strings"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"
)

// uniformInit fills a new tensor from U(lo, hi) with one uniform_ call, the
// same draw torch.nn.init.uniform_ makes.
type uniformInit struct{ lo, hi float64 }

func (u uniformInit) InitTensor(dims []int64, device gotch.Device, dtype ...gotch.DType) *ts.Tensor {
	kind := gotch.Float
	if len(dtype) > 0 {
		kind = dtype[0]
	}
	t := ts.MustEmpty(dims, kind, device)
	t.MustUniform_(u.lo, u.hi)
	return t
}

func (u uniformInit) Set(t *ts.Tensor) { t.MustUniform_(u.lo, u.hi) }

var _ nn.Init = uniformInit{}

// kaimingUniformBound is the bound of torch.nn.init.kaiming_uniform_ with
// a=sqrt(5), the default weight init of Linear and Conv layers. It follows
// PyTorch's arithmetic step by step so the float64 bound is bit-identical.
func kaimingUniformBound(fanIn int64) float64 {
	a := math.Sqrt(5)
	gain := math.Sqrt(2.0 / (1 + a*a))
	std := gain / math.Sqrt(float64(fanIn))
	return math.Sqrt(3.0) * std
}

// biasBound is the bound of the default bias init of Linear and Conv layers.
func biasBound(fanIn int64) float64 {
	if fanIn <= 0 {
		return 0
	}
	return 1 / math.Sqrt(float64(fanIn))
}

// newWeightAndBias creates "weight" (kaiming-uniform for fanIn) and, when
// bias is true, "bias" (uniform with the bias bound), in that order, as
// torch.nn's reset_parameters does.
func newWeightAndBias(p *nn.Path, weightDims []int64, fanIn int64, biasLen int64, bias bool) (w, b *ts.Tensor, err error) {
	wb := kaimingUniformBound(fanIn)
	w, err = p.NewVar("weight", weightDims, uniformInit{-wb, wb})
	if err != nil {
		return nil, nil, err
	}
	if !bias {
		return w, nil, nil
	}
	bb := biasBound(fanIn)
	b, err = p.NewVar("bias", []int64{biasLen}, uniformInit{-bb, bb})
	return w, b, err
}

// optional turns a nil tensor into gotch's undefined tensor, which the C++
// side reads as "no tensor" (for example a layer without bias).
func optional(t *ts.Tensor) *ts.Tensor {
	if t == nil {
		return ts.None
	}
	return t
}

// pathName is the dotted name of p, as PyTorch names a submodule.
func pathName(p *nn.Path) string { return strings.Join(p.Paths(), nn.SEP) }
