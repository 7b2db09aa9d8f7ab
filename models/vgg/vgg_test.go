package vgg_test

import (
	"fmt"
	"math"
	"math/rand"
	"strconv"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/models/vgg"
	"torchlab/torch/npz"
	"torchlab/torch/optim"
	"torchlab/torch/reference"
	"torchlab/torch/tensors"
	"torchlab/torch/torchrt"
)

const batch = 8

// build makes a VGG11 with libtorch seeded, as the reference script does.
func build(t *testing.T, cfg vgg.Config, seed int64) (*vgg.VGG, map[string]*ts.Tensor) {
	t.Helper()
	if _, err := torchrt.Init(torchrt.Config{Threads: 2, Seed: seed}); err != nil {
		t.Fatal(err)
	}
	vs := nn.NewVarStore(gotch.CPU)
	m, err := vgg.New(vs.Root(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	named, err := tensors.Named(vs)
	if err != nil {
		t.Fatal(err)
	}
	return m, named
}

// withBatchNorm is the default configuration, with or without batch norm.
func withBatchNorm(bn bool) vgg.Config {
	cfg := vgg.DefaultConfig()
	cfg.BatchNorm = bn
	return cfg
}

// refArgs are the reference script's flags for cfg.
func refArgs(cfg vgg.Config, extra ...string) []string {
	args := []string{"--dropout", fmtG(cfg.Dropout), "--init", cfg.Init, "--threads", "2"}
	if cfg.BatchNorm {
		args = append(args, "--batch-norm")
	}
	return append(args, extra...)
}

func fmtG(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// randomBatch is reproducible normal inputs [n, 1, 32, 32] and labels.
func randomBatch(rng *rand.Rand, n int) ([]float32, []int64) {
	x := make([]float32, n*32*32)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	y := make([]int64, n)
	for i := range y {
		y[i] = int64(rng.Intn(10))
	}
	return x, y
}

func TestNamesMatchPyTorch(t *testing.T) {
	torchrt.Lock()
	for _, bn := range []bool{false, true} {
		cfg := withBatchNorm(bn)
		_, named := build(t, cfg, 3)
		ref := reference.Run(t, "vgg_mnist.py", nil, append(refArgs(cfg), "--seed", "3", "init")...)
		if len(ref) != len(named) {
			t.Errorf("batch norm %v: %d tensors in Go, %d in PyTorch", bn, len(named), len(ref))
		}
		for name, want := range ref {
			got, ok := named[name]
			if !ok {
				t.Errorf("batch norm %v: PyTorch has %s, Go does not", bn, name)
				continue
			}
			a, err := tensors.ToArray(got)
			if err != nil {
				t.Fatal(err)
			}
			// Same seed, same draws in the same order: identical values.
			reference.AssertClose(t, "init "+name, a.Floats(), want.Floats(), 0)
		}
	}
}

// TestForwardMatchesPyTorch loads Go's weights into the reference and
// compares logits in eval mode and, with batch norm, in training mode
// (dropout off, so that it is deterministic) with the running statistics.
func TestForwardMatchesPyTorch(t *testing.T) {
	torchrt.Lock()
	for _, bn := range []bool{false, true} {
		cfg := vgg.DefaultConfig()
		cfg.BatchNorm = bn
		if bn {
			cfg.Dropout = 0
		}
		m, named := build(t, cfg, 5)
		weights, err := tensors.ToArrays(named)
		if err != nil {
			t.Fatal(err)
		}
		xs, _ := randomBatch(rand.New(rand.NewSource(1)), batch)
		weights["x"] = npz.Float32(xs, batch, 1, 32, 32)
		ref := reference.Run(t, "vgg_mnist.py", weights, append(refArgs(cfg), "forward")...)

		x, err := tensors.FromFloat32(xs, batch, 1, 32, 32)
		if err != nil {
			t.Fatal(err)
		}
		defer x.MustDrop()
		modes := []bool{false}
		if bn {
			modes = append(modes, true)
		}
		for _, train := range modes {
			name := "logits"
			if train {
				name = "logits_train"
			}
			reference.AssertClose(t, name, forwardNoGrad(t, m, x, train), ref[name].Floats(), 1e-4)
		}
		if bn {
			for _, name := range []string{"features.1.running_mean", "features.1.running_var", "features.26.running_var"} {
				a, err := tensors.ToArray(named[name])
				if err != nil {
					t.Fatal(err)
				}
				reference.AssertClose(t, name, a.Floats(), ref[name].Floats(), 1e-5)
			}
		}
	}
}

// forwardNoGrad returns m's logits for x under no-grad.
func forwardNoGrad(t *testing.T, m *vgg.VGG, x *ts.Tensor, train bool) []float64 {
	t.Helper()
	var got []float32
	err := torchrt.NoGrad(func() error {
		logits, err := m.ForwardT(x, train) // [N, 10]
		if err != nil {
			return err
		}
		defer logits.MustDrop()
		got, err = tensors.Float32s(logits)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return f64(got)
}

func f64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// TestSGDStepsMatchPyTorch trains 20 steps on the same batches from the
// same weights with dropout off on both sides.
func TestSGDStepsMatchPyTorch(t *testing.T) {
	torchrt.Lock()
	const steps = 20
	cfg := vgg.DefaultConfig()
	cfg.Dropout = 0
	m, named := build(t, cfg, 7)
	weights, err := tensors.ToArrays(named)
	if err != nil {
		t.Fatal(err)
	}
	// Four batches, each seen five times: a net that learns lowers the
	// loss on a batch it has seen, which shows the comparison covers
	// trained weights and not only the initial ones.
	const distinct = 4
	rng := rand.New(rand.NewSource(2))
	var xs []float32
	var ys []int64
	for range distinct {
		x, y := randomBatch(rng, batch)
		xs, ys = append(xs, x...), append(ys, y...)
	}
	for len(ys) < steps*batch {
		xs, ys = append(xs, xs[:distinct*batch*32*32]...), append(ys, ys[:distinct*batch]...)
	}
	weights["xs"] = npz.Float32(xs, steps, batch, 1, 32, 32)
	weights["ys"] = npz.Int64(ys, steps, batch)
	const lr, momentum = 0.02, 0.9
	ref := reference.Run(t, "vgg_mnist.py", weights, append(refArgs(cfg), "--lr", fmtG(lr), "--momentum", fmtG(momentum), "steps")...)

	opt, err := optim.New(optim.Config{Name: "sgd", LR: lr, Momentum: momentum}, named)
	if err != nil {
		t.Fatal(err)
	}
	want := ref["losses"].Floats()
	px := batch * 32 * 32
	for i := range steps {
		x, err := tensors.FromFloat32(xs[i*px:(i+1)*px], batch, 1, 32, 32)
		if err != nil {
			t.Fatal(err)
		}
		y, err := tensors.FromInt64(ys[i*batch:(i+1)*batch], batch)
		if err != nil {
			t.Fatal(err)
		}
		got := sgdStep(t, m, opt, x, y)
		x.MustDrop()
		y.MustDrop()
		rel := math.Abs(got-want[i]) / math.Abs(want[i])
		t.Logf("step %2d: loss Go %.7f PyTorch %.7f rel diff %.2g", i, got, want[i], rel)
		if !(rel <= 1e-4) {
			t.Errorf("step %d: loss %v, PyTorch %v (relative difference %.3g > 1e-4)", i, got, want[i], rel)
		}
	}
	if last := want[steps-distinct]; !(last < want[0]-1e-3) {
		t.Errorf("the reference's loss on the first batch did not fall (%v -> %v): the comparison says little", want[0], last)
	}
}

// sgdStep is one training step: forward in training mode, mean
// cross-entropy, backward, update. It returns the loss before the update.
func sgdStep(t *testing.T, m *vgg.VGG, opt *optim.Optimizer, x, y *ts.Tensor) float64 {
	t.Helper()
	if err := opt.ZeroGrad(); err != nil {
		t.Fatal(err)
	}
	logits, err := m.ForwardT(x, true) // [8, 10]
	if err != nil {
		t.Fatal(err)
	}
	defer logits.MustDrop()
	loss, err := vgg.Loss(logits, y)
	if err != nil {
		t.Fatal(err)
	}
	defer loss.MustDrop()
	if err := loss.Backward(); err != nil {
		t.Fatal(err)
	}
	if err := opt.Step(); err != nil {
		t.Fatal(err)
	}
	v, err := tensors.Scalar(loss)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestForwardMACs(t *testing.T) {
	// Convolutions at 32, 16, 8, 8, 4, 4, 2, 2 pixels, then 512-4096-4096-10.
	conv := int64(32*32*64*1*9 + 16*16*128*64*9 + 8*8*256*128*9 + 8*8*256*256*9 +
		4*4*512*256*9 + 4*4*512*512*9 + 2*2*512*512*9 + 2*2*512*512*9)
	fc := int64(512*4096 + 4096*4096 + 4096*10)
	if got := vgg.DefaultConfig().ForwardMACs(32); got != conv+fc {
		t.Errorf("ForwardMACs(32) = %d, want %d", got, conv+fc)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	torchrt.Lock()
	for _, mod := range []func(*vgg.Config){
		func(c *vgg.Config) { c.Dropout = 1 },
		func(c *vgg.Config) { c.InChannels = 0 },
		func(c *vgg.Config) { c.Init = "xavier" },
	} {
		cfg := vgg.DefaultConfig()
		mod(&cfg)
		if _, err := vgg.New(nn.NewVarStore(gotch.CPU).Root(), cfg); err == nil {
			t.Errorf("New(%+v) succeeded, want an error", cfg)
		}
	}
}

// TestWrongInputShape checks that an input VGG cannot take is an error
// naming the shape it wants, not a crash inside libtorch.
func TestWrongInputShape(t *testing.T) {
	cfg := vgg.DefaultConfig()
	cfg.Hidden = 16
	m, _ := build(t, cfg, 0)
	for _, tc := range []struct {
		shape []int64
		want  string
	}{
		{[]int64{8, 1, 28, 28}, "vgg: input [8 1 28 28], want [N 1 32 32]"},
		{[]int64{8, 3, 32, 32}, "vgg: input [8 3 32 32], want [N 1 32 32]"},
		{[]int64{1, 32, 32}, "vgg: input [1 32 32], want [N 1 32 32]"},
	} {
		x := ts.MustZeros(tc.shape, gotch.Float, gotch.CPU)
		y, err := m.ForwardT(x, false)
		x.MustDrop()
		if err == nil {
			y.MustDrop()
			t.Errorf("input %v: no error", tc.shape)
		} else if err.Error() != tc.want {
			t.Errorf("input %v: error %q, want %q", tc.shape, err, tc.want)
		}
	}
}

// TestChannelsLastForward checks that laying the convolutions out
// channels-last changes their memory layout and not the logits (beyond float
// rounding), and that turning it off restores every weight exactly.
func TestChannelsLastForward(t *testing.T) {
	torchrt.Lock()
	for _, bn := range []bool{false, true} {
		m, named := build(t, withBatchNorm(bn), 5)
		before, err := tensors.ToArrays(named)
		if err != nil {
			t.Fatal(err)
		}
		xs, _ := randomBatch(rand.New(rand.NewSource(2)), batch)
		x, err := tensors.FromFloat32(xs, batch, 1, 32, 32)
		if err != nil {
			t.Fatal(err)
		}
		defer x.MustDrop()
		want := forwardNoGrad(t, m, x, false)
		if err := m.SetChannelsLast(true); err != nil {
			t.Fatal(err)
		}
		for name, w := range named {
			if s := w.MustSize(); len(s) == 4 {
				// Strict NHWC strides, even where C is 1 (the first convolution).
				want := fmt.Sprint([]int64{s[1] * s[2] * s[3], 1, s[3] * s[1], s[1]})
				if st := fmt.Sprint(w.MustStride()); st != want {
					t.Errorf("bn=%v %s: strides %s after SetChannelsLast(true), want channels-last %s", bn, name, st, want)
				}
			}
		}
		reference.AssertClose(t, "channels-last logits", forwardNoGrad(t, m, x, false), want, 1e-5)
		if err := m.SetChannelsLast(false); err != nil {
			t.Fatal(err)
		}
		after, err := tensors.ToArrays(named)
		if err != nil {
			t.Fatal(err)
		}
		for name, w := range named {
			if s := w.MustSize(); len(s) == 4 {
				want := fmt.Sprint([]int64{s[1] * s[2] * s[3], s[2] * s[3], s[3], 1})
				if st := fmt.Sprint(w.MustStride()); st != want {
					t.Errorf("bn=%v %s: strides %s after SetChannelsLast(false), want contiguous %s", bn, name, st, want)
				}
			}
			a, b := before[name].Floats(), after[name].Floats()
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("bn=%v %s[%d]: %v before, %v after the round trip", bn, name, i, a[i], b[i])
				}
			}
		}
	}
}
