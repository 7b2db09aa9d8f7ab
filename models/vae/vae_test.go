package vae

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/torch/fused"
	"torchlab/torch/npz"
	"torchlab/torch/optim"
	"torchlab/torch/reference"
	"torchlab/torch/tensors"
	"torchlab/torch/torchrt"
)

// scalarOf reads the value of an op returning (tensor, error):
// scalarOf(t)(KLDivergence(mu, logvar)).
func scalarOf(t *testing.T) func(*ts.Tensor, error) float64 {
	return func(x *ts.Tensor, err error) float64 {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return scalar(t, x)
	}
}

func scalar(t *testing.T, x *ts.Tensor) float64 {
	t.Helper()
	v, err := tensors.Scalar(x)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func floats(t *testing.T, x *ts.Tensor) []float64 {
	t.Helper()
	a, err := tensors.ToArray(x)
	if err != nil {
		t.Fatal(err)
	}
	return a.Floats()
}

// TestKLMatchesMonteCarlo compares the closed form with a Monte Carlo
// estimate of E_q[log q(z) - log p(z)] from many samples of q.
func TestKLMatchesMonteCarlo(t *testing.T) {
	torchrt.Lock()
	torchrt.ManualSeed(11)
	mu, _ := tensors.FromFloat32([]float32{0, 0.5, -1.2, 2, 0.3, 0, -0.7, 1.1}, 2, 4)
	logvar, _ := tensors.FromFloat32([]float32{0, -1, 0.7, -2.5, 0.4, -0.3, 1.2, -0.8}, 2, 4)
	closed := scalarOf(t)(KLDivergence(mu, logvar))

	const samples = 200000
	var est float64
	for i := range int64(2) {
		est += monteCarloKL(t, mu.MustSelect(0, i, false), logvar.MustSelect(0, i, false), samples)
	}
	est /= 2
	rel := math.Abs(est-closed) / closed
	t.Logf("KL closed form %.5f, Monte Carlo (%d samples) %.5f, rel diff %.4f", closed, samples, est, rel)
	if rel > 0.02 {
		t.Errorf("closed-form KL %.5f differs from Monte Carlo %.5f by %.1f%%", closed, est, 100*rel)
	}
	// Sanity: zero exactly at the prior, positive elsewhere.
	zero := ts.MustZeros([]int64{3, 5}, gotch.Float, gotch.CPU)
	if v := scalarOf(t)(KLDivergence(zero, zero)); math.Abs(v) > 1e-7 {
		t.Errorf("KL(N(0,1)||N(0,1)) = %g, want 0", v)
	}
}

// monteCarloKL estimates KL(N(m, exp(lv)) || N(0, 1)) from samples draws,
// writing log q(z) - log p(z) = -0.5*lv - 0.5*eps^2 + 0.5*z^2 per dimension
// (the log 2pi terms cancel) from the samples themselves. Every tensor is
// named and dropped at the end: gotch frees a tensor in a finalizer, and one
// whose last use is as an argument of a libtorch call could be freed while
// libtorch still reads it (this test once read +Inf that way). It frees m
// and lv.
func monteCarloKL(t *testing.T, m, lv *ts.Tensor, samples int64) float64 {
	t.Helper()
	must := func(x *ts.Tensor, err error) *ts.Tensor {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	halfLV := must(tensors.MulScalar(lv, 0.5, false))
	std := must(halfLV.Exp(false))
	eps := must(ts.Randn([]int64{samples, int64(lv.MustSize()[0])}, gotch.Float, gotch.CPU))
	z := must(must(eps.Mul(std, false)).Add(m, true))
	lq := must(must(tensors.MulScalar(must(eps.Square(false)), -0.5, true)).Sub(halfLV, true))
	lp := must(tensors.MulScalar(must(z.Square(false)), -0.5, true))
	sum := must(must(lq.Sub(lp, false)).Sum(gotch.Double, true))
	est := scalar(t, sum) / float64(samples)
	for _, x := range []*ts.Tensor{m, lv, halfLV, std, eps, z, lq, lp, sum} {
		x.MustDrop()
	}
	return est
}

func TestFreeBits(t *testing.T) {
	torchrt.Lock()
	mu, _ := tensors.FromFloat32([]float32{0.1, 2, 0.1, 2}, 2, 2)
	lv := ts.MustZeros([]int64{2, 2}, gotch.Float, gotch.CPU)
	// Per dimension: 0.5*0.01 = 0.005 and 0.5*4 = 2.
	got := scalarOf(t)(KLFreeBits(mu, lv, 0.5))
	if math.Abs(got-2.5) > 1e-6 {
		t.Errorf("free bits 0.5: got %g, want 0.5 + 2 = 2.5", got)
	}
	if plain := scalarOf(t)(KLFreeBits(mu, lv, 0)); math.Abs(plain-2.005) > 1e-6 {
		t.Errorf("free bits 0: got %g, want 2.005", plain)
	}
}

func TestBernoulliNLLMatchesPyTorch(t *testing.T) {
	torchrt.Lock()
	torchrt.ManualSeed(5)
	logits, err := tensors.MulScalar(ts.MustRandn([]int64{4, 3, 6, 6}, gotch.Float, gotch.CPU), 3, true)
	if err != nil {
		t.Fatal(err)
	}
	x := ts.MustRand([]int64{4, 3, 6, 6}, gotch.Float, gotch.CPU)
	nll, err := BernoulliNLL(logits, x)
	if err != nil {
		t.Fatal(err)
	}
	in, err := tensors.ToArrays(map[string]*ts.Tensor{"logits": logits, "x": x})
	if err != nil {
		t.Fatal(err)
	}
	want := reference.Run(t, "vae_galaxy.py", in, "bce")
	reference.AssertClose(t, "bernoulli nll", floats(t, nll), want["nll"].Floats(), 1e-3)
	if _, err := BernoulliNLL(logits, x.MustView([]int64{4, -1}, false)); err == nil {
		t.Error("BernoulliNLL with mismatched shapes: want an error")
	}
}

func TestShapes(t *testing.T) {
	torchrt.Lock()
	for _, tc := range []struct {
		arch        string
		size        int64
		conditional bool
	}{
		{"mlp", 64, false}, {"mlp", 32, true}, {"mlp", 28, false},
		{"conv", 64, false}, {"conv", 32, true}, {"conv", 128, false},
		{"resnet", 64, false}, {"resnet", 32, true},
	} {
		t.Run(fmt.Sprintf("%s-%d-cond%v", tc.arch, tc.size, tc.conditional), func(t *testing.T) {
			torchrt.Lock() // t.Run starts a new goroutine
			vs := nn.NewVarStore(gotch.CPU)
			m, err := New(vs.Root(), Config{Arch: tc.arch, ZDim: 8, ImageSize: tc.size, Conditional: tc.conditional, NumClasses: 7})
			if err != nil {
				t.Fatal(err)
			}
			x := ts.MustRand([]int64{3, 3, tc.size, tc.size}, gotch.Float, gotch.CPU)
			var cond *ts.Tensor
			if tc.conditional {
				if cond, err = OneHot([]int64{0, 6, 3}, 7); err != nil {
					t.Fatal(err)
				}
			}
			for _, train := range []bool{true, false} {
				logits, mu, logvar, err := m.forwardClass(x, cond, nil, train)
				if err != nil {
					t.Fatal(err)
				}
				if got := fmt.Sprint(logits.MustSize()); got != fmt.Sprint([]int64{3, 3, tc.size, tc.size}) {
					t.Errorf("logits shape %s", got)
				}
				for _, v := range []*ts.Tensor{mu, logvar} {
					if got := fmt.Sprint(v.MustSize()); got != "[3 8]" {
						t.Errorf("latent shape %s, want [3 8]", got)
					}
				}
			}
			if tc.conditional {
				if _, _, _, err := m.forwardClass(x, nil, nil, true); err == nil {
					t.Error("conditional model without a class: want an error")
				}
			}
		})
	}
	if _, err := New(nn.NewVarStore(gotch.CPU).Root(), Config{Arch: "conv", ImageSize: 48}); err == nil {
		t.Error("conv with image size 48: want an error")
	}
	if _, err := New(nn.NewVarStore(gotch.CPU).Root(), Config{Arch: "vgg"}); err == nil {
		t.Error("unknown arch: want an error")
	}
}

// TestParity gives PyTorch the same weights, input and noise and compares
// reconstruction, mean, log-variance, KL, NLL and loss, in training and
// eval mode, for every architecture (and the conditional conv).
func TestParity(t *testing.T) {
	torchrt.Lock()
	cases := []struct {
		arch        string
		conditional bool
		likelihood  Likelihood
	}{{"mlp", false, Bernoulli}, {"conv", false, Bernoulli}, {"conv", true, Bernoulli}, {"resnet", false, Bernoulli},
		{"mlp", false, Logistic}, {"resnet", false, Logistic}}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/conditional=%v/%s", c.arch, c.conditional, c.likelihood), func(t *testing.T) {
			torchrt.Lock() // t.Run starts a new goroutine
			torchrt.ManualSeed(3)
			m, named := newForParity(t, Config{Arch: c.arch, ZDim: 16, ImageSize: 64, Conditional: c.conditional, NumClasses: 7,
				Likelihood: c.likelihood})
			x := ts.MustRand([]int64{4, 3, 64, 64}, gotch.Float, gotch.CPU)
			eps := ts.MustRandn([]int64{4, 16}, gotch.Float, gotch.CPU)
			in, err := tensors.ToArrays(named)
			if err != nil {
				t.Fatal(err)
			}
			inputs := map[string]*ts.Tensor{"x": x, "eps": eps}
			var cond *ts.Tensor
			if c.conditional {
				cond, _ = OneHot([]int64{1, 4, 0, 6}, 7)
				inputs["cond"] = cond
			}
			extra, err := tensors.ToArrays(inputs)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range extra {
				in[k] = v
			}
			want := reference.Run(t, "vae_galaxy.py", in, "forward", "--arch", c.arch, "--z-dim", "16", "--beta", "1.5",
				"--likelihood", string(c.likelihood))
			toldKLSign := false
			err = torchrt.NoGrad(func() error {
				for _, mode := range []string{"train", "eval"} {
					logits, mu, logvar, err := m.forwardClass(x, cond, eps, mode == "train")
					if err != nil {
						return err
					}
					loss, nll, kl, err := m.Loss(Output{Logits: logits, Mu: mu, Logvar: logvar}, x, 1.5, 0)
					if err != nil {
						return err
					}
					got := map[string]*ts.Tensor{"logits": logits, "mu": mu, "logvar": logvar, "kl": kl, "nll": nll, "loss": loss}
					for name, g := range got {
						w := want[mode+"_"+name]
						// The loss sums 12288 BCE terms per image (values ~8500),
						// so its float32 rounding is ~1e-3 absolute; compare it
						// relatively there.
						tol := 1e-4
						if name == "nll" || name == "loss" {
							tol = 1e-4 * math.Abs(w.Floats()[0])
						}
						reference.AssertClose(t, mode+" "+name, floats(t, g), w.Floats(), tol)
					}
					if checkLossParts(t, mode, floats(t, loss)[0], floats(t, nll)[0], 1.5*want[mode+"_kl"].Floats()[0]) {
						toldKLSign = true
					}
				}
				return nil
			})
			if !toldKLSign {
				t.Error("in neither mode is beta*KL large enough beside its tolerance to tell its sign")
			}
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// checkLossParts compares the KL part of the loss, loss - nll, with
// PyTorch's beta*KL (betaKL) on the KL part's own scale. The loss's own
// tolerance, relative to a loss of thousands of nats, is wider than the KL
// of a freshly initialised model, so a KL added with the wrong sign (the
// loss moved by 2*beta*KL) would pass it. The tolerance is the float32
// rounding of loss and nll (2 units in the last place of the loss) plus
// 1e-4 of the part. It reports whether a flipped sign would exceed the
// tolerance tenfold (in eval mode an untrained conv or resnet encoder's KL
// can be too small to tell).
func checkLossParts(t *testing.T, mode string, loss, nll, betaKL float64) bool {
	t.Helper()
	part := loss - nll
	ulp := float64(math.Nextafter32(float32(math.Abs(loss)), float32(math.Inf(1))) - float32(math.Abs(loss)))
	tol := 2*ulp + 1e-4*math.Abs(betaKL)
	t.Logf("%s loss - nll %.6g, PyTorch's beta*KL %.6g (tolerance %.2g)", mode, part, betaKL, tol)
	if d := math.Abs(part - betaKL); !(d <= tol) {
		t.Errorf("%s: loss - nll = %v, PyTorch's beta*KL = %v: differ by %.3g > %.2g", mode, part, betaKL, d, tol)
	}
	return 2*math.Abs(betaKL) > 10*tol
}

// TestStepsMatchPyTorch trains each architecture for 20 steps from the
// same weights on the same batches and noise as PyTorch and compares the
// losses. Four batches come round five times, so the later losses are on
// batches the model has learnt from.
//
// Float rounding differs a little (the transposed convolutions run as
// convolution + pixel shuffle here), and training can amplify it: Adam
// divides each gradient by its own running size, so rounding in near-zero
// gradients becomes lr-sized steps, and the resnet's BatchNorm over 8
// values at 1x1 pixels amplifies it under any optimiser. So conv and resnet
// train with SGD, and the tolerance at each step is measured, not guessed:
// the reference also trains from weights changed by 1e-7 of themselves
// (rounding-sized), and Go must stay within 1e-5 relative plus 10 times
// how far that perturbed PyTorch run has moved from the unperturbed one by
// the same step. An error in the model or the step shows from the first
// steps, while the perturbation's spread is still ~1e-7.
func TestStepsMatchPyTorch(t *testing.T) {
	torchrt.Lock()
	const steps, distinct, zdim = 20, 4, 8
	cases := []struct {
		arch, opt    string
		lr, momentum float64
		n, side      int64
		likelihood   Likelihood
	}{{"mlp", "adam", 1e-3, 0, 4, 32, Bernoulli}, {"mlp", "sgd", 1e-4, 0.9, 4, 32, Bernoulli}, {"conv", "sgd", 1e-4, 0.9, 4, 32, Bernoulli},
		{"resnet", "sgd", 1e-5, 0.9, 8, 32, Bernoulli},
		// The discretised logistic's loss is ~8x the Bernoulli's on these
		// images, with larger gradients: SGD takes a 10x smaller rate.
		{"mlp", "adam", 1e-3, 0, 4, 32, Logistic}, {"conv", "sgd", 1e-5, 0.9, 4, 32, Logistic}}
	for _, c := range cases {
		t.Run(c.arch+"/"+c.opt+"/"+string(c.likelihood), func(t *testing.T) {
			torchrt.Lock() // t.Run starts a new goroutine
			torchrt.ManualSeed(5)
			n, side := c.n, c.side
			m, named := newForParity(t, Config{Arch: c.arch, ZDim: zdim, ImageSize: side, Likelihood: c.likelihood})
			in, err := tensors.ToArrays(named)
			if err != nil {
				t.Fatal(err)
			}
			x := ts.MustRand([]int64{distinct, n, 3, side, side}, gotch.Float, gotch.CPU)
			if c.likelihood == Logistic { // 8-bit pixel values, as the likelihood is of
				x = x.MustMulScalar(ts.FloatScalar(255), true).MustRound(true).MustDivScalar(ts.FloatScalar(255), true)
			}
			eps := ts.MustRandn([]int64{distinct, n, zdim}, gotch.Float, gotch.CPU)
			xs := x.MustRepeat([]int64{steps / distinct, 1, 1, 1, 1}, false)
			epss := eps.MustRepeat([]int64{steps / distinct, 1, 1}, false)
			batches, err := tensors.ToArrays(map[string]*ts.Tensor{"xs": xs, "eps": epss})
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range batches {
				in[k] = v
			}
			ref := reference.Run(t, "vae_galaxy.py", in, "steps", "--arch", c.arch, "--z-dim", fmt.Sprint(zdim),
				"--image-size", fmt.Sprint(side), "--optimizer", c.opt, "--lr", fmt.Sprint(c.lr),
				"--momentum", fmt.Sprint(c.momentum), "--perturb", "1e-7", "--likelihood", string(c.likelihood))
			opt, err := optim.New(optim.Config{Name: c.opt, LR: c.lr, Momentum: c.momentum}, named)
			if err != nil {
				t.Fatal(err)
			}
			checkSteps(t, ref, distinct, func(i int64) float64 {
				return trainStep(t, m, opt, xs.MustSelect(0, i, false), epss.MustSelect(0, i, false), 0)
			})
		})
	}
}

// checkSteps compares the loss of each Go training step (step(i), before
// its update) with the reference's "losses": within 1e-5 relative plus 10
// times how far the reference trained from perturbed weights
// ("losses_perturbed") has drifted by that step. The batches repeat every
// distinct steps, and the reference's loss on the first batch must have
// fallen, or the comparison says little.
func checkSteps(t *testing.T, ref map[string]npz.Array, distinct int, step func(i int64) float64) {
	t.Helper()
	want, spread := ref["losses"].Floats(), ref["losses_perturbed"].Floats()
	if len(want) == 0 || len(spread) != len(want) {
		t.Fatalf("reference: %d losses and %d perturbed losses", len(want), len(spread))
	}
	for i := range want {
		got := step(int64(i))
		rel := math.Abs(got-want[i]) / math.Abs(want[i])
		tol := 1e-5 + 10*math.Abs(spread[i]-want[i])/math.Abs(want[i])
		t.Logf("step %2d: loss Go %.4f PyTorch %.4f rel diff %.2g (tolerance %.2g)", i, got, want[i], rel, tol)
		if !(rel <= tol) {
			t.Errorf("step %d: loss %v, PyTorch %v (relative difference %.3g > %.3g)", i, got, want[i], rel, tol)
		}
	}
	if last := want[len(want)-distinct]; !(last < want[0]-1) {
		t.Errorf("the reference's loss on the first batch did not fall (%v -> %v): the comparison says little", want[0], last)
	}
}

// TestChannelsLastStepsMatchContiguous trains the same weights on the same
// batches with the convolution weights laid out contiguously and
// channels-last (fused.SetChannelsLastAll, what vae-galaxy train
// --channels-last does): the layout is for speed, so the losses must agree
// as closely as those of a copy whose weights were perturbed by 1e-6
// (relative) agree with the original, the drift float rounding alone makes.
// The yardstick at step i is that copy's largest drift up to step i: the
// drift of one perturbation dips by chance (a ReLU that happens not to
// flip), which made a step-by-step yardstick flaky.
func TestChannelsLastStepsMatchContiguous(t *testing.T) {
	torchrt.Lock()
	const steps, zdim, perturbation = 12, 8, 1e-6
	for _, c := range []struct {
		arch string
		lr   float64
		n    int64
	}{{"conv", 1e-4, 4}, {"resnet", 1e-5, 8}} {
		t.Run(c.arch, func(t *testing.T) {
			torchrt.Lock() // t.Run starts a new goroutine
			torchrt.ManualSeed(5)
			cfg := Config{Arch: c.arch, ZDim: zdim, ImageSize: 32}
			var losses [3][]float64 // contiguous, channels-last, perturbed
			var models [3]*VAE
			var opts [3]*optim.Optimizer
			var first map[string]*ts.Tensor
			for k := range models {
				m, named := newForParity(t, cfg)
				switch k {
				case 0:
					first = named
				case 1: // the same values, channels-last below
					if err := copyValues(named, first, 0); err != nil {
						t.Fatal(err)
					}
				case 2: // the values perturbed by 1e-7, relative
					if err := copyValues(named, first, perturbation); err != nil {
						t.Fatal(err)
					}
				}
				if k == 1 {
					if err := fused.SetChannelsLastAll(named, true); err != nil {
						t.Fatal(err)
					}
				}
				opt, err := optim.New(optim.Config{Name: "sgd", LR: c.lr, Momentum: 0.9}, named)
				if err != nil {
					t.Fatal(err)
				}
				models[k], opts[k] = m, opt
			}
			for range steps {
				x := ts.MustRand([]int64{c.n, 3, 32, 32}, gotch.Float, gotch.CPU)
				eps := ts.MustRandn([]int64{c.n, zdim}, gotch.Float, gotch.CPU)
				for k := range models {
					losses[k] = append(losses[k], trainStep(t, models[k], opts[k], x.MustShallowClone(), eps.MustShallowClone(), 0))
				}
				x.MustDrop()
				eps.MustDrop()
			}
			drift := 0.0 // the perturbed copy's largest relative drift so far
			for i := range losses[0] {
				want := losses[0][i]
				rel := math.Abs(losses[1][i]-want) / want
				drift = max(drift, math.Abs(losses[2][i]-want)/want)
				tol := 1e-5 + 10*drift
				t.Logf("step %2d: loss contiguous %.4f channels-last %.4f rel diff %.2g (tolerance %.2g)", i, want, losses[1][i], rel, tol)
				if !(rel <= tol) {
					t.Errorf("step %d: loss %v channels-last, %v contiguous (relative difference %.3g > %.3g)", i, losses[1][i], want, rel, tol)
				}
			}
		})
	}
}

// copyValues sets each tensor of dst to src's values times (1 + noise*N(0,1)).
func copyValues(dst, src map[string]*ts.Tensor, noise float64) error {
	return torchrt.NoGrad(func() error {
		names := slices.Sorted(maps.Keys(dst)) // the noise is drawn in a fixed order
		for _, name := range names {
			d := dst[name]
			s, ok := src[name]
			if !ok {
				return fmt.Errorf("no %s to copy", name)
			}
			if noise == 0 || s.DType() != gotch.Float {
				d.Copy_(s)
				continue
			}
			r := s.MustRandnLike(false)
			factor, err := tensors.MulScalar(r, noise, true)
			if err != nil {
				return err
			}
			if factor, err = tensors.AddScalar(factor, 1, true); err != nil {
				return err
			}
			v := s.MustMul(factor, false)
			factor.MustDrop()
			d.Copy_(v)
			v.MustDrop()
		}
		return nil
	})
}

// newForParity builds a model of cfg with its variables by name.
func newForParity(t *testing.T, cfg Config) (*VAE, map[string]*ts.Tensor) {
	t.Helper()
	vs := nn.NewVarStore(gotch.CPU)
	m, err := New(vs.Root(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	named, err := tensors.Named(vs)
	if err != nil {
		t.Fatal(err)
	}
	return m, named
}

// trainStep is one training step on batch x with noise eps and free bits
// freeBits (0: none); it returns the loss before the update and frees x and
// eps.
func trainStep(t *testing.T, m *VAE, opt *optim.Optimizer, x, eps *ts.Tensor, freeBits float64) float64 {
	t.Helper()
	defer x.MustDrop()
	defer eps.MustDrop()
	if err := opt.ZeroGrad(); err != nil {
		t.Fatal(err)
	}
	out, err := m.ForwardT(Input{X: x, Eps: eps}, true)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Drop()
	loss, nll, kl, err := m.Loss(out, x, 1, freeBits)
	if err != nil {
		t.Fatal(err)
	}
	defer loss.MustDrop()
	defer nll.MustDrop()
	defer kl.MustDrop()
	if err := loss.Backward(); err != nil {
		t.Fatal(err)
	}
	if err := opt.Step(); err != nil {
		t.Fatal(err)
	}
	return scalar(t, loss)
}

// TestTrainingLossFalls trains each architecture for a few Adam steps on
// a fixed batch of structured images and expects the loss to drop.
func TestTrainingLossFalls(t *testing.T) {
	torchrt.Lock()
	for _, arch := range Archs {
		t.Run(arch, func(t *testing.T) {
			torchrt.Lock() // t.Run starts a new goroutine
			torchrt.ManualSeed(9)
			vs := nn.NewVarStore(gotch.CPU)
			m, err := New(vs.Root(), Config{Arch: arch, ZDim: 4, ImageSize: 32, Hidden: 64})
			if err != nil {
				t.Fatal(err)
			}
			x := blobs(t, 8, 32)
			named, _ := tensors.Named(vs)
			opt, err := optim.New(optim.Config{Name: "adam", LR: 2e-3}, named)
			if err != nil {
				t.Fatal(err)
			}
			var first, last float64
			for step := range 15 {
				if err := opt.ZeroGrad(); err != nil {
					t.Fatal(err)
				}
				out, err := m.ForwardT(Input{X: x}, true)
				if err != nil {
					t.Fatal(err)
				}
				loss, nll, kl, err := m.Loss(out, x, 1, 0)
				if err != nil {
					t.Fatal(err)
				}
				if err := loss.Backward(); err != nil {
					t.Fatal(err)
				}
				if err := opt.Step(); err != nil {
					t.Fatal(err)
				}
				v := scalar(t, loss)
				if step == 0 {
					first = v
				}
				last = v
				out.Drop()
				for _, x := range []*ts.Tensor{loss, nll, kl} {
					x.MustDrop()
				}
			}
			t.Logf("%s: loss %.1f -> %.1f", arch, first, last)
			if !(last < 0.9*first) {
				t.Errorf("%s: loss %.1f -> %.1f after 15 steps, want a drop of at least 10%%", arch, first, last)
			}
		})
	}
}

// blobs makes n RGB images of one bright Gaussian blob each, at different
// places, as a stand-in for galaxies.
func blobs(t *testing.T, n, size int) *ts.Tensor {
	t.Helper()
	v := make([]float32, n*3*size*size)
	for i := range n {
		cx, cy := float64(size)*(0.3+0.4*float64(i%3)/2), float64(size)*(0.3+0.4*float64(i/3%3)/2)
		for c := range 3 {
			for y := range size {
				for x := range size {
					d2 := (float64(x)-cx)*(float64(x)-cx) + (float64(y)-cy)*(float64(y)-cy)
					v[((i*3+c)*size+y)*size+x] = float32(math.Exp(-d2/(2*float64(size)))) * (0.6 + 0.2*float32(c))
				}
			}
		}
	}
	x, err := tensors.FromFloat32(v, int64(n), 3, int64(size), int64(size))
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestFitDiagGaussian(t *testing.T) {
	torchrt.Lock()
	g, err := FitDiagGaussian([]float32{1, 10, 3, 10, 5, 10}, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	if g.Mean[0] != 3 || g.Mean[1] != 10 || g.Std[0] != 2 || g.Std[1] != 0 {
		t.Errorf("fit = %+v, want mean [3 10] std [2 0]", g)
	}
	torchrt.ManualSeed(1)
	z, err := g.Sample(20000)
	if err != nil {
		t.Fatal(err)
	}
	v := floats(t, z)
	var m0, s0 float64
	for i := 0; i < len(v); i += 2 {
		m0 += v[i]
		if v[i+1] != 10 {
			t.Fatalf("dimension with std 0 sampled %v, want 10", v[i+1])
		}
	}
	m0 /= 20000
	for i := 0; i < len(v); i += 2 {
		s0 += (v[i] - m0) * (v[i] - m0)
	}
	s0 = math.Sqrt(s0 / 20000)
	if math.Abs(m0-3) > 0.05 || math.Abs(s0-2) > 0.05 {
		t.Errorf("samples have mean %.3f std %.3f, want 3 and 2", m0, s0)
	}
	if _, err := FitDiagGaussian([]float32{1, 2}, 1, 2); err == nil {
		t.Error("fit of one vector: want an error")
	}
	if _, err := OneHot([]int64{7}, 7); err == nil {
		t.Error("one-hot of class 7 of 7: want an error")
	}
}

// TestWrongInputShape checks that images or latents of a shape the model
// cannot take are an error naming the shape wanted, for every architecture.
func TestWrongInputShape(t *testing.T) {
	torchrt.Lock()
	for _, arch := range Archs {
		t.Run(arch, func(t *testing.T) {
			vs := nn.NewVarStore(gotch.CPU)
			m, err := New(vs.Root(), Config{Arch: arch, ZDim: 4, ImageSize: 32, Hidden: 16})
			if err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct {
				shape []int64
				want  string
			}{
				{[]int64{2, 3, 64, 64}, "vae " + arch + ": input [2 3 64 64], want [N 3 32 32]"},
				{[]int64{2, 1, 32, 32}, "vae " + arch + ": input [2 1 32 32], want [N 3 32 32]"},
				{[]int64{2, 3072}, "vae " + arch + ": input [2 3072], want [N 3 32 32]"},
			} {
				x := ts.MustZeros(tc.shape, gotch.Float, gotch.CPU)
				out, err := m.ForwardT(Input{X: x}, false)
				if err == nil {
					out.Drop()
					t.Errorf("ForwardT(%v): no error", tc.shape)
				} else if err.Error() != tc.want {
					t.Errorf("ForwardT(%v): error %q, want %q", tc.shape, err, tc.want)
				}
				if _, _, err := m.Encode(x, nil, false); err == nil || err.Error() != tc.want {
					t.Errorf("Encode(%v): error %v, want %q", tc.shape, err, tc.want)
				}
				x.MustDrop()
			}
			z := ts.MustZeros([]int64{2, 5}, gotch.Float, gotch.CPU)
			defer z.MustDrop()
			want := "vae decode: latent input [2 5], want [N 4]"
			if _, err := m.Decode(z, nil, false); err == nil || err.Error() != want {
				t.Errorf("Decode([2 5]): error %v, want %q", err, want)
			}
		})
	}
}
