package vae

import (
	"fmt"

	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/torch/layers"
)

// resBlock is a residual block that halves (down) or doubles (up) the side:
//
//	main: conv1 -> bn1 -> ReLU -> conv2 (3x3) -> bn2
//	skip: skip (1x1 stride-2 conv, or 2x2 stride-2 transposed conv) -> skip_bn
//	out:  ReLU(main + skip)
//
// Down blocks use a 3x3 stride-2 conv1, up blocks a 4x4 stride-2 transposed
// conv1. Convolutions followed by BatchNorm have no bias, as in torchvision's
// ResNet: BatchNorm's shift makes it redundant.
type resBlock struct {
	conv1, skip   *layers.Conv2d          // down block
	conv1T, skipT *layers.ConvTranspose2d // up block
	conv2         *layers.Conv2d
	bn1, bn2, bnS *layers.BatchNorm2d
}

func newResBlock(p *nn.Path, in, out int64, up bool) (*resBlock, error) {
	b := &resBlock{}
	var err error
	if up {
		if b.conv1T, err = layers.NewConvTranspose2d(p.Sub("conv1"), in, out, 4, layers.ConvConfig{Stride: 2, Padding: 1, NoBias: true}); err != nil {
			return nil, err
		}
	} else if b.conv1, err = layers.NewConv2d(p.Sub("conv1"), in, out, 3, layers.ConvConfig{Stride: 2, Padding: 1, NoBias: true}); err != nil {
		return nil, err
	}
	if b.bn1, err = layers.NewBatchNorm2d(p.Sub("bn1"), out); err != nil {
		return nil, err
	}
	if b.conv2, err = layers.NewConv2d(p.Sub("conv2"), out, out, 3, layers.ConvConfig{Padding: 1, NoBias: true}); err != nil {
		return nil, err
	}
	if b.bn2, err = layers.NewBatchNorm2d(p.Sub("bn2"), out); err != nil {
		return nil, err
	}
	if up {
		if b.skipT, err = layers.NewConvTranspose2d(p.Sub("skip"), in, out, 2, layers.ConvConfig{Stride: 2, NoBias: true}); err != nil {
			return nil, err
		}
	} else if b.skip, err = layers.NewConv2d(p.Sub("skip"), in, out, 1, layers.ConvConfig{Stride: 2, NoBias: true}); err != nil {
		return nil, err
	}
	if b.bnS, err = layers.NewBatchNorm2d(p.Sub("skip_bn"), out); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *resBlock) ForwardT(x *ts.Tensor, train bool) (*ts.Tensor, error) {
	var c1, s *ts.Tensor
	var err error
	if b.conv1 != nil {
		c1, err = b.conv1.Forward(x) // [N, out, H/2, W/2]
	} else {
		c1, err = b.conv1T.Forward(x) // [N, out, 2H, 2W]
	}
	if err != nil {
		return nil, err
	}
	if b.skip != nil {
		s, err = b.skip.Forward(x)
	} else {
		s, err = b.skipT.Forward(x)
	}
	if err != nil {
		c1.MustDrop()
		return nil, err
	}
	main, err := b.mainPath(c1, train)
	c1.MustDrop()
	if err != nil {
		s.MustDrop()
		return nil, err
	}
	skip, err := b.bnS.ForwardT(s, train)
	s.MustDrop()
	if err != nil {
		main.MustDrop()
		return nil, err
	}
	sum, err := main.Add(skip, true) // frees main, also on failure
	skip.MustDrop()
	if err != nil {
		return nil, err
	}
	return sum.Relu(true)
}

// mainPath is bn2(conv2(ReLU(bn1(c1)))); c1 stays the caller's.
func (b *resBlock) mainPath(c1 *ts.Tensor, train bool) (*ts.Tensor, error) {
	n1, err := b.bn1.ForwardT(c1, train)
	if err != nil {
		return nil, err
	}
	h, err := n1.Relu(true)
	if err != nil {
		return nil, err
	}
	c2, err := b.conv2.Forward(h)
	h.MustDrop()
	if err != nil {
		return nil, err
	}
	main, err := b.bn2.ForwardT(c2, train)
	c2.MustDrop()
	return main, err
}

// newResEncoder builds five down blocks 3->32->64->128->256->512
// (encoder.blocks.i).
func newResEncoder(p *nn.Path, cfg Config) (*stackEncoder, error) {
	var blocks []block
	in := cfg.Channels
	for i, out := range convWidths {
		b, err := newResBlock(p.Sub("blocks").Sub(fmt.Sprint(i)), in, out, false)
		if err != nil {
			return nil, fmt.Errorf("resnet encoder: %w", err)
		}
		blocks = append(blocks, b)
		in = out
	}
	return newStackEncoder(blocks, cfg), nil
}

// newResDecoder builds Linear(zIn, 512*s0*s0) (decoder.fc), five up blocks
// 512->256->128->64->32->32 (decoder.blocks.i) and a 3x3 conv to C logits
// (decoder.out).
func newResDecoder(p *nn.Path, cfg Config, zIn int64) (*stackDecoder, error) {
	d := &stackDecoder{side: cfg.ImageSize >> len(convWidths)}
	top := convWidths[len(convWidths)-1]
	var err error
	if d.fc, err = layers.NewLinear(p.Sub("fc"), zIn, top*d.side*d.side, true); err != nil {
		return nil, fmt.Errorf("resnet decoder: %w", err)
	}
	widths := []int64{256, 128, 64, 32, 32}
	in := top
	for i, out := range widths {
		b, err := newResBlock(p.Sub("blocks").Sub(fmt.Sprint(i)), in, out, true)
		if err != nil {
			return nil, fmt.Errorf("resnet decoder: %w", err)
		}
		d.blocks = append(d.blocks, b)
		in = out
	}
	out, err := layers.NewConv2d(p.Sub("out"), in, cfg.Channels, 3, layers.ConvConfig{Padding: 1})
	if err != nil {
		return nil, fmt.Errorf("resnet decoder: %w", err)
	}
	d.out = out
	return d, nil
}
