package vae

import (
	"fmt"
	"strings"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"torchlab/torch/fused"
	"torchlab/torch/tensors"
)

// Likelihood names the decoder's distribution p(x|z) over images.
type Likelihood string

const (
	// Bernoulli is the assignment's reconstruction loss: a Bernoulli per
	// pixel and channel with the pixel value in [0, 1] as its target. Its
	// cross-entropy on continuous targets is not normalised over images, so
	// its "bits/dim" compare with nothing published.
	Bernoulli Likelihood = "bernoulli"
	// Logistic is a discretised logistic per pixel and channel over the 256
	// values of an 8-bit image (the IAF paper's ResNet VAE, PixelCNN++
	// without the mixture): a normalised likelihood of 8-bit images, whose
	// bits/dim compare with the literature's.
	Logistic Likelihood = "logistic"
)

// Likelihoods lists the accepted values of Config.Likelihood.
var Likelihoods = []Likelihood{Bernoulli, Logistic}

// ParseLikelihood accepts "bernoulli" or "logistic" ("" is bernoulli).
func ParseLikelihood(s string) (Likelihood, error) {
	switch Likelihood(s) {
	case "", Bernoulli:
		return Bernoulli, nil
	case Logistic:
		return Logistic, nil
	}
	names := make([]string, len(Likelihoods))
	for i, l := range Likelihoods {
		names[i] = string(l)
	}
	return "", fmt.Errorf("unknown likelihood %q (want %s)", s, strings.Join(names, " or "))
}

// paramsPerChannel is how many decoder outputs each image channel needs.
func (l Likelihood) paramsPerChannel() int64 {
	if l == Logistic {
		return 2 // location and log-scale
	}
	return 1 // logit
}

// LogProb returns log p(x|decoded) per example [N], summed over pixels and
// channels; decoded is the decoder's output for images x [N, C, S, S] in
// [0, 1] ([N, C, S, S] logits for Bernoulli, [N, 2C, S, S] locations and
// log-scales for Logistic).
func (l Likelihood) LogProb(decoded, x *ts.Tensor) (*ts.Tensor, error) {
	if l == Logistic {
		lp, err := fused.DiscretizedLogisticLogProb(decoded, x)
		if err != nil {
			return nil, fmt.Errorf("logistic log-likelihood: %w", err)
		}
		return lp, nil
	}
	if err := sameShape(decoded, x); err != nil {
		return nil, fmt.Errorf("bernoulli log-likelihood: %w", err)
	}
	bce, err := decoded.BinaryCrossEntropyWithLogits(x, ts.None, ts.None, tensors.ReductionNone, false)
	if err != nil {
		return nil, fmt.Errorf("bernoulli log-likelihood: %w", err)
	}
	sum, err := bce.SumDimIntlist([]int64{1, 2, 3}, false, gotch.Float, true) // [N]
	if err != nil {
		return nil, fmt.Errorf("bernoulli log-likelihood: %w", err)
	}
	return sum.Neg(true)
}

// NLL is the reconstruction term of the loss: -log p(x|decoded) summed over
// pixels and channels and averaged over the batch (a scalar, nats/image).
// For Bernoulli it is BernoulliNLL.
func (l Likelihood) NLL(decoded, x *ts.Tensor) (*ts.Tensor, error) {
	if l != Logistic {
		return BernoulliNLL(decoded, x)
	}
	lp, err := l.LogProb(decoded, x)
	if err != nil {
		return nil, err
	}
	m, err := lp.Mean(gotch.Float, true)
	if err != nil {
		return nil, fmt.Errorf("logistic nll: %w", err)
	}
	return m.Neg(true)
}

// Mean returns the image [N, C, S, S] in [0, 1] a decoder output stands
// for: sigmoid of the logits, or the logistic's location mapped back from
// [-1, 1] (its median, clamped to the image's range). It frees nothing.
func (l Likelihood) Mean(decoded *ts.Tensor, channels int64) (*ts.Tensor, error) {
	if l != Logistic {
		return decoded.Sigmoid(false)
	}
	loc, err := decoded.Narrow(1, 0, channels, false) // [N, C, S, S]
	if err != nil {
		return nil, fmt.Errorf("logistic mean: %w", err)
	}
	t, err := tensors.AddScalar(loc, 1, true)
	if err != nil {
		return nil, fmt.Errorf("logistic mean: %w", err)
	}
	if t, err = tensors.MulScalar(t, 0.5, true); err != nil {
		return nil, fmt.Errorf("logistic mean: %w", err)
	}
	return tensors.Clamp(t, 0, 1, true)
}

func sameShape(a, b *ts.Tensor) error {
	sa, err := a.Size()
	if err != nil {
		return err
	}
	sb, err := b.Size()
	if err != nil {
		return err
	}
	if fmt.Sprint(sa) != fmt.Sprint(sb) || len(sa) == 0 {
		return fmt.Errorf("decoder output %v and targets %v differ in shape", sa, sb)
	}
	return nil
}
