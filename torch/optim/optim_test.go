package optim

import (
	"fmt"
	"math"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"torchlab/torch/npz"
	"torchlab/torch/reference"
	"torchlab/torch/tensors"
	"torchlab/torch/torchrt"
)

// TestMatchesTorchOptim runs the same least-squares fit with our optimiser
// and with torch.optim, and compares the loss at every step and the final
// weights.
func TestMatchesTorchOptim(t *testing.T) {
	w0, x, y, inputs := fitData(t, 11)
	for _, cfg := range []Config{
		{Name: "sgd", LR: 0.05},
		{Name: "sgd", LR: 0.05, Momentum: 0.9, WeightDecay: 1e-2},
		{Name: "sgd", LR: 0.05, Momentum: 0.9, Nesterov: true},
		{Name: "adam", LR: 0.01},
		{Name: "adam", LR: 0.01, WeightDecay: 1e-2},
	} {
		t.Run(fmt.Sprintf("%s-m%g-wd%g-n%v", cfg.Name, cfg.Momentum, cfg.WeightDecay, cfg.Nesterov), func(t *testing.T) {
			torchrt.Lock()
			const steps = 10
			args := []string{"--optimizer", cfg.Name, "--lr", fmt.Sprint(cfg.LR), "--momentum", fmt.Sprint(cfg.Momentum),
				"--weight-decay", fmt.Sprint(cfg.WeightDecay), "--steps", fmt.Sprint(steps)}
			if cfg.Nesterov {
				args = append(args, "--nesterov")
			}
			want := reference.Run(t, "optim.py", inputs, args...)

			w := w0.MustDetachCopy(false).MustSetRequiresGrad(true, true)
			opt, err := New(cfg, map[string]*ts.Tensor{"w": w})
			if err != nil {
				t.Fatal(err)
			}
			losses := fit(t, opt, steps, x, y, w, nil, 0)
			reference.AssertClose(t, "losses", losses, want["losses"].Floats(), 1e-6)
			got, _ := tensors.ToArray(w)
			reference.AssertClose(t, "weights", got.Floats(), want["w"].Floats(), 1e-6)
		})
	}
}

// fitData draws the fit's initial weights w0 [3, 5], inputs x [8, 5] and
// targets y [8, 3] from seed, and returns them also as the reference's
// inputs.
func fitData(t *testing.T, seed int64) (w0, x, y *ts.Tensor, inputs map[string]npz.Array) {
	t.Helper()
	torchrt.Lock()
	torchrt.ManualSeed(seed)
	w0 = ts.MustRandn([]int64{3, 5}, gotch.Float, gotch.CPU)
	x = ts.MustRandn([]int64{8, 5}, gotch.Float, gotch.CPU)
	y = ts.MustRandn([]int64{8, 3}, gotch.Float, gotch.CPU)
	inputs, err := tensors.ToArrays(map[string]*ts.Tensor{"w0": w0, "x": x, "y": y})
	if err != nil {
		t.Fatal(err)
	}
	return w0, x, y, inputs
}

// fit runs steps updates of mean((x @ w.T [+ b] - y)^2), the fit of
// scripts/reference/optim.py, and returns the loss before each update; b
// (when not nil) joins from step late on, with no gradient before.
func fit(t *testing.T, opt *Optimizer, steps int, x, y, w, b *ts.Tensor, late int) []float64 {
	t.Helper()
	var losses []float64
	for i := 0; i < steps; i++ {
		if err := opt.ZeroGrad(); err != nil {
			t.Fatal(err)
		}
		pred := x.MustMatmul(w.MustT(false), false)
		if b != nil && i >= late {
			pred = pred.MustAdd(b, true)
		}
		loss := pred.MustMseLoss(y, tensors.ReductionMean, true)
		if err := loss.Backward(); err != nil {
			t.Fatal(err)
		}
		if err := opt.Step(); err != nil {
			t.Fatal(err)
		}
		v, _ := tensors.Scalar(loss)
		losses = append(losses, v)
		loss.MustDrop()
	}
	return losses
}

func TestNewRejectsBadConfig(t *testing.T) {
	torchrt.Lock()
	w := ts.MustZeros([]int64{2}, gotch.Float, gotch.CPU).MustSetRequiresGrad(true, true)
	params := map[string]*ts.Tensor{"w": w}
	for _, cfg := range []Config{{Name: "rmsprop", LR: 1}, {Name: "sgd", LR: 0}, {Name: "adam", LR: 1, WeightDecay: -1}} {
		if _, err := New(cfg, params); err == nil {
			t.Errorf("%+v: want an error", cfg)
		}
	}
	frozen := ts.MustZeros([]int64{2}, gotch.Float, gotch.CPU)
	if _, err := New(Config{Name: "sgd", LR: 1}, map[string]*ts.Tensor{"b": frozen}); err == nil {
		t.Error("no trainable parameter: want an error")
	}
}

func TestScheduledLR(t *testing.T) {
	tests := []struct {
		schedule    string
		step, total int
		want        float64
	}{
		{"cosine", 0, 100, 0.02},
		{"cosine", 50, 100, 0.01},
		{"cosine", 100, 100, 0},
		{"constant", 70, 100, 0.02},
	}
	for _, tt := range tests {
		if got := ScheduledLR(tt.schedule, 0.02, tt.step, tt.total); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("ScheduledLR(%s, %d/%d) = %v, want %v", tt.schedule, tt.step, tt.total, got, tt.want)
		}
	}
}

// TestStepCountsPerParameter: a bias that gets its first gradient at step 4
// has had no update before, so torch.optim's Adam corrects its moments as
// at step 1 and SGD starts its momentum there. A count shared by all
// parameters (5 at step 4) scales the bias's first Adam update by
// (1-0.9)/(1-0.9^5), which the 1e-6 bar on the bias catches.
func TestStepCountsPerParameter(t *testing.T) {
	w0, x, y, inputs := fitData(t, 12)
	const steps, late = 10, 4
	for _, cfg := range []Config{{Name: "adam", LR: 0.01}, {Name: "sgd", LR: 0.05, Momentum: 0.9}} {
		t.Run(cfg.Name, func(t *testing.T) {
			torchrt.Lock()
			want := reference.Run(t, "optim.py", inputs, "--optimizer", cfg.Name, "--lr", fmt.Sprint(cfg.LR),
				"--momentum", fmt.Sprint(cfg.Momentum), "--steps", fmt.Sprint(steps), "--late-bias", fmt.Sprint(late))
			w := w0.MustDetachCopy(false).MustSetRequiresGrad(true, true)
			b := ts.MustZeros([]int64{3}, gotch.Float, gotch.CPU).MustSetRequiresGrad(true, true)
			opt, err := New(cfg, map[string]*ts.Tensor{"w": w, "b": b})
			if err != nil {
				t.Fatal(err)
			}
			losses := fit(t, opt, steps, x, y, w, b, late)
			if got := opt.ParamSteps(); got["w"] != steps || got["b"] != steps-late {
				t.Errorf("ParamSteps = %v, want w %d, b %d", got, steps, steps-late)
			}
			reference.AssertClose(t, "losses", losses, want["losses"].Floats(), 1e-6)
			gw, _ := tensors.ToArray(w)
			reference.AssertClose(t, "w", gw.Floats(), want["w"].Floats(), 1e-6)
			gb, _ := tensors.ToArray(b)
			reference.AssertClose(t, "b", gb.Floats(), want["b"].Floats(), 1e-6)
		})
	}
}

// TestMeasureGradNorm: with SetMeasureGradNorm and no clipping, GradNorm
// is the 2-norm over every parameter's gradient, and the update is the
// one an optimiser that does not measure makes.
func TestMeasureGradNorm(t *testing.T) {
	torchrt.Lock()
	w0 := ts.MustOfSlice([]float32{1, -2, 3}).MustView([]int64{3}, true)
	step := func(measure bool) (norm float64, w []float64) {
		w1 := w0.MustDetachCopy(false).MustSetRequiresGrad(true, true)
		b := ts.MustOfSlice([]float32{0.5}).MustSetRequiresGrad(true, true)
		opt, err := New(Config{Name: "sgd", LR: 0.1}, map[string]*ts.Tensor{"w": w1, "b": b})
		if err != nil {
			t.Fatal(err)
		}
		opt.SetMeasureGradNorm(measure)
		// loss = sum(w^2) + 3b: gradients 2w = (2, -4, 6) and 3.
		loss := w1.MustMul(w1, false).MustSum(gotch.Float, true).MustAdd(b.MustMulScalar(ts.FloatScalar(3), false), true)
		if err := loss.Backward(); err != nil {
			t.Fatal(err)
		}
		if err := opt.Step(); err != nil {
			t.Fatal(err)
		}
		got, err := tensors.ToArray(w1)
		if err != nil {
			t.Fatal(err)
		}
		return opt.GradNorm(), got.Floats()
	}
	norm, w := step(true)
	want := math.Sqrt(4 + 16 + 36 + 9)
	if !(math.Abs(norm-want) <= 1e-6*want) {
		t.Errorf("GradNorm = %v, want %v (relative tolerance 1e-6)", norm, want)
	}
	unmeasured, wPlain := step(false)
	if unmeasured != 0 {
		t.Errorf("GradNorm without measuring = %v, want 0", unmeasured)
	}
	reference.AssertClose(t, "w", w, wPlain, 0)
}
