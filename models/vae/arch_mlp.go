package vae

import (
	"fmt"

	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/torch/layers"
)

// mlpEncoder is flatten -> Linear(D, H) -> ReLU -> Linear(H, H) -> ReLU,
// named encoder.net.0 and encoder.net.2 as in an nn.Sequential.
type mlpEncoder struct {
	fc1, fc2 *layers.Linear
	hidden   int64
}

func newMLPEncoder(p *nn.Path, cfg Config) (*mlpEncoder, error) {
	d := cfg.Channels * cfg.ImageSize * cfg.ImageSize
	net := p.Sub("net")
	fc1, err := layers.NewLinear(net.Sub("0"), d, cfg.Hidden, true)
	if err != nil {
		return nil, fmt.Errorf("mlp encoder: %w", err)
	}
	fc2, err := layers.NewLinear(net.Sub("2"), cfg.Hidden, cfg.Hidden, true)
	if err != nil {
		return nil, fmt.Errorf("mlp encoder: %w", err)
	}
	return &mlpEncoder{fc1: fc1, fc2: fc2, hidden: cfg.Hidden}, nil
}

func (e *mlpEncoder) Features() int64 { return e.hidden }

func (e *mlpEncoder) ForwardT(x *ts.Tensor, _ bool) (*ts.Tensor, error) {
	flat, err := x.Flatten(1, -1, false) // [N, C*S*S]
	if err != nil {
		return nil, err
	}
	h, err := linearReLU(e.fc1, flat) // [N, H]
	flat.MustDrop()
	if err != nil {
		return nil, err
	}
	out, err := linearReLU(e.fc2, h) // [N, H]
	h.MustDrop()
	return out, err
}

// linearReLU is ReLU(fc(x)); x stays the caller's.
func linearReLU(fc *layers.Linear, x *ts.Tensor) (*ts.Tensor, error) {
	y, err := fc.Forward(x)
	if err != nil {
		return nil, err
	}
	return y.Relu(true) // frees y, also on failure
}

// mlpDecoder mirrors the encoder: Linear(zIn, H) -> ReLU -> Linear(H, H)
// -> ReLU -> Linear(H, D) -> reshape, named decoder.net.0/2/4.
type mlpDecoder struct {
	fc1, fc2, fc3 *layers.Linear
	shape         []int64 // [C, S, S]
}

func newMLPDecoder(p *nn.Path, cfg Config, zIn int64) (*mlpDecoder, error) {
	d := cfg.Channels * cfg.ImageSize * cfg.ImageSize
	net := p.Sub("net")
	m := &mlpDecoder{shape: []int64{cfg.Channels, cfg.ImageSize, cfg.ImageSize}}
	var err error
	if m.fc1, err = layers.NewLinear(net.Sub("0"), zIn, cfg.Hidden, true); err != nil {
		return nil, fmt.Errorf("mlp decoder: %w", err)
	}
	if m.fc2, err = layers.NewLinear(net.Sub("2"), cfg.Hidden, cfg.Hidden, true); err != nil {
		return nil, fmt.Errorf("mlp decoder: %w", err)
	}
	if m.fc3, err = layers.NewLinear(net.Sub("4"), cfg.Hidden, d, true); err != nil {
		return nil, fmt.Errorf("mlp decoder: %w", err)
	}
	return m, nil
}

func (d *mlpDecoder) ForwardT(z *ts.Tensor, _ bool) (*ts.Tensor, error) {
	h1, err := linearReLU(d.fc1, z) // [N, H]
	if err != nil {
		return nil, err
	}
	h2, err := linearReLU(d.fc2, h1) // [N, H]
	h1.MustDrop()
	if err != nil {
		return nil, err
	}
	flat, err := d.fc3.Forward(h2) // [N, C*S*S]
	h2.MustDrop()
	if err != nil {
		return nil, err
	}
	return flat.View(append([]int64{-1}, d.shape...), true) // [N, C, S, S]; frees flat
}
