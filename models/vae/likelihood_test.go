package vae

import (
	"math"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"torchlab/torch/reference"
	"torchlab/torch/tensors"
	"torchlab/torch/torchrt"
)

// TestLogisticMatchesPyTorch compares the discretised logistic's
// log-likelihood and its gradient with the reference's float64 computation
// straight from the logistic's CDF, on images that hold both edge values
// and scales from the floor (-7) to wide.
func TestLogisticMatchesPyTorch(t *testing.T) {
	torchrt.Lock()
	torchrt.ManualSeed(11)
	const n, c, s = 3, 3, 5
	loc := ts.MustRand([]int64{n, c, s, s}, gotch.Float, gotch.CPU)
	loc = must(tensors.AddScalar(must(tensors.MulScalar(loc, 2.4, true)), -1.2, true)) // [-1.2, 1.2]
	logS := ts.MustRand([]int64{n, c, s, s}, gotch.Float, gotch.CPU)
	// Log-scales in [-5, 1]: the reference's float64 CDF difference stays
	// exact there (TestLogisticScaleFloor covers the floor at -7).
	logS = must(tensors.AddScalar(must(tensors.MulScalar(logS, 6, true)), -5, true))
	params := must(ts.Cat([]*ts.Tensor{loc, logS}, 1))
	params = must(params.SetRequiresGrad(true, true))
	v := make([]float32, n*c*s*s)
	for i := range v {
		v[i] = float32((i*37)%256) / 255 // every value from 0 to 255 turns up, the edges included
	}
	x := must(tensors.FromFloat32(v, n, c, s, s))
	logp, err := Logistic.LogProb(params, x)
	if err != nil {
		t.Fatal(err)
	}
	sum := must(logp.Sum(gotch.Float, false))
	if err := sum.Backward(); err != nil {
		t.Fatal(err)
	}
	in, err := tensors.ToArrays(map[string]*ts.Tensor{"params": params, "x": x})
	if err != nil {
		t.Fatal(err)
	}
	want := reference.Run(t, "vae_galaxy.py", in, "logistic")
	// Each image's log-likelihood sums 75 terms of up to ~10 nats in
	// float32: compare to 1e-5 of its size. A wrong bin width (1/127.5 for
	// 2/255) or a flipped location moves it by whole nats.
	wl := want["logp"].Floats()
	tol := 0.0
	for _, w := range wl {
		tol = max(tol, 1e-5*math.Abs(w))
	}
	reference.AssertClose(t, "logistic log p", floats(t, logp), wl, tol)
	// Gradients are O(1) per element (O(100) at the floor's scales).
	reference.AssertClose(t, "logistic d log p / d params", floats(t, params.MustGrad(false)), want["grad"].Floats(), 2e-3)
}

// TestLogisticBinsSumToOne puts every one of the 256 values of one pixel
// through the likelihood under the same location and scale: the
// probabilities must add up to one, for sharp and wide logistics and for
// locations inside and outside the image's range.
func TestLogisticBinsSumToOne(t *testing.T) {
	torchrt.Lock()
	for _, loc := range []float32{-1.3, -1, -0.37, 0, 0.6, 1, 1.25} {
		for _, logS := range []float32{-7, -4.5, -2, 0, 1.5} {
			params := make([]float32, 256*2)
			x := make([]float32, 256)
			for v := range 256 {
				params[2*v], params[2*v+1] = loc, logS
				x[v] = float32(v) / 255
			}
			pt := must(tensors.FromFloat32(params, 256, 2, 1, 1))
			xt := must(tensors.FromFloat32(x, 256, 1, 1, 1))
			lp, err := Logistic.LogProb(pt, xt)
			if err != nil {
				t.Fatal(err)
			}
			vals := floats(t, lp)
			total := 0.0
			for _, l := range vals {
				total += math.Exp(l)
			}
			if !(math.Abs(total-1) <= 1e-5) {
				t.Errorf("loc %v, log-scale %v: the 256 probabilities sum to %.8f, want 1 within 1e-5", loc, logS, total)
			}
		}
	}
}

// TestLogisticScaleFloor: log-scales below -7 count as -7 and get no
// gradient (as PixelCNN++'s floor), so a sharp decoder cannot buy
// unbounded likelihood.
func TestLogisticScaleFloor(t *testing.T) {
	torchrt.Lock()
	lp := func(logS float32) (float64, float64) {
		params := must(must(tensors.FromFloat32([]float32{0.1, logS}, 1, 2, 1, 1)).SetRequiresGrad(true, true))
		x := must(tensors.FromFloat32([]float32{140.0 / 255}, 1, 1, 1, 1))
		out, err := Logistic.LogProb(params, x)
		if err != nil {
			t.Fatal(err)
		}
		if err := must(out.Sum(gotch.Float, false)).Backward(); err != nil {
			t.Fatal(err)
		}
		return floats(t, out)[0], floats(t, params.MustGrad(false))[1]
	}
	at7, _ := lp(-7)
	at9, grad9 := lp(-9)
	if at7 != at9 || grad9 != 0 {
		t.Errorf("log-scale -9: log p %v (want %v, as at -7) and gradient %v (want 0)", at9, at7, grad9)
	}
	if at6, _ := lp(-6); at6 == at7 {
		t.Errorf("log-scale -6 gives the same log p as -7 (%v): the floor is too high", at6)
	}
}

// TestLogisticShapeMismatch: parameters that do not have 2C channels for C
// image channels are an error naming both shapes, not a crash.
func TestLogisticShapeMismatch(t *testing.T) {
	torchrt.Lock()
	params := ts.MustZeros([]int64{2, 3, 4, 4}, gotch.Float, gotch.CPU)
	x := ts.MustZeros([]int64{2, 3, 4, 4}, gotch.Float, gotch.CPU)
	if _, err := Logistic.LogProb(params, x); err == nil {
		t.Fatal("3 parameter channels for 3 image channels: want an error")
	}
}

// TestIWAEConvergesToExactLikelihood scores a model whose log p(x) is known:
// z ~ N(0, 1) in one dimension, one pixel whose logistic has location
// 0.6 z and log-scale -2. log p(x) = log E_z P(x|z) is computed by
// quadrature in float64; with q(z|x) = the prior, the importance-weighted
// bound must approach it from below as k grows (Burda et al. 2016).
func TestIWAEConvergesToExactLikelihood(t *testing.T) {
	torchrt.Lock()
	torchrt.ManualSeed(21)
	var values []int // each value four times: the bound's noise averages down
	for range 4 {
		values = append(values, 0, 40, 128, 200, 255)
	}
	const logS, slope = -2.0, 0.6
	exact := make([]float64, len(values))
	for i, v := range values {
		exact[i] = exactLogP(v, slope, logS)
	}
	n := int64(len(values))
	xs := make([]float32, n)
	for i, v := range values {
		xs[i] = float32(v) / 255
	}
	x := must(tensors.FromFloat32(xs, n, 1, 1, 1))
	logLik := func(z *ts.Tensor, c int64) (*ts.Tensor, error) {
		loc := must(tensors.MulScalar(z, slope, false)).MustReshape([]int64{-1, 1, 1, 1}, true)
		ls := must(ts.Full([]int64{n * c, 1, 1, 1}, ts.FloatScalar(logS), gotch.Float, gotch.CPU))
		params := must(ts.Cat([]*ts.Tensor{loc, ls}, 1))
		xr := must(x.RepeatInterleaveSelfInt(c, []int64{0}, nil, false))
		return Logistic.LogProb(params, xr)
	}
	mu := ts.MustZeros([]int64{n, 1}, gotch.Float, gotch.CPU)
	logvar := ts.MustZeros([]int64{n, 1}, gotch.Float, gotch.CPU)
	gap := func(k int64) float64 {
		var g float64
		err := torchrt.NoGrad(func() error {
			bound, _, err := ImportanceWeighted(mu, logvar, k, 500, logLik)
			if err != nil {
				return err
			}
			for i, b := range floats(t, bound) {
				g += exact[i] - b
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return g / float64(n)
	}
	g1, g100, g5000 := gap(1), gap(100), gap(5000)
	t.Logf("mean gap log p(x) - bound: k=1 %.4f, k=100 %.4f, k=5000 %.4f nats", g1, g100, g5000)
	// The ELBO (k=1) is nats below log p(x); the bound's bias falls like
	// 1/k and its noise, averaged over 20 images, to a few thousandths of
	// a nat at k=5000. A bound above log p(x) by more than its noise, or a
	// log-likelihood off by one bin's width (log 2 nats), fails.
	if !(g1 > 1) {
		t.Errorf("k=1: the ELBO is only %.4f nats below the exact log p(x), want > 1 for this prior-as-posterior", g1)
	}
	if !(math.Abs(g100) < 0.1*g1) {
		t.Errorf("k=100: gap %.4f, want under a tenth of the ELBO's %.4f", g100, g1)
	}
	if !(math.Abs(g5000) < 0.01) {
		t.Errorf("k=5000: bound is %.4f nats from the exact log p(x), want within 0.01", g5000)
	}
}

// exactLogP is log of the integral over z ~ N(0, 1) of the probability of
// the 8-bit value v under a logistic with location slope*z and log-scale
// logS, on the [-1, 1] scale, by the trapezoidal rule on [-9, 9].
func exactLogP(v int, slope, logS float64) float64 {
	s := math.Exp(logS)
	cdf := func(e float64) float64 { return 1 / (1 + math.Exp(-e/s)) }
	xs := float64(v)/127.5 - 1
	const h = 1e-3
	total := 0.0
	for z := -9.0; z <= 9; z += h {
		loc := slope * z
		up, lo := 1.0, 0.0
		if v < 255 {
			up = cdf(xs + 1.0/255 - loc)
		}
		if v > 0 {
			lo = cdf(xs - 1.0/255 - loc)
		}
		total += h * math.Exp(-z*z/2) / math.Sqrt(2*math.Pi) * (up - lo)
	}
	return math.Log(total)
}

func must(x *ts.Tensor, err error) *ts.Tensor {
	if err != nil {
		panic(err)
	}
	return x
}
