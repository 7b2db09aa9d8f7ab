package layers

import (
	"fmt"

	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"
)

// Linear is torch.nn.Linear: y = x W^T + b.
type Linear struct {
	Weight *ts.Tensor // [out, in]
	Bias   *ts.Tensor // [out], nil without bias
}

// NewLinear creates "weight" and "bias" under p, initialised as PyTorch does.
func NewLinear(p *nn.Path, in, out int64, bias bool) (*Linear, error) {
	if in <= 0 || out <= 0 {
		return nil, fmt.Errorf("linear %s: sizes must be positive, got in=%d out=%d", pathName(p), in, out)
	}
	w, b, err := newWeightAndBias(p, []int64{out, in}, in, out, bias)
	if err != nil {
		return nil, fmt.Errorf("linear %s: %w", pathName(p), err)
	}
	return &Linear{Weight: w, Bias: b}, nil
}

// Forward maps [..., in] to [..., out].
func (l *Linear) Forward(x *ts.Tensor) (*ts.Tensor, error) {
	y, err := ts.Linear(x, l.Weight, optional(l.Bias))
	if err != nil {
		return nil, fmt.Errorf("linear: %w", err)
	}
	return y, nil
}
