// Package testnet is a tiny conv+linear classifier for the tests of the
// training plumbing (runtime, optimiser, checkpoints, memory).
package testnet

import (
	"fmt"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/torch/layers"
	"torchlab/torch/optim"
	"torchlab/torch/tensors"
	"torchlab/torch/torchrt"
)

// Net is conv(1->4, 3x3) + relu + linear(4*6*6 -> 3) on 1x8x8 inputs.
type Net struct {
	VS   *nn.VarStore
	conv *layers.Conv2d
	fc   *layers.Linear
}

// New builds a Net in a new VarStore.
func New() (*Net, error) {
	vs := nn.NewVarStore(gotch.CPU)
	conv, err := layers.NewConv2d(vs.Root().Sub("conv"), 1, 4, 3, layers.ConvConfig{})
	if err != nil {
		return nil, err
	}
	fc, err := layers.NewLinear(vs.Root().Sub("fc"), 4*6*6, 3, true)
	if err != nil {
		return nil, err
	}
	return &Net{VS: vs, conv: conv, fc: fc}, nil
}

// NewNamed builds a Net and names its variables (tensors.Named), as the
// tests of checkpoints and optimisers take them.
func NewNamed() (*Net, map[string]*ts.Tensor, error) {
	n, err := New()
	if err != nil {
		return nil, nil, err
	}
	named, err := tensors.Named(n.VS)
	if err != nil {
		return nil, nil, err
	}
	return n, named, nil
}

// Seeded seeds libtorch's generator with seed, builds a Net and returns it
// with its variables by name (tensors.Named).
func Seeded(seed int64) (*Net, map[string]*ts.Tensor, error) {
	if err := torchrt.ManualSeed(seed); err != nil {
		return nil, nil, err
	}
	return NewNamed()
}

// Loss is the mean cross-entropy of the net on x [B, 1, 8, 8], y [B].
func (n *Net) Loss(x, y *ts.Tensor) (*ts.Tensor, error) {
	h, err := n.conv.Forward(x) // [B, 4, 6, 6]
	if err != nil {
		return nil, err
	}
	r, err := h.Relu(true) // [B, 4, 6, 6]
	if err != nil {
		return nil, err
	}
	f, err := r.Flatten(1, -1, true) // [B, 144]
	if err != nil {
		return nil, err
	}
	logits, err := n.fc.Forward(f) // [B, 3]
	f.MustDrop()
	if err != nil {
		return nil, err
	}
	return logits.CrossEntropyLoss(y, ts.None, tensors.ReductionMean, -100, 0, true)
}

// Step runs one training step, frees what it made and returns the loss.
func (n *Net) Step(opt *optim.Optimizer, x, y *ts.Tensor) (float64, error) {
	if err := opt.ZeroGrad(); err != nil {
		return 0, err
	}
	loss, err := n.Loss(x, y)
	if err != nil {
		return 0, err
	}
	defer loss.MustDrop()
	if err := loss.Backward(); err != nil {
		return 0, fmt.Errorf("backward: %w", err)
	}
	if err := opt.Step(); err != nil {
		return 0, err
	}
	return tensors.Scalar(loss)
}

// Batch is a fixed random batch of 8 inputs and labels.
func Batch() (x, y *ts.Tensor, err error) {
	if x, err = ts.Randn([]int64{8, 1, 8, 8}, gotch.Float, gotch.CPU); err != nil {
		return nil, nil, err
	}
	if y, err = tensors.FromInt64([]int64{0, 1, 2, 0, 1, 2, 0, 1}, 8); err != nil {
		x.MustDrop()
		return nil, nil, err
	}
	return x, y, nil
}
