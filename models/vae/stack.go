package vae

import (
	"github.com/sugarme/gotch/ts"

	"torchlab/torch/layers"
)

// block is a layer whose forward pass depends on train or eval mode
// (BatchNorm inside): a conv stage or a residual block.
type block interface {
	ForwardT(x *ts.Tensor, train bool) (*ts.Tensor, error)
}

// forwardChain runs x through blocks in order and frees every
// intermediate result (never x, which belongs to the caller).
func forwardChain(x *ts.Tensor, blocks []block, train bool) (*ts.Tensor, error) {
	h := x
	for _, b := range blocks {
		next, err := b.ForwardT(h, train)
		if h != x {
			h.MustDrop()
		}
		if err != nil {
			return nil, err
		}
		h = next
	}
	return h, nil
}

// stackEncoder is the conv and resnet encoders' shape: five blocks that
// halve the side (channels 32..512), flattened. Only the blocks differ.
type stackEncoder struct {
	blocks   []block
	features int64
}

func newStackEncoder(blocks []block, cfg Config) *stackEncoder {
	side := cfg.ImageSize >> len(convWidths)
	return &stackEncoder{blocks: blocks, features: convWidths[len(convWidths)-1] * side * side}
}

func (e *stackEncoder) Features() int64 { return e.features }

func (e *stackEncoder) ForwardT(x *ts.Tensor, train bool) (*ts.Tensor, error) {
	h, err := forwardChain(x, e.blocks, train) // [N, 512, S/32, S/32]
	if err != nil {
		return nil, err
	}
	return h.Flatten(1, -1, true) // [N, 512*(S/32)^2]; frees h
}

// stackDecoder is the conv and resnet decoders' shape: Linear(zIn,
// 512*s0*s0) (decoder.fc), a reshape to [512, s0, s0], blocks that double
// the side, and a last layer giving C channels of logits. Only the blocks
// and the last layer differ.
type stackDecoder struct {
	fc     *layers.Linear
	blocks []block
	out    interface {
		Forward(*ts.Tensor) (*ts.Tensor, error)
	}
	side int64
}

func (d *stackDecoder) ForwardT(z *ts.Tensor, train bool) (*ts.Tensor, error) {
	top := convWidths[len(convWidths)-1]
	flat, err := d.fc.Forward(z) // [N, 512*s0*s0]
	if err != nil {
		return nil, err
	}
	h, err := flat.View([]int64{-1, top, d.side, d.side}, true) // [N, 512, s0, s0]; frees flat
	if err != nil {
		return nil, err
	}
	body, err := forwardChain(h, d.blocks, train) // side doubles, channels 256..32
	if body != h {
		h.MustDrop()
	}
	if err != nil {
		return nil, err
	}
	out, err := d.out.Forward(body) // [N, C, S, S]
	body.MustDrop()
	return out, err
}
