package layers

import (
	"fmt"
	"runtime"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"
)

// BatchNorm2d is torch.nn.BatchNorm2d with affine weights and running
// statistics. Training or evaluation is an argument of ForwardT, never
// hidden state.
type BatchNorm2d struct {
	Weight            *ts.Tensor // [C], starts at 1
	Bias              *ts.Tensor // [C], starts at 0
	RunningMean       *ts.Tensor // [C] buffer, starts at 0
	RunningVar        *ts.Tensor // [C] buffer, starts at 1
	NumBatchesTracked *ts.Tensor // scalar int64 buffer
	Momentum, Eps     float64
}

// NewBatchNorm2d creates PyTorch's parameters and buffers under p with
// PyTorch's defaults (momentum 0.1, eps 1e-5).
func NewBatchNorm2d(p *nn.Path, channels int64) (*BatchNorm2d, error) {
	if channels <= 0 {
		return nil, fmt.Errorf("batchnorm %s: channels must be positive, got %d", pathName(p), channels)
	}
	bn := &BatchNorm2d{Momentum: 0.1, Eps: 1e-5}
	var err error
	dims := []int64{channels}
	if bn.Weight, err = p.Ones("weight", dims); err != nil {
		return nil, fmt.Errorf("batchnorm %s: %w", pathName(p), err)
	}
	if bn.Bias, err = p.Zeros("bias", dims); err != nil {
		return nil, fmt.Errorf("batchnorm %s: %w", pathName(p), err)
	}
	buffer := nn.WithVarType("buffer")
	if bn.RunningMean, err = p.ZerosNoTrain("running_mean", dims, buffer); err != nil {
		return nil, fmt.Errorf("batchnorm %s: %w", pathName(p), err)
	}
	if bn.RunningVar, err = p.OnesNoTrain("running_var", dims, buffer); err != nil {
		return nil, fmt.Errorf("batchnorm %s: %w", pathName(p), err)
	}
	// A 0-dim tensor, as PyTorch's; gotch cannot pass an empty shape to
	// zeros, so squeeze a one-element one.
	one, err := ts.Zeros([]int64{1}, gotch.Int64, gotch.CPU)
	if err != nil {
		return nil, fmt.Errorf("batchnorm %s: %w", pathName(p), err)
	}
	nbt, err := one.Squeeze(true)
	if err != nil {
		return nil, fmt.Errorf("batchnorm %s: %w", pathName(p), err)
	}
	defer nbt.MustDrop()
	if bn.NumBatchesTracked, err = p.Add("num_batches_tracked", nbt, false, buffer); err != nil {
		return nil, fmt.Errorf("batchnorm %s: %w", pathName(p), err)
	}
	return bn, nil
}

// ForwardT normalises [N, C, H, W] with batch statistics (and updates the
// running statistics) when train is true, with the running statistics
// otherwise.
func (bn *BatchNorm2d) ForwardT(x *ts.Tensor, train bool) (*ts.Tensor, error) {
	if train {
		one := ts.IntScalar(1)
		err := bn.NumBatchesTracked.AddScalar_(one)
		runtime.KeepAlive(one) // gotch frees a scalar in a finalizer; see tensors.AddScalar
		if err != nil {
			return nil, fmt.Errorf("batchnorm: %w", err)
		}
	}
	y, err := ts.BatchNorm(x, bn.Weight, bn.Bias, bn.RunningMean, bn.RunningVar, train, bn.Momentum, bn.Eps, false)
	if err != nil {
		return nil, fmt.Errorf("batchnorm: %w", err)
	}
	return y, nil
}
