package vae

import (
	"fmt"

	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/torch/fused"
	"torchlab/torch/layers"
)

// convWidths are the channels of the five stride-2 stages of the conv and
// resnet encoders (mirrored by their decoders).
var convWidths = []int64{32, 64, 128, 256, 512}

// leakySlope is the negative slope of the conv architecture's leaky ReLU.
const leakySlope = 0.2

// convStage is conv (or transposed conv) -> BatchNorm -> LeakyReLU(0.2).
type convStage struct {
	conv  *layers.Conv2d
	convT *layers.ConvTranspose2d
	bn    *layers.BatchNorm2d
}

func (s *convStage) ForwardT(x *ts.Tensor, train bool) (*ts.Tensor, error) {
	var c *ts.Tensor
	var err error
	if s.conv != nil {
		c, err = s.conv.Forward(x) // [N, out, H/2, W/2]
	} else {
		c, err = s.convT.Forward(x) // [N, out, 2H, 2W]
	}
	if err != nil {
		return nil, err
	}
	b, err := s.bn.ForwardT(c, train)
	c.MustDrop()
	if err != nil {
		return nil, err
	}
	out, err := fused.LeakyReLU(b, leakySlope)
	b.MustDrop()
	if err != nil {
		return nil, fmt.Errorf("leaky relu: %w", err)
	}
	return out, nil
}

// k4s2p1 halves (conv) or doubles (transposed conv) the side exactly.
var k4s2p1 = layers.ConvConfig{Stride: 2, Padding: 1}

// newConvEncoder builds five Conv2d(k4 s2 p1) stages with 32..512
// filters, each with BatchNorm and leaky ReLU, named encoder.net.{3i}
// (conv) and encoder.net.{3i+1} (BatchNorm) as in an nn.Sequential whose
// every third module is the activation.
func newConvEncoder(p *nn.Path, cfg Config) (*stackEncoder, error) {
	net := p.Sub("net")
	var stages []block
	in := cfg.Channels
	for i, out := range convWidths {
		conv, err := layers.NewConv2d(net.Sub(fmt.Sprint(3*i)), in, out, 4, k4s2p1)
		if err != nil {
			return nil, fmt.Errorf("conv encoder: %w", err)
		}
		bn, err := layers.NewBatchNorm2d(net.Sub(fmt.Sprint(3*i+1)), out)
		if err != nil {
			return nil, fmt.Errorf("conv encoder: %w", err)
		}
		stages = append(stages, &convStage{conv: conv, bn: bn})
		in = out
	}
	return newStackEncoder(stages, cfg), nil
}

// newConvDecoder builds Linear(zIn, 512*s0*s0) (decoder.fc), a reshape to
// [512, s0, s0], four ConvTranspose2d(k4 s2 p1) stages 512->256->...->32
// with BatchNorm and leaky ReLU (decoder.net.{3i}, decoder.net.{3i+1}),
// and a last ConvTranspose2d 32->C (decoder.net.12) giving logits.
func newConvDecoder(p *nn.Path, cfg Config, zIn int64) (*stackDecoder, error) {
	d := &stackDecoder{side: cfg.ImageSize >> len(convWidths)}
	top := convWidths[len(convWidths)-1]
	var err error
	if d.fc, err = layers.NewLinear(p.Sub("fc"), zIn, top*d.side*d.side, true); err != nil {
		return nil, fmt.Errorf("conv decoder: %w", err)
	}
	net := p.Sub("net")
	in := top
	for i := len(convWidths) - 2; i >= 0; i-- {
		k := len(convWidths) - 2 - i
		out := convWidths[i]
		convT, err := layers.NewConvTranspose2d(net.Sub(fmt.Sprint(3*k)), in, out, 4, k4s2p1)
		if err != nil {
			return nil, fmt.Errorf("conv decoder: %w", err)
		}
		bn, err := layers.NewBatchNorm2d(net.Sub(fmt.Sprint(3*k+1)), out)
		if err != nil {
			return nil, fmt.Errorf("conv decoder: %w", err)
		}
		d.blocks = append(d.blocks, &convStage{convT: convT, bn: bn})
		in = out
	}
	if d.out, err = layers.NewConvTranspose2d(net.Sub(fmt.Sprint(3*len(d.blocks))), in, cfg.Channels, 4, k4s2p1); err != nil {
		return nil, fmt.Errorf("conv decoder: %w", err)
	}
	return d, nil
}
