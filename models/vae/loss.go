package vae

import (
	"fmt"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// reductionSum is ATen's Reduction::Sum.
const reductionSum = 2

// KLPerDim returns KL(N(mu, diag(exp(logvar))) || N(0, I)) per latent
// dimension, averaged over the batch: 0.5*(mu^2 + exp(logvar) - 1 - logvar)
// summed over examples and divided by N, shape [z]. Its sum is
// KLDivergence; a free-bits floor is applied to it.
func KLPerDim(mu, logvar *ts.Tensor) *ts.Tensor {
	n := mu.MustSize()[0]
	v := logvar.MustExp(false)                 // [N, z]
	t := mu.MustSquare(false).MustAdd(v, true) // mu^2 + exp(logvar)
	v.MustDrop()
	t = t.MustSub(logvar, true).MustAddScalar(ts.FloatScalar(-1), true) // - logvar - 1
	perDim := t.MustSumDimIntlist([]int64{0}, false, gotch.Float, true) // [z]
	return perDim.MustMulScalar(ts.FloatScalar(0.5/float64(n)), true)
}

// KLDivergence is the closed-form KL divergence of docs/theory.md (a),
// -0.5 * sum_j (1 + logvar_j - mu_j^2 - exp(logvar_j)) per example, summed
// over the latent dimensions and averaged over the batch (a scalar).
func KLDivergence(mu, logvar *ts.Tensor) *ts.Tensor {
	return KLPerDim(mu, logvar).MustSum(gotch.Float, true)
}

// KLFreeBits is KLDivergence with a floor of lambda nats on each latent
// dimension's batch-averaged KL (Kingma et al. 2016, "free bits"): a
// dimension below the floor gets no gradient pushing it to the prior, so
// the encoder is not pressed into collapsing it. lambda = 0 is KLDivergence.
func KLFreeBits(mu, logvar *ts.Tensor, lambda float64) *ts.Tensor {
	perDim := KLPerDim(mu, logvar)
	if lambda <= 0 {
		return perDim.MustSum(gotch.Float, true)
	}
	return perDim.MustClampMin(ts.FloatScalar(lambda), true).MustSum(gotch.Float, true)
}

// BernoulliNLL is the reconstruction term of docs/theory.md (d): the binary
// cross-entropy between sigmoid(logits) and targets x in [0,1], summed over
// every pixel and channel of an example and averaged over the batch. It
// works from logits (PyTorch's binary_cross_entropy_with_logits), which
// never takes the log of 0.
func BernoulliNLL(logits, x *ts.Tensor) (*ts.Tensor, error) {
	if a, b := fmt.Sprint(logits.MustSize()), fmt.Sprint(x.MustSize()); a != b {
		return nil, fmt.Errorf("bernoulli nll: logits %s and targets %s differ in shape", a, b)
	}
	n := logits.MustSize()[0]
	sum := logits.MustBinaryCrossEntropyWithLogits(x, ts.None, ts.None, reductionSum, false)
	return sum.MustDivScalar(ts.FloatScalar(float64(n)), true), nil
}

// Loss is the negative ELBO with a weight beta on the KL term, averaged
// over the batch: BernoulliNLL + beta*KL. freeBits > 0 replaces the KL in
// the loss (not in the returned kl) by KLFreeBits. It returns the loss
// and its two parts; the caller drops all three.
func Loss(logits, x, mu, logvar *ts.Tensor, beta, freeBits float64) (loss, nll, kl *ts.Tensor, err error) {
	nll, err = BernoulliNLL(logits, x)
	if err != nil {
		return nil, nil, nil, err
	}
	kl = KLDivergence(mu, logvar)
	klTerm := kl
	if freeBits > 0 {
		klTerm = KLFreeBits(mu, logvar, freeBits)
		defer klTerm.MustDrop()
	}
	weighted := klTerm.MustMulScalar(ts.FloatScalar(beta), false)
	loss = weighted.MustAdd(nll, true)
	return loss, nll, kl, nil
}
