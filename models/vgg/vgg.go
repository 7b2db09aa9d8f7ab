// Package vgg is VGG11 (configuration "A" of Simonyan & Zisserman, 2015,
// Table 1) for small single-channel images such as MNIST resized to 32x32.
//
// The five 2x2 max-pools take 32x32 to 1x1, so the classifier takes 512
// features instead of the paper's 512x7x7; otherwise it is the paper's
// (4096, 4096, dropout 0.5). Parameters are named as in the PyTorch module
// of scripts/reference/vgg_mnist.py (features.N.weight, classifier.N.bias),
// which mirrors torchvision's VGG, so weights move between the two by name.
package vgg

import (
	"fmt"
	"math"

	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/torch/fused"
	"torchlab/torch/layers"
	"torchlab/torch/tensors"
	"torchlab/torch/torchrt"
)

// Pool marks a 2x2 max-pool in a layer configuration.
const Pool = 0

// ConfigA is VGG11's feature extractor: output channels of each 3x3
// convolution, with Pool for each max-pool.
var ConfigA = []int64{64, Pool, 128, Pool, 256, 256, Pool, 512, 512, Pool, 512, 512, Pool}

// Init names how the weights start.
const (
	// InitPyTorch keeps torch.nn's defaults for Conv2d and Linear
	// (kaiming-uniform with a=sqrt(5), uniform biases).
	InitPyTorch = "pytorch"
	// InitTorchvision re-initialises as torchvision's VGG does after
	// building it: convolutions kaiming-normal (fan_out, ReLU gain), linear
	// weights N(0, 0.01), all biases 0.
	InitTorchvision = "torchvision"
)

// Config selects the variant.
type Config struct {
	InChannels int64   `json:"in_channels"`
	NumClasses int64   `json:"num_classes"`
	Hidden     int64   `json:"hidden"`     // width of the two hidden classifier layers
	Dropout    float64 `json:"dropout"`    // classifier dropout probability; 0 turns it off
	BatchNorm  bool    `json:"batch_norm"` // BatchNorm2d after every convolution
	Init       string  `json:"init"`       // InitPyTorch or InitTorchvision
}

// DefaultConfig is VGG11 for 1x32x32 inputs and 10 classes.
func DefaultConfig() Config {
	return Config{InChannels: 1, NumClasses: 10, Hidden: 4096, Dropout: 0.5, Init: InitTorchvision}
}

// block is one convolution of the feature extractor, with its optional
// batch norm, followed by a ReLU and possibly a max-pool.
type block struct {
	conv *layers.Conv2d
	bn   *layers.BatchNorm2d
	pool bool
}

// VGG is VGG11 with a three-layer classifier.
type VGG struct {
	cfg    Config
	blocks []block
	fc     [3]*layers.Linear
}

// New builds VGG11 under p with PyTorch's module indices: features.N for
// the N-th module of the feature Sequential (conv, [bn], relu, [pool]) and
// classifier.0, .3, .6 for the linear layers.
func New(p *nn.Path, cfg Config) (*VGG, error) {
	if cfg.InChannels <= 0 || cfg.NumClasses <= 0 || cfg.Hidden <= 0 {
		return nil, fmt.Errorf("vgg: channels, classes and hidden width must be positive, have %+v", cfg)
	}
	if cfg.Dropout < 0 || cfg.Dropout >= 1 {
		return nil, fmt.Errorf("vgg: dropout %v must be in [0, 1)", cfg.Dropout)
	}
	if cfg.Init != InitPyTorch && cfg.Init != InitTorchvision {
		return nil, fmt.Errorf("vgg: unknown init %q (want %q or %q)", cfg.Init, InitPyTorch, InitTorchvision)
	}
	m := &VGG{cfg: cfg}
	features := p.Sub("features")
	in, idx := cfg.InChannels, 0
	for _, c := range ConfigA {
		if c == Pool {
			m.blocks[len(m.blocks)-1].pool = true
			idx++
			continue
		}
		conv, err := layers.NewConv2d(features.Sub(fmt.Sprint(idx)), in, c, 3, layers.ConvConfig{Padding: 1})
		if err != nil {
			return nil, fmt.Errorf("vgg: %w", err)
		}
		idx++
		b := block{conv: conv}
		if cfg.BatchNorm {
			if b.bn, err = layers.NewBatchNorm2d(features.Sub(fmt.Sprint(idx)), c); err != nil {
				return nil, fmt.Errorf("vgg: %w", err)
			}
			idx++
		}
		idx++ // the ReLU
		m.blocks = append(m.blocks, b)
		in = c
	}
	classifier := p.Sub("classifier")
	sizes := [][2]int64{{in, cfg.Hidden}, {cfg.Hidden, cfg.Hidden}, {cfg.Hidden, cfg.NumClasses}}
	for i, s := range sizes {
		fc, err := layers.NewLinear(classifier.Sub(fmt.Sprint(3*i)), s[0], s[1], true)
		if err != nil {
			return nil, fmt.Errorf("vgg: %w", err)
		}
		m.fc[i] = fc
	}
	if cfg.Init == InitTorchvision {
		if err := torchrt.NoGrad(m.reinit); err != nil {
			return nil, fmt.Errorf("vgg: init: %w", err)
		}
	}
	return m, nil
}

// reinit draws torchvision's VGG initialisation, module by module in the
// order of model.modules(), so that the same seed gives the same weights.
func (m *VGG) reinit() error {
	for _, b := range m.blocks {
		// kaiming_normal_(mode="fan_out", nonlinearity="relu"): std is
		// gain/sqrt(fan_out) with gain sqrt(2), in PyTorch's order of
		// operations so the float64 is the same.
		size, err := b.conv.Weight.Size()
		if err != nil {
			return err
		}
		fanOut := size[0] * size[2] * size[3]
		if err := b.conv.Weight.Normal_(0, math.Sqrt(2)/math.Sqrt(float64(fanOut))); err != nil {
			return err
		}
		if err := b.conv.Bias.Zero_(); err != nil {
			return err
		}
		// BatchNorm2d already starts at weight 1, bias 0, as torchvision sets.
	}
	for _, fc := range m.fc {
		if err := fc.Weight.Normal_(0, 0.01); err != nil {
			return err
		}
		if err := fc.Bias.Zero_(); err != nil {
			return err
		}
	}
	return nil
}

// Config returns the configuration the model was built with.
func (m *VGG) Config() Config { return m.cfg }

// SetChannelsLast lays the convolution weights out channels-last (on) or
// back in PyTorch's default contiguous layout (off), in place: same values,
// same tensors. With channels-last weights libtorch's oneDNN convolutions
// run channels-last from the first layer on, which makes evaluation faster
// and a training step slower (docs/decisions.md, "vgg-mnist's
// evaluation"). So it is for evaluation only: turn it off before training,
// checkpointing or the optimiser's step, which walks the parameters as flat
// contiguous arrays.
func (m *VGG) SetChannelsLast(on bool) error {
	for i, b := range m.blocks {
		if err := fused.SetChannelsLast(b.conv.Weight, on); err != nil {
			return fmt.Errorf("vgg: conv %d layout: %w", i, err)
		}
	}
	return nil
}

// InputSide is the side of the square images VGG takes: five 2x2 pools
// take it to 1, where the classifier expects 512 features.
const InputSide = 32

// ForwardT maps images [N, C, 32, 32] to logits [N, classes]. train turns
// on dropout and batch statistics (which also updates BatchNorm's running
// statistics). An input of another shape is an error naming the one wanted.
func (m *VGG) ForwardT(x *ts.Tensor, train bool) (*ts.Tensor, error) {
	if err := tensors.CheckShape(x, tensors.Any, m.cfg.InChannels, InputSide, InputSide); err != nil {
		return nil, fmt.Errorf("vgg: %w", err)
	}
	y, err := m.forwardT(x, train)
	if err != nil {
		return nil, fmt.Errorf("vgg forward: %w", err)
	}
	return y, nil
}

func (m *VGG) forwardT(x *ts.Tensor, train bool) (*ts.Tensor, error) {
	h := x // the current activation: every h but x is ours to free
	fail := func(err error) (*ts.Tensor, error) {
		if h != x {
			h.MustDrop()
		}
		return nil, err
	}
	for _, b := range m.blocks {
		next, err := b.conv.Forward(h) // [N, c, s, s]
		if err != nil {
			return fail(err)
		}
		if h != x {
			h.MustDrop()
		}
		h = next
		if b.bn != nil {
			normed, err := b.bn.ForwardT(next, train)
			if err != nil {
				return fail(err)
			}
			next.MustDrop()
			h = normed
		}
		// In place, as torchvision's ReLU(inplace=True): neither the
		// convolution's nor batch norm's backward needs this tensor.
		if err := h.Relu_(); err != nil {
			return fail(err)
		}
		if b.pool {
			// del=true frees h even when the op fails.
			if h, err = h.MaxPool2d([]int64{2, 2}, []int64{2, 2}, []int64{0, 0}, []int64{1, 1}, false, true); err != nil { // [N, c, s/2, s/2]
				return nil, err
			}
		}
	}
	var err error
	if h, err = h.Flatten(1, -1, true); err != nil { // [N, 512]
		return nil, err
	}
	for i, fc := range m.fc {
		next, err := fc.Forward(h) // [N, hidden] then [N, classes]
		h.MustDrop()
		if err != nil {
			return nil, err
		}
		h = next
		if i == len(m.fc)-1 {
			break
		}
		if err := h.Relu_(); err != nil {
			return fail(err)
		}
		if train && m.cfg.Dropout > 0 {
			if h, err = ts.Dropout(h, m.cfg.Dropout, true); err != nil {
				next.MustDrop()
				return nil, err
			}
			next.MustDrop()
		}
	}
	return h, nil
}

// Loss is the mean cross-entropy of logits [N, classes] against labels y
// [N] (int64), as torch.nn.functional.cross_entropy computes it.
func Loss(logits, y *ts.Tensor) (*ts.Tensor, error) {
	l, err := logits.CrossEntropyLoss(y, ts.None, tensors.ReductionMean, -100, 0, false)
	if err != nil {
		return nil, fmt.Errorf("vgg loss: %w", err)
	}
	return l, nil
}
