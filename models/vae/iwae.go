package vae

import (
	"fmt"
	"math"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"torchlab/torch/tensors"
)

// LogLikelihood scores latent samples: given z [N*c, zdim], c consecutive
// rows per example (row i*c+j is example i's sample j), it returns
// log p(x_i | z) for each row, shape [N*c].
type LogLikelihood func(z *ts.Tensor, c int64) (*ts.Tensor, error)

// ImportanceWeighted returns the importance-weighted lower bound of
// log p(x) for each of N examples (Burda et al. 2016), shape [N]:
//
//	log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x),  z_k ~ q(z|x) = N(mu, diag exp(logvar)),
//
// with the prior p(z) = N(0, I). K = 1 is the ELBO (as a random estimate);
// the bound rises towards log p(x) as K grows. It also returns the mean of
// the same K log-weights, a K-sample estimate of the ELBO [N]. Samples are drawn with
// libtorch's generator, chunk per example at a time, so that memory
// stays at N*chunk decoded samples whatever K is. Call it inside
// torchrt.NoGrad: it keeps no graph.
func ImportanceWeighted(mu, logvar *ts.Tensor, k, chunk int64, logLik LogLikelihood) (bound, elbo *ts.Tensor, err error) {
	if k < 1 || chunk < 1 {
		return nil, nil, fmt.Errorf("iwae: need k >= 1 and chunk >= 1, have k=%d chunk=%d", k, chunk)
	}
	shape, err := mu.Size()
	if err != nil {
		return nil, nil, fmt.Errorf("iwae: %w", err)
	}
	if len(shape) != 2 {
		return nil, nil, fmt.Errorf("iwae: mu must be [N, z], have %v", shape)
	}
	if err := tensors.CheckShape(logvar, shape...); err != nil {
		return nil, nil, fmt.Errorf("iwae: logvar %w", err)
	}
	return ImportanceWeightedFrom(shape[0], k, chunk, func(c int64) (*ts.Tensor, error) {
		return logWeights(mu, logvar, shape[0], shape[1], c, logLik)
	})
}

// LogWeights draws c samples per example of N from a posterior q(z|x) and
// returns their log-weights log p(x|z) + log p(z) - log q(z|x), [N, c].
type LogWeights func(c int64) (*ts.Tensor, error)

// ImportanceWeightedFrom is ImportanceWeighted for any posterior: the
// bound and the K-sample ELBO of n examples [n] from the log-weights of K
// samples each, drawn chunk per example at a time.
func ImportanceWeightedFrom(n, k, chunk int64, draw LogWeights) (bound, elbo *ts.Tensor, err error) {
	if k < 1 || chunk < 1 {
		return nil, nil, fmt.Errorf("iwae: need k >= 1 and chunk >= 1, have k=%d chunk=%d", k, chunk)
	}
	var parts []*ts.Tensor // log-weights [N, c] per chunk
	defer func() {
		for _, p := range parts {
			p.MustDrop()
		}
	}()
	for done := int64(0); done < k; done += chunk {
		c := min(chunk, k-done)
		w, err := draw(c)
		if err != nil {
			return nil, nil, fmt.Errorf("iwae: samples %d-%d: %w", done, done+c, err)
		}
		parts = append(parts, w)
		if err := tensors.CheckShape(w, n, c); err != nil {
			return nil, nil, fmt.Errorf("iwae: log-weights %w", err)
		}
	}
	all, err := ts.Cat(parts, 1) // [N, K]
	if err != nil {
		return nil, nil, fmt.Errorf("iwae: %w", err)
	}
	defer all.MustDrop()
	if elbo, err = all.MeanDim([]int64{1}, false, gotch.Float, false); err != nil {
		return nil, nil, fmt.Errorf("iwae: %w", err)
	}
	lse, err := all.Logsumexp([]int64{1}, false, false) // [N]
	if err == nil {
		bound, err = tensors.AddScalar(lse, -math.Log(float64(k)), true)
	}
	if err != nil {
		elbo.MustDrop()
		return nil, nil, fmt.Errorf("iwae: %w", err)
	}
	return bound, elbo, nil
}

// logWeights draws c samples per example and returns
// log p(x|z) + log p(z) - log q(z|x) for each, shape [N, c]. With
// z = mu + std*eps the Gaussian normalisers cancel:
// log p(z) - log q(z|x) = 0.5 * sum_j (eps_j^2 + logvar_j - z_j^2).
func logWeights(mu, logvar *ts.Tensor, n, zdim, c int64, logLik LogLikelihood) (*ts.Tensor, error) {
	rep := func(t *ts.Tensor) (*ts.Tensor, error) { // [N, z] -> [N*c, z], example-major
		return t.RepeatInterleaveSelfInt(c, []int64{0}, nil, false)
	}
	muR, err := rep(mu)
	if err != nil {
		return nil, err
	}
	defer muR.MustDrop()
	lvR, err := rep(logvar)
	if err != nil {
		return nil, err
	}
	defer lvR.MustDrop()
	eps, err := ts.Randn([]int64{n * c, zdim}, gotch.Float, gotch.CPU)
	if err != nil {
		return nil, err
	}
	defer eps.MustDrop()
	z, err := Reparameterize(muR, lvR, eps)
	if err != nil {
		return nil, err
	}
	defer z.MustDrop()
	ll, err := logLik(z, c) // [N*c]
	if err != nil {
		return nil, err
	}
	defer ll.MustDrop()
	if err := tensors.CheckShape(ll, n*c); err != nil {
		return nil, fmt.Errorf("log-likelihood %w", err)
	}
	// 0.5 * sum(eps^2 + logvar - z^2) over the latent dimensions.
	e2, err := eps.Square(false)
	if err != nil {
		return nil, err
	}
	t, err := e2.Add(lvR, true)
	if err != nil {
		return nil, err
	}
	z2, err := z.Square(false)
	if err != nil {
		t.MustDrop()
		return nil, err
	}
	t, err = t.Sub(z2, true)
	z2.MustDrop()
	if err != nil {
		return nil, err
	}
	ratio, err := t.SumDimIntlist([]int64{1}, false, gotch.Float, true) // [N*c]
	if err != nil {
		return nil, err
	}
	if ratio, err = tensors.MulScalar(ratio, 0.5, true); err != nil {
		return nil, err
	}
	w, err := ratio.Add(ll, true)
	if err != nil {
		return nil, err
	}
	return w.Reshape([]int64{n, c}, true)
}

// ImageLogLikelihood is the LogLikelihood of the model's decoder for
// images x [N, C, S, S] (class cond as in ForwardT, nil for an
// unconditional model) under the model's likelihood: the per-example
// log p(x|z) summed over pixels and channels, the term the loss averages.
func (m *VAE) ImageLogLikelihood(x, cond *ts.Tensor) (LogLikelihood, error) {
	if err := m.checkImages(x); err != nil {
		return nil, err
	}
	if err := m.checkClass(x, cond); err != nil {
		return nil, err
	}
	if m.Hier != nil {
		return nil, m.errHier("image log-likelihood")
	}
	lik := m.Config.likelihood()
	return func(z *ts.Tensor, c int64) (*ts.Tensor, error) {
		xr, cr, err := repeatEach(x, cond, c) // [N*c, C, S, S] and [N*c, classes], example-major
		if err != nil {
			return nil, err
		}
		defer xr.MustDrop()
		if cr != nil {
			defer cr.MustDrop()
		}
		decoded, err := m.decode(z, cr, false)
		if err != nil {
			return nil, err
		}
		defer decoded.MustDrop()
		return lik.LogProb(decoded, xr) // [N*c]
	}, nil
}

// repeatEach repeats each image of x, and its class row of cond (nil: none),
// c times in a row; the caller drops both.
func repeatEach(x, cond *ts.Tensor, c int64) (xr, cr *ts.Tensor, err error) {
	if xr, err = x.RepeatInterleaveSelfInt(c, []int64{0}, nil, false); err != nil {
		return nil, nil, err
	}
	if cond != nil {
		if cr, err = cond.RepeatInterleaveSelfInt(c, []int64{0}, nil, false); err != nil {
			xr.MustDrop()
			return nil, nil, err
		}
	}
	return xr, cr, nil
}

// BitsPerDim converts a log-likelihood in nats per example to bits per
// dimension of an example with dims values: -logp / (dims * ln 2).
func BitsPerDim(logp float64, dims int64) float64 {
	return -logp / (float64(dims) * math.Ln2)
}

// ImportanceWeighted returns the importance-weighted bound on log p(x) and
// the K-sample ELBO of each image of x [N, C, S, S] (class cond as in
// ForwardT), [N] each, with K samples of the model's posterior drawn chunk
// per image at a time. For one Gaussian latent it is the package's
// ImportanceWeighted on the encoder's mean and log-variance; for
// resnet-iaf each sample is a forward pass in eval mode, whose log-weight
// is log p(x|z) minus the sample's log q(z|x) - log p(z) summed over the
// groups (Output.KL). Call it inside torchrt.NoGrad.
func (m *VAE) ImportanceWeighted(x, cond *ts.Tensor, k, chunk int64) (bound, elbo *ts.Tensor, err error) {
	if m.Hier == nil {
		mu, logvar, err := m.Encode(x, cond, false)
		if err != nil {
			return nil, nil, err
		}
		defer mu.MustDrop()
		defer logvar.MustDrop()
		ll, err := m.ImageLogLikelihood(x, cond)
		if err != nil {
			return nil, nil, err
		}
		return ImportanceWeighted(mu, logvar, k, chunk, ll)
	}
	if err := m.checkImages(x); err != nil {
		return nil, nil, err
	}
	if err := m.checkClass(x, cond); err != nil {
		return nil, nil, err
	}
	n, err := batchSize(x)
	if err != nil {
		return nil, nil, err
	}
	lik := m.Config.likelihood()
	return ImportanceWeightedFrom(n, k, chunk, func(c int64) (*ts.Tensor, error) {
		xr, cr, err := repeatEach(x, cond, c) // [N*c, C, S, S] and [N*c, classes], example-major
		if err != nil {
			return nil, err
		}
		defer xr.MustDrop()
		if cr != nil {
			defer cr.MustDrop()
		}
		out, err := m.Hier.ForwardT(xr, cr, nil, false)
		if err != nil {
			return nil, err
		}
		defer out.Drop()
		lp, err := lik.LogProb(out.Logits, xr) // [N*c]
		if err != nil {
			return nil, err
		}
		defer lp.MustDrop()
		kl, err := out.KL.SumDimIntlist([]int64{1}, false, gotch.Float, false) // [N*c]
		if err != nil {
			return nil, err
		}
		w, err := lp.Sub(kl, false)
		kl.MustDrop()
		if err != nil {
			return nil, err
		}
		return w.Reshape([]int64{n, c}, true)
	})
}
