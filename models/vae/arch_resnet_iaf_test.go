package vae

import (
	"fmt"
	"maps"
	"math"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/torch/npz"
	"torchlab/torch/optim"
	"torchlab/torch/reference"
	"torchlab/torch/tensors"
	"torchlab/torch/torchrt"
)

// TestHierShapes builds resnet-iaf at 64x64 and 32x32 under both
// likelihoods and checks the output's shapes, that the loss is finite, and
// that free bits floor each of the K groups' batch-mean KL.
func TestHierShapes(t *testing.T) {
	torchrt.Lock()
	for _, tc := range []struct {
		size int64
		lik  Likelihood
	}{{64, Bernoulli}, {32, Logistic}} {
		t.Run(fmt.Sprintf("%d-%s", tc.size, tc.lik), func(t *testing.T) {
			torchrt.Lock() // t.Run starts a new goroutine
			torchrt.ManualSeed(4)
			vs := nn.NewVarStore(gotch.CPU)
			m, err := New(vs.Root(), Config{Arch: "resnet-iaf", ZDim: 8, ImageSize: tc.size, Likelihood: tc.lik})
			if err != nil {
				t.Fatal(err)
			}
			side := tc.size / 8
			if got, want := m.Config.NoiseDim(), 8+4*side*side; got != want {
				t.Errorf("NoiseDim %d, want %d", got, want)
			}
			x := ts.MustRand([]int64{3, 3, tc.size, tc.size}, gotch.Float, gotch.CPU)
			for _, train := range []bool{true, false} {
				out, err := m.ForwardT(Input{X: x}, train)
				if err != nil {
					t.Fatal(err)
				}
				c := 3 * tc.lik.paramsPerChannel()
				for _, s := range []struct {
					name string
					t    *ts.Tensor
					want []int64
				}{{"logits", out.Logits, []int64{3, c, tc.size, tc.size}}, {"mu", out.Mu, []int64{3, 8}},
					{"logvar", out.Logvar, []int64{3, 8}}, {"kl", out.KL, []int64{3, 8 + 4}}} {
					if got := fmt.Sprint(s.t.MustSize()); got != fmt.Sprint(s.want) {
						t.Errorf("train=%v: %s shape %s, want %v", train, s.name, got, s.want)
					}
				}
				loss, nll, kl, err := m.Loss(out, x, 1, 0)
				if err != nil {
					t.Fatal(err)
				}
				l, n, k := scalar(t, loss), scalar(t, nll), scalar(t, kl)
				if math.IsNaN(l) || math.IsInf(l, 0) || math.Abs(l-(n+k)) > 1e-4*math.Abs(l) {
					t.Errorf("train=%v: loss %v, nll %v, kl %v: want finite and loss = nll + kl", train, l, n, k)
				}
				// A floor far above every group's KL: the KL term is K times it.
				floored, _, _, err := m.Loss(out, x, 1, 1000)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := scalar(t, floored)-n, 12*1000.0; math.Abs(got-want) > 1e-3*want {
					t.Errorf("free bits 1000 on 12 groups: loss - nll = %v, want %v", got, want)
				}
				out.Drop()
			}
			eps := ts.MustRandn([]int64{3, m.Config.NoiseDim() + 1}, gotch.Float, gotch.CPU)
			if _, err := m.ForwardT(Input{X: x, Eps: eps}, false); err == nil {
				t.Error("noise of the wrong length: want an error")
			}
			if _, _, err := m.Encode(x, nil, false); err == nil {
				t.Error("Encode of resnet-iaf: want an error (no single Gaussian latent)")
			}
		})
	}
}

// TestHierKLEstimate checks the sample estimate of log q - log p against
// the closed form where one exists: without flow steps, z1's posterior is
// Gaussian and its prior N(0, I), so the estimate averaged over many noise
// draws must approach KLPerDim. Tolerance: 4 standard errors of the mean.
func TestHierKLEstimate(t *testing.T) {
	torchrt.Lock()
	torchrt.ManualSeed(6)
	vs := nn.NewVarStore(gotch.CPU)
	m, err := New(vs.Root(), Config{Arch: "resnet-iaf", ZDim: 4, ImageSize: 32})
	if err != nil {
		t.Fatal(err)
	}
	m.Hier.IAF1.Steps, m.Hier.IAF2.Steps = nil, nil
	// A posterior far from the prior, or the KL is ~0 and says nothing:
	// means and log-variances set by up1's bias.
	bias := make([]float32, 2*4+iafCtx1)
	copy(bias, []float32{1, -0.5, 2, 0.3, -1, 0.5, -2, 0})
	b, err := tensors.FromFloat32(bias, int64(len(bias)))
	if err != nil {
		t.Fatal(err)
	}
	if err := torchrt.NoGrad(func() error { m.Hier.Up1.Bias.Copy_(b); return nil }); err != nil {
		t.Fatal(err)
	}
	const n = 2000
	one := ts.MustRand([]int64{1, 3, 32, 32}, gotch.Float, gotch.CPU)
	x := one.MustRepeat([]int64{n, 1, 1, 1}, false)
	err = torchrt.NoGrad(func() error {
		out, err := m.ForwardT(Input{X: x}, false)
		if err != nil {
			return err
		}
		defer out.Drop()
		closed := floats(t, mustT(t)(KLPerDim(out.Mu, out.Logvar))) // [4], the same image n times
		rows := floats(t, out.KL)                                   // [n, 4+4]
		for j := range 4 {
			var s, s2 float64
			for i := range n {
				v := rows[i*8+j]
				s += v
				s2 += v * v
			}
			mean := s / n
			se := math.Sqrt((s2/n - mean*mean) / n)
			t.Logf("z1[%d]: closed form %.4f, sample estimate %.4f ± %.4f", j, closed[j], mean, se)
			if math.Abs(mean-closed[j]) > 4*se+1e-6 {
				t.Errorf("z1[%d]: sample KL %.4f ± %.4f, closed form %.4f", j, mean, se, closed[j])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func mustT(t *testing.T) func(*ts.Tensor, error) *ts.Tensor {
	return func(x *ts.Tensor, err error) *ts.Tensor {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
}

// TestHierImportanceWeighted scores two images with the hierarchical
// posterior: the bound is at least the mean log-weight (log-mean-exp >=
// mean), and that mean, a 64-sample ELBO, agrees within 4 standard errors
// with minus the loss of 64 separate eval-mode forward passes (the same
// estimator through ForwardT and Loss), and the per-group KLs add up to
// the KL.
func TestHierImportanceWeighted(t *testing.T) {
	torchrt.Lock()
	torchrt.ManualSeed(12)
	vs := nn.NewVarStore(gotch.CPU)
	m, err := New(vs.Root(), Config{Arch: "resnet-iaf", ZDim: 4, ImageSize: 32, Likelihood: Logistic})
	if err != nil {
		t.Fatal(err)
	}
	x := blobs(t, 2, 32)
	const k = 64
	err = torchrt.NoGrad(func() error {
		bound, elbo, err := m.ImportanceWeighted(x, nil, k, 16)
		if err != nil {
			return err
		}
		b, e := floats(t, bound), floats(t, elbo)
		var s, s2 float64
		for range k {
			out, err := m.ForwardT(Input{X: x}, false)
			if err != nil {
				return err
			}
			loss, nll, kl, err := m.Loss(out, x, 1, 0)
			if err != nil {
				return err
			}
			groups, err := m.KLByGroup(out)
			if err != nil {
				return err
			}
			if sum := groups[0] + groups[1]; math.Abs(sum-scalar(t, kl)) > 1e-4*math.Abs(sum)+1e-4 {
				t.Errorf("per-group KL %v sums to %v, KL %v", groups, sum, scalar(t, kl))
			}
			v := -scalar(t, loss)
			s += v
			s2 += v * v
			out.Drop()
			loss.MustDrop()
			nll.MustDrop()
			kl.MustDrop()
		}
		mean := s / k
		se := math.Sqrt((s2/k-mean*mean)/k + 1e-12)
		avg := (e[0] + e[1]) / 2
		t.Logf("bounds %v, ELBOs %v; forward passes: ELBO %.3f ± %.3f", b, e, mean, se)
		for i := range b {
			if !(b[i] >= e[i]) {
				t.Errorf("image %d: bound %v below the mean log-weight %v", i, b[i], e[i])
			}
		}
		// The ELBO of the mean of two images through ImportanceWeighted has
		// its own spread, about se again.
		if math.Abs(avg-mean) > 4*math.Sqrt2*se {
			t.Errorf("64-sample ELBO %.3f, forward passes %.3f ± %.3f", avg, mean, se)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// hierParityInputs are the model's variables by name plus extra tensors, as
// the reference script reads them.
func hierParityInputs(t *testing.T, named map[string]*ts.Tensor, extra map[string]*ts.Tensor) map[string]npz.Array {
	t.Helper()
	in, err := tensors.ToArrays(named)
	if err != nil {
		t.Fatal(err)
	}
	more, err := tensors.ToArrays(extra)
	if err != nil {
		t.Fatal(err)
	}
	maps.Copy(in, more)
	return in
}

// TestHierParity gives PyTorch's resnet-iaf (scripts/reference/
// vae_galaxy.py HierVAE: its own masks, and log q - log p from
// torch.distributions' densities) the same weights, images and noise, in
// training and eval mode, unconditional and conditional (class into up1,
// FiLM on every decoder stage): the decoder output, z1's parameters, the KL
// estimate per example and channel, and KL, NLL and loss (with free bits)
// must agree. Tolerances: 1e-4 absolute on the decoder output and z1's
// parameters (float32 rounding through ~20 layers is ~1e-6 here); 1e-3 on
// the KL rows, which sum 64 pixels' terms of a few nats each; NLL and loss
// 1e-4 relative to their thousands of nats (their float32 sums' rounding),
// and the KL part of the loss, loss - nll, against beta times PyTorch's
// floored KL on its own scale (checkLossParts): free bits move the loss
// by less than the loss's own tolerance.
func TestHierParity(t *testing.T) {
	torchrt.Lock()
	for _, c := range []struct {
		size        int64
		lik         Likelihood
		conditional bool
	}{{64, Bernoulli, false}, {32, Logistic, false}, {32, Logistic, true}} {
		t.Run(fmt.Sprintf("%d/%s/conditional=%v", c.size, c.lik, c.conditional), func(t *testing.T) {
			torchrt.Lock() // t.Run starts a new goroutine
			torchrt.ManualSeed(3)
			m, named := newForParity(t, Config{Arch: "resnet-iaf", ZDim: 8, ImageSize: c.size, Likelihood: c.lik,
				Conditional: c.conditional, NumClasses: 7})
			x := ts.MustRand([]int64{4, 3, c.size, c.size}, gotch.Float, gotch.CPU)
			eps := ts.MustRandn([]int64{4, m.Config.NoiseDim()}, gotch.Float, gotch.CPU)
			inputs := map[string]*ts.Tensor{"x": x, "eps": eps}
			var cond *ts.Tensor
			if c.conditional {
				cond, _ = OneHot([]int64{1, 4, 0, 6}, 7)
				inputs["cond"] = cond
			}
			const beta, freeBits = 1.5, 0.05
			want := reference.Run(t, "vae_galaxy.py", hierParityInputs(t, named, inputs),
				"forward", "--arch", "resnet-iaf", "--z-dim", "8", "--image-size", fmt.Sprint(c.size), "--beta", "1.5",
				"--free-bits", "0.05", "--likelihood", string(c.lik))
			err := torchrt.NoGrad(func() error {
				for _, mode := range []string{"train", "eval"} {
					out, err := m.ForwardT(Input{X: x, Class: cond, Eps: eps}, mode == "train")
					if err != nil {
						return err
					}
					loss, nll, kl, err := m.Loss(out, x, beta, freeBits)
					if err != nil {
						return err
					}
					got := map[string]*ts.Tensor{"logits": out.Logits, "mu": out.Mu, "logvar": out.Logvar, "klrows": out.KL,
						"kl": kl, "nll": nll, "loss": loss}
					for name, g := range got {
						w := want[mode+"_"+name]
						tol := 1e-4
						switch name {
						case "klrows", "kl":
							tol = 1e-3
						case "nll", "loss":
							tol = 1e-4 * math.Abs(w.Floats()[0])
						}
						reference.AssertClose(t, mode+" "+name, floats(t, g), w.Floats(), tol)
					}
					checkLossParts(t, mode, scalar(t, loss), scalar(t, nll), beta*want[mode+"_klterm"].Floats()[0])
					out.Drop()
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestHierStepsMatchPyTorch trains resnet-iaf for 20 steps (four batches
// five times) from the same weights on the same batches and noise as
// PyTorch, with free bits, and compares the losses step by step, with the
// tolerance of TestStepsMatchPyTorch: 1e-5 relative plus 10 times how far
// a PyTorch run from weights perturbed by 1e-7 of themselves has moved by
// the same step. A NaN fails the comparison.
func TestHierStepsMatchPyTorch(t *testing.T) {
	torchrt.Lock()
	torchrt.ManualSeed(5)
	const steps, distinct, n, side, lr, momentum, freeBits = 20, 4, 8, 32, 1e-5, 0.9, 0.05
	m, named := newForParity(t, Config{Arch: "resnet-iaf", ZDim: 8, ImageSize: side})
	x := ts.MustRand([]int64{distinct, n, 3, side, side}, gotch.Float, gotch.CPU)
	eps := ts.MustRandn([]int64{distinct, n, m.Config.NoiseDim()}, gotch.Float, gotch.CPU)
	xs := x.MustRepeat([]int64{steps / distinct, 1, 1, 1, 1}, false)
	epss := eps.MustRepeat([]int64{steps / distinct, 1, 1}, false)
	ref := reference.Run(t, "vae_galaxy.py", hierParityInputs(t, named, map[string]*ts.Tensor{"xs": xs, "eps": epss}),
		"steps", "--arch", "resnet-iaf", "--z-dim", "8", "--image-size", fmt.Sprint(side), "--optimizer", "sgd",
		"--lr", fmt.Sprint(lr), "--momentum", fmt.Sprint(momentum), "--free-bits", fmt.Sprint(freeBits), "--perturb", "1e-7")
	opt, err := optim.New(optim.Config{Name: "sgd", LR: lr, Momentum: momentum}, named)
	if err != nil {
		t.Fatal(err)
	}
	checkSteps(t, ref, distinct, func(i int64) float64 {
		return trainStep(t, m, opt, xs.MustSelect(0, i, false), epss.MustSelect(0, i, false), freeBits)
	})
}

// TestHierSamplePrior draws prior samples of an unconditional and a
// conditional model: the shapes are the decoder output's, a conditional
// model's samples change with the class (FiLM reaches the output) and its
// unknown class is the all-zero vector, and the other archs refuse.
func TestHierSamplePrior(t *testing.T) {
	torchrt.Lock()
	for _, conditional := range []bool{false, true} {
		torchrt.ManualSeed(13)
		vs := nn.NewVarStore(gotch.CPU)
		m, err := New(vs.Root(), Config{Arch: "resnet-iaf", ZDim: 4, ImageSize: 32, Conditional: conditional, NumClasses: 7})
		if err != nil {
			t.Fatal(err)
		}
		err = torchrt.NoGrad(func() error {
			var a, b *ts.Tensor
			if conditional {
				a, _ = OneHot([]int64{0, 0, 0}, 7)
				b, _ = OneHot([]int64{5, 5, 5}, 7)
				if _, err := m.SamplePrior(3, mustT(t)(OneHot([]int64{1, 2}, 7))); err == nil {
					t.Error("2 classes for 3 samples: want an error")
				}
			}
			torchrt.ManualSeed(1)
			sa, err := m.SamplePrior(3, a)
			if err != nil {
				return err
			}
			if got := fmt.Sprint(sa.MustSize()); got != "[3 3 32 32]" {
				t.Errorf("conditional=%v: samples %s, want [3 3 32 32]", conditional, got)
			}
			if !conditional {
				return nil
			}
			torchrt.ManualSeed(1) // the same noise, another class
			sb, err := m.SamplePrior(3, b)
			if err != nil {
				return err
			}
			va, vb := floats(t, sa), floats(t, sb)
			diff := 0.0
			for i := range va {
				diff = math.Max(diff, math.Abs(va[i]-vb[i]))
			}
			if !(diff > 1e-3) {
				t.Errorf("classes 0 and 5 from the same noise differ by %g: the class does not reach the output", diff)
			}
			_, err = m.SamplePrior(3, nil) // unknown class
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	vs := nn.NewVarStore(gotch.CPU)
	m, err := New(vs.Root(), Config{Arch: "conv", ZDim: 4, ImageSize: 32})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.SamplePrior(2, nil); err == nil {
		t.Error("SamplePrior of conv: want an error")
	}
}
