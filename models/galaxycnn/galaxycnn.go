// Package galaxycnn is a small convolutional classifier of Galaxy Zoo
// images into the classes of datasets.Class. It judges the VAEs' samples:
// the share of a class's generated images it assigns to that class says
// whether the samples look like the class, in the eyes of a model trained
// on real images only.
//
// Four stages of 3x3 convolution, BatchNorm, ReLU and 2x2 max-pool take a
// 64x64 image to 4x4 (16, 32, 64, 128 channels), global average pooling
// makes it a 128-vector, and dropout and one linear layer give the logits.
// It is small on purpose: about 100 k parameters for ~3,000 training
// images, so that it trains in minutes on two cores.
package galaxycnn

import (
	"fmt"

	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/torch/layers"
	"torchlab/torch/tensors"
)

// Config is everything needed to rebuild a Net; checkpoints store it.
type Config struct {
	Classes   int64   `json:"classes"`
	ImageSize int64   `json:"image_size"` // square RGB input side, a multiple of 16
	Widths    []int64 `json:"widths"`     // channels of each stage
	Dropout   float64 `json:"dropout"`    // before the linear layer
}

// DefaultConfig is the judge of the 64x64 VAEs.
func DefaultConfig(classes int64) Config {
	return Config{Classes: classes, ImageSize: 64, Widths: []int64{16, 32, 64, 128}, Dropout: 0.3}
}

func (c Config) check() error {
	if c.Classes < 2 || len(c.Widths) == 0 || c.Dropout < 0 || c.Dropout >= 1 {
		return fmt.Errorf("galaxycnn: need >= 2 classes, one stage or more and dropout in [0, 1), have %+v", c)
	}
	if side := int64(1) << len(c.Widths); c.ImageSize <= 0 || c.ImageSize%side != 0 {
		return fmt.Errorf("galaxycnn: %d stages halve the side %d times: the image size %d must be a multiple of %d",
			len(c.Widths), len(c.Widths), c.ImageSize, side)
	}
	return nil
}

type stage struct {
	conv *layers.Conv2d
	bn   *layers.BatchNorm2d
}

// Net is the classifier.
type Net struct {
	Config Config
	stages []stage
	fc     *layers.Linear
}

// New builds the classifier under p (stages.N.conv, stages.N.bn, fc).
func New(p *nn.Path, cfg Config) (*Net, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	n := &Net{Config: cfg}
	in := int64(3)
	for i, w := range cfg.Widths {
		sp := p.Sub("stages").Sub(fmt.Sprint(i))
		conv, err := layers.NewConv2d(sp.Sub("conv"), in, w, 3, layers.ConvConfig{Padding: 1, NoBias: true})
		if err != nil {
			return nil, err
		}
		bn, err := layers.NewBatchNorm2d(sp.Sub("bn"), w)
		if err != nil {
			return nil, err
		}
		n.stages = append(n.stages, stage{conv, bn})
		in = w
	}
	fc, err := layers.NewLinear(p.Sub("fc"), in, cfg.Classes, true)
	if err != nil {
		return nil, err
	}
	n.fc = fc
	return n, nil
}

// ForwardT maps images [N, 3, S, S] in [0, 1] to class logits
// [N, Classes]; train selects batch statistics and dropout.
func (n *Net) ForwardT(x *ts.Tensor, train bool) (*ts.Tensor, error) {
	s := n.Config.ImageSize
	if err := tensors.CheckShape(x, tensors.Any, 3, s, s); err != nil {
		return nil, fmt.Errorf("galaxycnn: %w", err)
	}
	h := x
	drop := func(t *ts.Tensor) { // frees intermediates, never the input
		if t != x {
			t.MustDrop()
		}
	}
	for _, st := range n.stages {
		c, err := st.conv.Forward(h)
		drop(h)
		if err != nil {
			return nil, fmt.Errorf("galaxycnn: %w", err)
		}
		b, err := st.bn.ForwardT(c, train)
		c.MustDrop()
		if err != nil {
			return nil, fmt.Errorf("galaxycnn: %w", err)
		}
		if b, err = b.Relu(true); err != nil {
			return nil, fmt.Errorf("galaxycnn: %w", err)
		}
		if h, err = b.MaxPool2d([]int64{2, 2}, []int64{2, 2}, []int64{0, 0}, []int64{1, 1}, false, true); err != nil {
			return nil, fmt.Errorf("galaxycnn: %w", err)
		}
	}
	pooled, err := h.MeanDim([]int64{2, 3}, false, h.DType(), false) // [N, C]
	drop(h)
	if err != nil {
		return nil, fmt.Errorf("galaxycnn: %w", err)
	}
	defer pooled.MustDrop()
	if train && n.Config.Dropout > 0 {
		if err := pooled.Dropout_(n.Config.Dropout, true); err != nil {
			return nil, fmt.Errorf("galaxycnn: %w", err)
		}
	}
	return n.fc.Forward(pooled)
}

// Loss is the mean cross-entropy of logits [N, Classes] against classes
// y [N] (int64).
func Loss(logits, y *ts.Tensor) (*ts.Tensor, error) {
	l, err := logits.CrossEntropyLoss(y, ts.None, tensors.ReductionMean, -100, 0, false)
	if err != nil {
		return nil, fmt.Errorf("galaxycnn loss: %w", err)
	}
	return l, nil
}

// Predict returns the most likely class of each of images x [N, 3, S, S]
// in eval mode, batch images at a time. Call it inside torchrt.NoGrad.
func (n *Net) Predict(x *ts.Tensor, batch int64) ([]int64, error) {
	shape, err := x.Size()
	if err != nil || len(shape) == 0 {
		return nil, fmt.Errorf("galaxycnn predict: images of shape %v: %v", shape, err)
	}
	var out []int64
	for start := int64(0); start < shape[0]; start += batch {
		xb, err := x.Narrow(0, start, min(batch, shape[0]-start), false)
		if err != nil {
			return nil, err
		}
		logits, err := n.ForwardT(xb, false)
		xb.MustDrop()
		if err != nil {
			return nil, err
		}
		cls, err := logits.Argmax([]int64{1}, false, true)
		if err != nil {
			return nil, err
		}
		v, err := tensors.Int64s(cls)
		cls.MustDrop()
		if err != nil {
			return nil, err
		}
		out = append(out, v...)
	}
	return out, nil
}
