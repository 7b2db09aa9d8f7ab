package vae

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"torchlab/torch/tensors"
	"torchlab/torch/torchrt"
)

// linearGaussian is the model p(z) = N(0, I), p(x|z) = N(W z + b, sigma^2 I)
// with W = U diag(s) for orthonormal columns U, so that both log p(x) and
// the posterior p(z|x) (a diagonal Gaussian) have closed forms to test the
// importance-weighted bound against.
type linearGaussian struct {
	u     [][]float64 // D x Z, orthonormal columns
	s     []float64   // Z column scales
	b     []float64   // D
	sigma float64
}

func newLinearGaussian() linearGaussian {
	r2, h := 1/math.Sqrt2, 0.5
	return linearGaussian{
		u: [][]float64{
			{r2, 0, h}, {r2, 0, -h}, {0, r2, h}, {0, -r2, h}, {0, 0, 0}, {0, 0, 0},
		},
		s:     []float64{2, 1.5, 0.8},
		b:     []float64{0.3, -0.2, 0.1, 0.5, -0.4, 0.2},
		sigma: 0.5,
	}
}

func (g linearGaussian) dims() (d, z int) { return len(g.b), len(g.s) }

// projections returns u_j . (x - b) for each latent dimension j.
func (g linearGaussian) projections(x []float64) []float64 {
	d, zd := g.dims()
	p := make([]float64, zd)
	for j := range zd {
		for i := range d {
			p[j] += g.u[i][j] * (x[i] - g.b[i])
		}
	}
	return p
}

// logMarginal is log N(x; b, sigma^2 I + W W^T).
func (g linearGaussian) logMarginal(x []float64) float64 {
	d, zd := g.dims()
	v := g.sigma * g.sigma
	logdet := float64(d-zd) * math.Log(v)
	quad := 0.0
	for i := range d {
		quad += (x[i] - g.b[i]) * (x[i] - g.b[i]) / v
	}
	for j, p := range g.projections(x) {
		s2 := g.s[j] * g.s[j]
		logdet += math.Log(v + s2)
		quad -= s2 * p * p / (v * (v + s2))
	}
	return -0.5 * (float64(d)*math.Log(2*math.Pi) + logdet + quad)
}

// posterior is the exact p(z|x): mean and log-variance per dimension.
func (g linearGaussian) posterior(x []float64) (mu, logvar []float64) {
	v := g.sigma * g.sigma
	for j, p := range g.projections(x) {
		post := 1 / (1 + g.s[j]*g.s[j]/v)
		mu = append(mu, post*g.s[j]*p/v)
		logvar = append(logvar, math.Log(post))
	}
	return mu, logvar
}

// sample draws x from the model.
func (g linearGaussian) sample(rng *rand.Rand) []float64 {
	d, zd := g.dims()
	x := append([]float64(nil), g.b...)
	for j := range zd {
		z := rng.NormFloat64()
		for i := range d {
			x[i] += g.u[i][j] * g.s[j] * z
		}
	}
	for i := range d {
		x[i] += g.sigma * rng.NormFloat64()
	}
	return x
}

// logLikelihood is the model's LogLikelihood for the examples xs.
func (g linearGaussian) logLikelihood(t *testing.T, xs [][]float64) LogLikelihood {
	d, zd := g.dims()
	wt := make([]float32, zd*d) // W^T [Z, D]
	for j := range zd {
		for i := range d {
			wt[j*d+i] = float32(g.u[i][j] * g.s[j])
		}
	}
	return func(z *ts.Tensor, c int64) (*ts.Tensor, error) {
		var rows []float32 // x_i - b repeated c times, [N*c, D]
		for _, x := range xs {
			for range c {
				for i := range d {
					rows = append(rows, float32(x[i]-g.b[i]))
				}
			}
		}
		r, err := tensors.FromFloat32(rows, int64(len(xs))*c, int64(d))
		if err != nil {
			return nil, err
		}
		defer r.MustDrop()
		w, err := tensors.FromFloat32(wt, int64(zd), int64(d))
		if err != nil {
			return nil, err
		}
		defer w.MustDrop()
		mean, err := z.Matmul(w, false) // W z for each row, [N*c, D]
		if err != nil {
			return nil, err
		}
		diff, err := r.Sub(mean, false)
		mean.MustDrop()
		if err != nil {
			return nil, err
		}
		sq, err := diff.Square(true)
		if err != nil {
			return nil, err
		}
		sum, err := sq.SumDimIntlist([]int64{1}, false, gotch.Float, true)
		if err != nil {
			return nil, err
		}
		v := g.sigma * g.sigma
		if sum, err = tensors.MulScalar(sum, -0.5/v, true); err != nil {
			return nil, err
		}
		return tensors.AddScalar(sum, -0.5*float64(d)*math.Log(2*math.Pi*v), true)
	}
}

// bounds returns the importance-weighted bound of each of xs with k
// samples from q = N(mu, exp(logvar)) (one row per example), and the mean
// log-weight (the k-sample ELBO estimate).
func bounds(t *testing.T, g linearGaussian, xs [][]float64, mu, logvar [][]float64, k int64) (iw, elbos []float64) {
	t.Helper()
	_, zd := g.dims()
	flat := func(rows [][]float64) *ts.Tensor {
		var f []float32
		for _, r := range rows {
			for _, v := range r {
				f = append(f, float32(v))
			}
		}
		x, err := tensors.FromFloat32(f, int64(len(rows)), int64(zd))
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	m, lv := flat(mu), flat(logvar)
	defer m.MustDrop()
	defer lv.MustDrop()
	err := torchrt.NoGrad(func() error {
		b, elbo, err := ImportanceWeighted(m, lv, k, 2000, g.logLikelihood(t, xs))
		if err != nil {
			return err
		}
		defer b.MustDrop()
		defer elbo.MustDrop()
		iw, elbos = floats(t, b), floats(t, elbo)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return iw, elbos
}

// TestImportanceWeightedExactPosterior: with q the exact posterior every
// importance weight equals p(x), so the bound is log p(x) for any k.
func TestImportanceWeightedExactPosterior(t *testing.T) {
	torchrt.Lock()
	torchrt.ManualSeed(3)
	g := newLinearGaussian()
	rng := rand.New(rand.NewPCG(1, 2))
	xs := [][]float64{g.sample(rng), g.sample(rng), g.sample(rng)}
	var mu, logvar [][]float64
	for _, x := range xs {
		m, lv := g.posterior(x)
		mu, logvar = append(mu, m), append(logvar, lv)
	}
	for _, k := range []int64{1, 7, 50} {
		got, _ := bounds(t, g, xs, mu, logvar, k)
		for i, x := range xs {
			if want := g.logMarginal(x); math.Abs(got[i]-want) > 1e-4*math.Max(1, math.Abs(want)) {
				t.Errorf("k=%d example %d: bound %.6f, log p(x) %.6f", k, i, got[i], want)
			}
		}
	}
}

// TestImportanceWeightedConvergesToLogLikelihood: with a q that misses the
// posterior (mean one posterior sd off, variance doubled), the k=1 bound
// averages to the analytic ELBO log p(x) - KL(q || p(z|x)), the bound
// rises with k, and at k = 20,000 it is within 0.02 nats of log p(x)
// while the mean of those 20,000 log-weights stays at the ELBO.
func TestImportanceWeightedConvergesToLogLikelihood(t *testing.T) {
	torchrt.Lock()
	torchrt.ManualSeed(5)
	g := newLinearGaussian()
	rng := rand.New(rand.NewPCG(3, 4))
	x := g.sample(rng)
	truth := g.logMarginal(x)
	pm, plv := g.posterior(x)
	var qm, qlv []float64
	kl := 0.0 // KL(q || posterior), per dimension in closed form
	for j := range pm {
		sd := math.Exp(plv[j] / 2)
		qm = append(qm, pm[j]+sd)
		qlv = append(qlv, plv[j]+math.Ln2)
		kl += 0.5 * (2 + 1 - 1 - math.Ln2) // variance ratio 2, mean off by one sd
	}
	mean := func(k int64, reps int) (m, se, elbo float64) {
		xs, mu, logvar := make([][]float64, reps), make([][]float64, reps), make([][]float64, reps)
		for r := range reps {
			xs[r], mu[r], logvar[r] = x, qm, qlv
		}
		b, e := bounds(t, g, xs, mu, logvar, k)
		for r, v := range b {
			m += v
			elbo += e[r] / float64(reps)
		}
		m /= float64(reps)
		for _, v := range b {
			se += (v - m) * (v - m)
		}
		if reps > 1 {
			se = math.Sqrt(se / float64(reps*(reps-1)))
		}
		return m, se, elbo
	}
	elbo := truth - kl
	k1, se1, _ := mean(1, 4000)
	if math.Abs(k1-elbo) > 4*se1+1e-3 {
		t.Errorf("k=1: mean bound %.4f +- %.4f, analytic ELBO %.4f", k1, se1, elbo)
	}
	k10, _, _ := mean(10, 400)
	k100, _, _ := mean(100, 40)
	k20000, _, elbo20000 := mean(20000, 1)
	if math.Abs(elbo20000-elbo) > 0.05 {
		t.Errorf("mean log-weight of 20,000 samples %.4f, analytic ELBO %.4f", elbo20000, elbo)
	}
	t.Logf("log p(x) %.4f; bound k=1 %.4f, k=10 %.4f, k=100 %.4f, k=20000 %.4f", truth, k1, k10, k100, k20000)
	if !(k1 < k10 && k10 < k100 && k100 < truth+0.01) {
		t.Errorf("bound does not rise with k towards log p(x) %.4f: %.4f, %.4f, %.4f", truth, k1, k10, k100)
	}
	if math.Abs(k20000-truth) > 0.02 {
		t.Errorf("k=20000: bound %.4f, log p(x) %.4f", k20000, truth)
	}
}

// TestImportanceWeightedRejectsBadArguments checks k, chunk and shapes.
func TestImportanceWeightedRejectsBadArguments(t *testing.T) {
	torchrt.Lock()
	mu, _ := tensors.FromFloat32([]float32{0, 0}, 1, 2)
	lv, _ := tensors.FromFloat32([]float32{0, 0, 0}, 1, 3)
	ll := func(z *ts.Tensor, c int64) (*ts.Tensor, error) {
		return z.SumDimIntlist([]int64{1}, false, gotch.Float, false)
	}
	if _, _, err := ImportanceWeighted(mu, mu, 0, 1, ll); err == nil {
		t.Error("k=0 accepted")
	}
	if _, _, err := ImportanceWeighted(mu, lv, 5, 5, ll); err == nil {
		t.Error("logvar of another shape accepted")
	}
	short := func(z *ts.Tensor, c int64) (*ts.Tensor, error) { return ts.Zeros([]int64{1}, gotch.Float, gotch.CPU) }
	if _, _, err := ImportanceWeighted(mu, mu, 5, 5, short); err == nil {
		t.Error("a log-likelihood of the wrong length accepted")
	}
}
