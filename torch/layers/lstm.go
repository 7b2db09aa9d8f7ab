package layers

import (
	"fmt"
	"math"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"
)

// LSTM is a one-layer, unidirectional torch.nn.LSTM with biases.
type LSTM struct {
	WeightIH *ts.Tensor // weight_ih_l0 [4*hidden, input], gates i, f, g, o
	WeightHH *ts.Tensor // weight_hh_l0 [4*hidden, hidden]
	BiasIH   *ts.Tensor // bias_ih_l0 [4*hidden]
	BiasHH   *ts.Tensor // bias_hh_l0 [4*hidden]
	Input    int64
	Hidden   int64
}

// NewLSTM creates PyTorch's four parameters under p, each from
// U(-1/sqrt(hidden), 1/sqrt(hidden)) in PyTorch's order.
func NewLSTM(p *nn.Path, input, hidden int64) (*LSTM, error) {
	if input <= 0 || hidden <= 0 {
		return nil, fmt.Errorf("lstm %s: sizes must be positive, got input=%d hidden=%d", pathName(p), input, hidden)
	}
	bound := 1.0 / math.Sqrt(float64(hidden))
	init := uniformInit{-bound, bound}
	l := &LSTM{Input: input, Hidden: hidden}
	for _, v := range []struct {
		name string
		dims []int64
		dst  **ts.Tensor
	}{
		{"weight_ih_l0", []int64{4 * hidden, input}, &l.WeightIH},
		{"weight_hh_l0", []int64{4 * hidden, hidden}, &l.WeightHH},
		{"bias_ih_l0", []int64{4 * hidden}, &l.BiasIH},
		{"bias_hh_l0", []int64{4 * hidden}, &l.BiasHH},
	} {
		t, err := p.NewVar(v.name, v.dims, init)
		if err != nil {
			return nil, fmt.Errorf("lstm %s: %w", pathName(p), err)
		}
		*v.dst = t
	}
	return l, nil
}

func (l *LSTM) params() []*ts.Tensor {
	return []*ts.Tensor{l.WeightIH, l.WeightHH, l.BiasIH, l.BiasHH}
}

// zeroState is the initial (h0, c0), each [1, batch, hidden].
func (l *LSTM) zeroState(batch int64) ([]*ts.Tensor, error) {
	h, err := ts.Zeros([]int64{1, batch, l.Hidden}, gotch.Float, gotch.CPU)
	if err != nil {
		return nil, err
	}
	c, err := ts.Zeros([]int64{1, batch, l.Hidden}, gotch.Float, gotch.CPU)
	if err != nil {
		h.MustDrop()
		return nil, err
	}
	return []*ts.Tensor{h, c}, nil
}

// Forward runs a padded batch x [batch, time, input] (batch first) from a
// zero state. It returns the outputs [batch, time, hidden] and the final
// states h and c, each [1, batch, hidden]. On padded input the final states
// include the padding steps; use ForwardPacked for variable lengths.
func (l *LSTM) Forward(x *ts.Tensor) (out, h, c *ts.Tensor, err error) {
	shape, err := x.Size()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("lstm forward: %w", err)
	}
	if len(shape) != 3 || shape[2] != l.Input {
		return nil, nil, nil, fmt.Errorf("lstm forward: input %v, want [batch time %d]", shape, l.Input)
	}
	state, err := l.zeroState(shape[0])
	if err != nil {
		return nil, nil, nil, fmt.Errorf("lstm forward: %w", err)
	}
	defer dropAll(state)
	out, h, c, err = ts.Lstm(x, state, l.params(), true, 1, 0, false, false, true)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("lstm forward: %w", err)
	}
	return out, h, c, nil
}

// ForwardPacked runs a packed batch, the layout of PyTorch's PackedSequence:
// data [sum of lengths, input] holds time step 0 of every sequence, then
// step 1 of those longer than 1, and so on, the sequences sorted by
// decreasing length; batchSizes [time] (int64, on the CPU) counts the
// sequences alive at each step. No work is spent on padding, and the final
// states h and c ([1, batch, hidden], in the packed order) are those at each
// sequence's own last step.
func (l *LSTM) ForwardPacked(data, batchSizes *ts.Tensor) (out, h, c *ts.Tensor, err error) {
	batch, err := batchSizes.Int64Value([]int64{0})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("lstm forward (packed): batch sizes: %w", err)
	}
	state, err := l.zeroState(batch)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("lstm forward (packed): %w", err)
	}
	defer dropAll(state)
	out, h, c, err = ts.LstmData(data, batchSizes, state, l.params(), true, 1, 0, false, false)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("lstm forward (packed): %w", err)
	}
	return out, h, c, nil
}

func dropAll(ts []*ts.Tensor) {
	for _, t := range ts {
		t.MustDrop()
	}
}
