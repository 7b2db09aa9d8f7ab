package vae

import (
	"fmt"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"torchlab/torch/tensors"
)

// KLPerDim returns KL(N(mu, diag(exp(logvar))) || N(0, I)) per latent
// dimension, averaged over the batch: 0.5*(mu^2 + exp(logvar) - 1 - logvar)
// summed over examples and divided by N, shape [z]. Its sum is
// KLDivergence; a free-bits floor is applied to it.
func KLPerDim(mu, logvar *ts.Tensor) (*ts.Tensor, error) {
	t, err := klPerDim(mu, logvar)
	if err != nil {
		return nil, fmt.Errorf("kl: %w", err)
	}
	return t, nil
}

func klPerDim(mu, logvar *ts.Tensor) (*ts.Tensor, error) {
	n, err := batchSize(mu)
	if err != nil {
		return nil, err
	}
	v, err := logvar.Exp(false) // [N, z]
	if err != nil {
		return nil, err
	}
	defer v.MustDrop()
	sq, err := mu.Square(false)
	if err != nil {
		return nil, err
	}
	// From here each op frees its receiver (del=true), also on failure.
	t, err := sq.Add(v, true) // mu^2 + exp(logvar)
	if err != nil {
		return nil, err
	}
	if t, err = t.Sub(logvar, true); err != nil {
		return nil, err
	}
	if t, err = tensors.AddScalar(t, -1, true); err != nil { // - logvar - 1
		return nil, err
	}
	perDim, err := t.SumDimIntlist([]int64{0}, false, gotch.Float, true) // [z]
	if err != nil {
		return nil, err
	}
	return tensors.MulScalar(perDim, 0.5/float64(n), true)
}

// KLDivergence is the closed-form KL divergence of docs/theory.md (a),
// -0.5 * sum_j (1 + logvar_j - mu_j^2 - exp(logvar_j)) per example, summed
// over the latent dimensions and averaged over the batch (a scalar).
func KLDivergence(mu, logvar *ts.Tensor) (*ts.Tensor, error) {
	return KLFreeBits(mu, logvar, 0)
}

// KLFreeBits is KLDivergence with a floor of lambda nats on each latent
// dimension's batch-averaged KL (Kingma et al. 2016, "free bits"): a
// dimension below the floor gets no gradient pushing it to the prior, so
// the encoder is not pressed into collapsing it. lambda = 0 is KLDivergence.
func KLFreeBits(mu, logvar *ts.Tensor, lambda float64) (*ts.Tensor, error) {
	perDim, err := KLPerDim(mu, logvar)
	if err != nil {
		return nil, err
	}
	if lambda > 0 {
		if perDim, err = tensors.ClampMin(perDim, lambda, true); err != nil {
			return nil, fmt.Errorf("kl: %w", err)
		}
	}
	kl, err := perDim.Sum(gotch.Float, true)
	if err != nil {
		return nil, fmt.Errorf("kl: %w", err)
	}
	return kl, nil
}

// BernoulliNLL is the reconstruction term of docs/theory.md (d): the binary
// cross-entropy between sigmoid(logits) and targets x in [0,1], summed over
// every pixel and channel of an example and averaged over the batch. It
// works from logits (PyTorch's binary_cross_entropy_with_logits), which
// never takes the log of 0.
func BernoulliNLL(logits, x *ts.Tensor) (*ts.Tensor, error) {
	a, err := logits.Size()
	if err != nil {
		return nil, fmt.Errorf("bernoulli nll: %w", err)
	}
	b, err := x.Size()
	if err != nil {
		return nil, fmt.Errorf("bernoulli nll: %w", err)
	}
	if fmt.Sprint(a) != fmt.Sprint(b) || len(a) == 0 {
		return nil, fmt.Errorf("bernoulli nll: logits %v and targets %v differ in shape", a, b)
	}
	sum, err := logits.BinaryCrossEntropyWithLogits(x, ts.None, ts.None, tensors.ReductionSum, false)
	if err != nil {
		return nil, fmt.Errorf("bernoulli nll: %w", err)
	}
	mean, err := tensors.DivScalar(sum, float64(a[0]), true)
	if err != nil {
		return nil, fmt.Errorf("bernoulli nll: %w", err)
	}
	return mean, nil
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
	if loss, kl, err = elbo(nll, mu, logvar, beta, freeBits); err != nil {
		nll.MustDrop()
		return nil, nil, nil, err
	}
	return loss, nll, kl, nil
}

// elbo is Loss once the reconstruction term nll is known.
func elbo(nll, mu, logvar *ts.Tensor, beta, freeBits float64) (loss, kl *ts.Tensor, err error) {
	if kl, err = KLDivergence(mu, logvar); err != nil {
		return nil, nil, err
	}
	klTerm := kl
	if freeBits > 0 {
		if klTerm, err = KLFreeBits(mu, logvar, freeBits); err != nil {
			kl.MustDrop()
			return nil, nil, err
		}
		defer klTerm.MustDrop()
	}
	if loss, err = addWeighted(nll, klTerm, beta); err != nil {
		kl.MustDrop()
		return nil, nil, err
	}
	return loss, kl, nil
}

// elboSampled is elbo for a posterior without a closed-form KL: klRows
// [N, K] holds the one-sample estimates of log q(z|x) - log p(z) per
// example and free-bits group (Output.KL). kl is their batch mean summed
// over the groups; with freeBits > 0 the loss floors each group's batch
// mean at freeBits nats, as KLFreeBits does each dimension's.
func elboSampled(nll, klRows *ts.Tensor, beta, freeBits float64) (loss, kl *ts.Tensor, err error) {
	perGroup, err := klRows.MeanDim([]int64{0}, false, gotch.Float, false) // [K]
	if err != nil {
		return nil, nil, fmt.Errorf("vae loss: %w", err)
	}
	defer perGroup.MustDrop()
	if kl, err = perGroup.Sum(gotch.Float, false); err != nil {
		return nil, nil, fmt.Errorf("vae loss: %w", err)
	}
	klTerm := kl
	if freeBits > 0 {
		floored, err := tensors.ClampMin(perGroup, freeBits, false)
		if err == nil {
			klTerm, err = floored.Sum(gotch.Float, true)
		}
		if err != nil {
			kl.MustDrop()
			return nil, nil, fmt.Errorf("vae loss: %w", err)
		}
		defer klTerm.MustDrop()
	}
	if loss, err = addWeighted(nll, klTerm, beta); err != nil {
		kl.MustDrop()
		return nil, nil, err
	}
	return loss, kl, nil
}

// addWeighted is nll + beta*klTerm, a new tensor.
func addWeighted(nll, klTerm *ts.Tensor, beta float64) (*ts.Tensor, error) {
	weighted, err := tensors.MulScalar(klTerm, beta, false)
	if err != nil {
		return nil, fmt.Errorf("vae loss: %w", err)
	}
	loss, err := weighted.Add(nll, true) // frees weighted
	if err != nil {
		return nil, fmt.Errorf("vae loss: %w", err)
	}
	return loss, nil
}
