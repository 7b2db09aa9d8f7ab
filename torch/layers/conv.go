package layers

import (
	"fmt"

	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/torch/fused"
)

// ConvConfig holds the hyperparameters of a 2-D convolution; zero values
// mean PyTorch's defaults (stride 1, padding 0, dilation 1, groups 1, bias).
type ConvConfig struct {
	Stride        int64
	Padding       int64
	OutputPadding int64 // transposed convolution only
	Dilation      int64
	Groups        int64
	NoBias        bool
}

func (c ConvConfig) withDefaults() ConvConfig {
	if c.Stride == 0 {
		c.Stride = 1
	}
	if c.Dilation == 0 {
		c.Dilation = 1
	}
	if c.Groups == 0 {
		c.Groups = 1
	}
	return c
}

func (c ConvConfig) check(p *nn.Path, in, out, k int64) error {
	if in <= 0 || out <= 0 || k <= 0 || c.Stride <= 0 || c.Padding < 0 || c.Dilation <= 0 || c.Groups <= 0 {
		return fmt.Errorf("conv %s: invalid sizes in=%d out=%d kernel=%d %+v", pathName(p), in, out, k, c)
	}
	if in%c.Groups != 0 || out%c.Groups != 0 {
		return fmt.Errorf("conv %s: channels %d->%d not divisible by groups %d", pathName(p), in, out, c.Groups)
	}
	return nil
}

// Conv2d is torch.nn.Conv2d with a square kernel.
type Conv2d struct {
	Weight *ts.Tensor // [out, in/groups, k, k]
	Bias   *ts.Tensor // [out], nil without bias
	Config ConvConfig
	// pointwiseStrided: a 1x1 kernel with stride > 1 and no padding (the
	// resnet VAE's skips), which Forward runs through
	// fused.Conv2dPointwiseStrided to avoid a libtorch channels-last bug.
	pointwiseStrided bool
}

// NewConv2d creates "weight" and "bias" under p, initialised as PyTorch does.
func NewConv2d(p *nn.Path, in, out, kernel int64, cfg ConvConfig) (*Conv2d, error) {
	cfg = cfg.withDefaults()
	if err := cfg.check(p, in, out, kernel); err != nil {
		return nil, err
	}
	fanIn := in / cfg.Groups * kernel * kernel
	w, b, err := newWeightAndBias(p, []int64{out, in / cfg.Groups, kernel, kernel}, fanIn, out, !cfg.NoBias)
	if err != nil {
		return nil, fmt.Errorf("conv %s: %w", pathName(p), err)
	}
	pointwiseStrided := kernel == 1 && cfg.Stride > 1 && cfg.Padding == 0 && cfg.Groups == 1
	return &Conv2d{Weight: w, Bias: b, Config: cfg, pointwiseStrided: pointwiseStrided}, nil
}

// Forward maps [N, in, H, W] to [N, out, H', W'].
func (c *Conv2d) Forward(x *ts.Tensor) (*ts.Tensor, error) {
	s, pad, d := c.Config.Stride, c.Config.Padding, c.Config.Dilation
	if c.pointwiseStrided {
		y, err := fused.Conv2dPointwiseStrided(x, c.Weight, c.Bias, s)
		if err != nil {
			return nil, fmt.Errorf("conv: %w", err)
		}
		return y, nil
	}
	y, err := ts.Conv2d(x, c.Weight, optional(c.Bias), []int64{s, s}, []int64{pad, pad}, []int64{d, d}, c.Config.Groups)
	if err != nil {
		return nil, fmt.Errorf("conv: %w", err)
	}
	return y, nil
}

// ConvTranspose2d is torch.nn.ConvTranspose2d with a square kernel. Its
// weight is [in, out/groups, k, k], as in PyTorch (gotch's own layer stores
// it the other way round, which only works when in == out).
type ConvTranspose2d struct {
	Weight *ts.Tensor // [in, out/groups, k, k]
	Bias   *ts.Tensor // [out], nil without bias
	Config ConvConfig
	// subpixel: the output is exactly stride times the input (kernel =
	// stride + 2*padding, no output padding or dilation, one group), so
	// Forward may run as a convolution and a pixel shuffle.
	subpixel bool
}

// NewConvTranspose2d creates "weight" and "bias" under p, initialised as
// PyTorch does. PyTorch computes the fan-in from the weight's second
// dimension, out/groups*k*k, and so does this.
func NewConvTranspose2d(p *nn.Path, in, out, kernel int64, cfg ConvConfig) (*ConvTranspose2d, error) {
	cfg = cfg.withDefaults()
	if err := cfg.check(p, in, out, kernel); err != nil {
		return nil, err
	}
	fanIn := out / cfg.Groups * kernel * kernel
	w, b, err := newWeightAndBias(p, []int64{in, out / cfg.Groups, kernel, kernel}, fanIn, out, !cfg.NoBias)
	if err != nil {
		return nil, fmt.Errorf("conv-transpose %s: %w", pathName(p), err)
	}
	subpixel := kernel == cfg.Stride+2*cfg.Padding && cfg.OutputPadding == 0 && cfg.Dilation == 1 && cfg.Groups == 1
	return &ConvTranspose2d{Weight: w, Bias: b, Config: cfg, subpixel: subpixel}, nil
}

// Forward maps [N, in, H, W] to [N, out, H', W'] with
// H' = (H-1)*stride - 2*padding + dilation*(k-1) + outputPadding + 1.
// When the output is exactly stride times the input (k = stride +
// 2*padding, the up-sampling layers of the VAEs) it runs as a convolution
// and a pixel shuffle (fused.ConvTransposeSubpixel): the same function
// within float rounding, on oneDNN's convolution instead of libtorch's slow
// CPU transposed one, 3 to 10 times faster per layer here.
func (c *ConvTranspose2d) Forward(x *ts.Tensor) (*ts.Tensor, error) {
	s, pad, op, d := c.Config.Stride, c.Config.Padding, c.Config.OutputPadding, c.Config.Dilation
	if c.subpixel {
		y, err := fused.ConvTransposeSubpixel(x, c.Weight, c.Bias, s, pad)
		if err != nil {
			return nil, fmt.Errorf("conv-transpose: %w", err)
		}
		return y, nil
	}
	y, err := ts.ConvTranspose2d(x, c.Weight, optional(c.Bias), []int64{s, s}, []int64{pad, pad}, []int64{op, op}, c.Config.Groups, []int64{d, d})
	if err != nil {
		return nil, fmt.Errorf("conv-transpose: %w", err)
	}
	return y, nil
}
