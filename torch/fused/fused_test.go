package fused_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"torchlab/torch/fused"
	"torchlab/torch/reference"
	"torchlab/torch/tensors"
	"torchlab/torch/torchrt"
)

// param is a parameter with its optimiser state, stepped one way.
type param struct {
	p, m, v *ts.Tensor
}

func newParam(t *testing.T, init *ts.Tensor) param {
	t.Helper()
	p := init.MustDetachCopy(false).MustSetRequiresGrad(true, false)
	return param{p: p, m: p.MustZerosLike(false), v: p.MustZerosLike(false)}
}

// setGrad makes g p's gradient: the gradient of sum(p * g).
func setGrad(t *testing.T, p, g *ts.Tensor) {
	t.Helper()
	if err := fused.ZeroGrad(p); err != nil {
		t.Fatal(err)
	}
	prod := p.MustMul(g, false)
	loss := prod.MustSum(gotch.Float, true)
	defer loss.MustDrop()
	if err := loss.Backward(); err != nil {
		t.Fatal(err)
	}
}

func values(t *testing.T, x *ts.Tensor) []float32 {
	t.Helper()
	v, err := tensors.Float32s(x)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestChunkedStepsMatchWhole steps the same parameter with the optimisers'
// ops on the whole tensor (torch.optim's way) and on cache-sized slices:
// at one thread every value must be bit-identical, at two within float
// rounding. The size is not a multiple of the chunk or of a vector, so the
// last slice has a tail, and the state feeds back over several steps.
func TestChunkedStepsMatchWhole(t *testing.T) {
	torchrt.Lock()
	defer torchrt.SetThreads(torchrt.Threads())
	const n = 3*fused.CacheChunk + 1237
	for _, threads := range []int{1, 2} {
		for _, opt := range []string{"adam", "adam-wd", "sgd-momentum", "sgd-nesterov-wd"} {
			t.Run(fmt.Sprintf("%s-%dthreads", opt, threads), func(t *testing.T) {
				torchrt.SetThreads(threads)
				torchrt.ManualSeed(3)
				init := ts.MustRandn([]int64{n / 7, 7}, gotch.Float, gotch.CPU)
				defer init.MustDrop()
				whole, sliced := newParam(t, init), newParam(t, init)
				for step := int64(1); step <= 4; step++ {
					g := ts.MustRandn([]int64{n / 7, 7}, gotch.Float, gotch.CPU)
					for _, q := range []struct {
						param
						chunk int64
					}{{whole, 0}, {sliced, fused.CacheChunk}} {
						setGrad(t, q.p, g)
						var err error
						switch opt {
						case "adam":
							err = fused.AdamStep(q.p, q.m, q.v, step, 1e-3, 0.9, 0.999, 1e-8, 0, q.chunk)
						case "adam-wd":
							err = fused.AdamStep(q.p, q.m, q.v, step, 1e-3, 0.9, 0.999, 1e-8, 1e-2, q.chunk)
						case "sgd-momentum":
							err = fused.SGDStep(q.p, q.m, step > 1, 0.05, 0.9, 0, 0, false, q.chunk)
						case "sgd-nesterov-wd":
							err = fused.SGDStep(q.p, q.m, step > 1, 0.05, 0.9, 0, 1e-2, true, q.chunk)
						}
						if err != nil {
							t.Fatal(err)
						}
					}
					g.MustDrop()
				}
				for name, pair := range map[string][2]*ts.Tensor{"param": {whole.p, sliced.p}, "state": {whole.m, sliced.m}} {
					a, b := values(t, pair[0]), values(t, pair[1])
					diff := 0
					for i := range a {
						if a[i] != b[i] {
							diff++
						}
					}
					d, err := reference.Compare(reference.Widen(b), reference.Widen(a), 1e-6)
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					worst := d.MaxRel
					if threads == 1 && diff > 0 {
						t.Errorf("%s: %d of %d values differ at one thread (worst relative %.2g); want bit-identical", name, diff, len(a), worst)
					}
					if worst > 1e-5 {
						t.Errorf("%s: worst relative difference %.2g, want within float rounding", name, worst)
					}
				}
			})
		}
	}
}

// TestChunkedStepsChannelsLast steps a channels-last parameter (a
// convolution weight trained in that layout) in slices and the same
// parameter laid out contiguously in one piece: every value must be
// bit-identical at one thread. Its gradient and moments are channels-last
// too, so the slices walk memory order, which is not C order; moments left
// contiguous (a layout that differs from the parameter's) must make the
// step run whole and still be right.
func TestChunkedStepsChannelsLast(t *testing.T) {
	torchrt.Lock()
	defer torchrt.SetThreads(torchrt.Threads())
	torchrt.SetThreads(1)
	shape := []int64{131, 150, 3, 3} // 2.7 chunks
	for _, momentsFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("moments-made-before-relayout=%v", momentsFirst), func(t *testing.T) {
			torchrt.ManualSeed(5)
			init := ts.MustRandn(shape, gotch.Float, gotch.CPU)
			defer init.MustDrop()
			whole := newParam(t, init)
			cl := param{p: init.MustDetachCopy(false).MustSetRequiresGrad(true, false)}
			if momentsFirst {
				cl.m, cl.v = cl.p.MustZerosLike(false), cl.p.MustZerosLike(false)
			}
			if err := fused.SetChannelsLast(cl.p, true); err != nil {
				t.Fatal(err)
			}
			if !momentsFirst {
				cl.m, cl.v = cl.p.MustZerosLike(false), cl.p.MustZerosLike(false)
				if st := cl.v.MustStride(); st[1] != 1 {
					t.Fatalf("moments of a channels-last parameter have strides %v, want channels-last", st)
				}
			}
			for step := int64(1); step <= 3; step++ {
				g := ts.MustRandn(shape, gotch.Float, gotch.CPU)
				setGrad(t, whole.p, g)
				setGrad(t, cl.p, g)
				gr := cl.p.MustGrad(false)
				st := gr.MustStride()
				gr.MustDrop()
				if st[1] != 1 {
					t.Fatalf("gradient of a channels-last parameter has strides %v, want channels-last", st)
				}
				g.MustDrop()
				if err := fused.AdamStep(whole.p, whole.m, whole.v, step, 1e-3, 0.9, 0.999, 1e-8, 1e-2, 0); err != nil {
					t.Fatal(err)
				}
				if err := fused.AdamStep(cl.p, cl.m, cl.v, step, 1e-3, 0.9, 0.999, 1e-8, 1e-2, fused.CacheChunk); err != nil {
					t.Fatal(err)
				}
			}
			assertSame(t, "parameter", values(t, cl.p), values(t, whole.p))
			assertSame(t, "first moment", values(t, cl.m), values(t, whole.m))
			assertSame(t, "second moment", values(t, cl.v), values(t, whole.v))
		})
	}
}

// TestChannelsLast checks both layout changes: the strides become NHWC's,
// the values (read in C order) stay the same, and a parameter re-laid in
// place keeps its gradient flowing.
func TestChannelsLast(t *testing.T) {
	torchrt.Lock()
	x := ts.MustRandn([]int64{2, 3, 4, 5}, gotch.Float, gotch.CPU)
	defer x.MustDrop()
	y, err := fused.ChannelsLast(x)
	if err != nil {
		t.Fatal(err)
	}
	defer y.MustDrop()
	if got, want := fmt.Sprint(y.MustStride()), fmt.Sprint([]int64{60, 1, 15, 3}); got != want {
		t.Errorf("ChannelsLast strides %s, want %s", got, want)
	}
	assertSame(t, "ChannelsLast", values(t, y), values(t, x))

	for _, on := range []bool{true, false} {
		// A fresh parameter each time: one whose gradient was made in the
		// other layout would make autograd warn about mismatched strides.
		p := x.MustDetachCopy(false).MustSetRequiresGrad(true, false)
		defer p.MustDrop()
		if err := fused.SetChannelsLast(p, on); err != nil {
			t.Fatal(err)
		}
		st := p.MustStride()
		if (st[1] == 1) != on {
			t.Errorf("SetChannelsLast(%v): strides %v", on, st)
		}
		assertSame(t, fmt.Sprintf("SetChannelsLast(%v)", on), values(t, p), values(t, x))
		setGrad(t, p, x) // d sum(p*x)/dp = x
		g := p.MustGrad(false)
		assertSame(t, fmt.Sprintf("gradient after SetChannelsLast(%v)", on), values(t, g), values(t, x))
		g.MustDrop()
	}
}

func assertSame(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s: value %d is %v, want %v", what, i, got[i], want[i])
		}
	}
}

// TestStepsRejectBadArguments: SGD with momentum and no buffer (a null
// pointer on the C++ side) and an Adam step below 1 (bias correction
// 1 - beta^0 = 0 divides by zero: NaN parameters) are errors, and the
// parameter is left as it was.
func TestStepsRejectBadArguments(t *testing.T) {
	torchrt.Lock()
	init := ts.MustOnes([]int64{4}, gotch.Float, gotch.CPU)
	q := newParam(t, init)
	setGrad(t, q.p, ts.MustOnes([]int64{4}, gotch.Float, gotch.CPU))
	for _, tt := range []struct {
		name string
		step func() error
		want string
	}{
		{"sgd momentum without buffer", func() error { return fused.SGDStep(q.p, nil, false, 0.1, 0.9, 0, 0, false, 0) }, "momentum buffer"},
		{"adam step 0", func() error { return fused.AdamStep(q.p, q.m, q.v, 0, 1e-3, 0.9, 0.999, 1e-8, 0, 0) }, "step 0"},
		{"adam step -3", func() error { return fused.AdamStep(q.p, q.m, q.v, -3, 1e-3, 0.9, 0.999, 1e-8, 0, 0) }, "step -3"},
	} {
		err := tt.step()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one naming %q", tt.name, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "Exception raised from") {
			t.Errorf("%s: the error carries a C++ backtrace: %q", tt.name, err)
		}
		got, _ := tensors.Float32s(q.p)
		for _, v := range got {
			if v != 1 {
				t.Fatalf("%s: parameter %v after a refused step, want it unchanged (ones)", tt.name, got)
			}
		}
	}
}

// TestStepsMatchClosedForm runs three steps of Adam (with weight decay)
// and of SGD with Nesterov momentum on a few values with fixed gradients,
// against the update rules of torch.optim 1.13 written out in float64: a
// dropped bias correction, a flipped sign or a momentum started from zero
// instead of the first gradient moves the result by far more than float32
// rounding (the bar: 1e-6 relative to max(|expected|, 1)).
func TestStepsMatchClosedForm(t *testing.T) {
	torchrt.Lock()
	init := []float32{0.5, -1.25, 2, 0}
	grads := [][]float32{{0.1, -0.3, 0.7, 1}, {-0.2, 0.4, 0.05, 1}, {0.3, 0.3, -0.6, 1}}
	const lr, b1, b2, eps, wd, mom = 0.01, 0.9, 0.999, 1e-8, 0.05, 0.9
	for _, opt := range []string{"adam", "sgd-nesterov"} {
		t.Run(opt, func(t *testing.T) {
			p0, err := tensors.FromFloat32(init, int64(len(init)))
			if err != nil {
				t.Fatal(err)
			}
			q := newParam(t, p0)
			want := make([]float64, len(init))
			m, v, buf := make([]float64, len(init)), make([]float64, len(init)), make([]float64, len(init))
			for i, x := range init {
				want[i] = float64(x)
			}
			for step, g := range grads {
				gt, err := tensors.FromFloat32(g, int64(len(g)))
				if err != nil {
					t.Fatal(err)
				}
				setGrad(t, q.p, gt)
				n := float64(step + 1)
				for i := range want {
					d := float64(g[i])
					switch opt {
					case "adam":
						d += wd * want[i]
						m[i] = b1*m[i] + (1-b1)*d
						v[i] = b2*v[i] + (1-b2)*d*d
						denom := math.Sqrt(v[i])/math.Sqrt(1-math.Pow(b2, n)) + eps
						want[i] -= lr / (1 - math.Pow(b1, n)) * m[i] / denom
					default:
						if step == 0 {
							buf[i] = d
						} else {
							buf[i] = mom*buf[i] + d
						}
						want[i] -= lr * (d + mom*buf[i])
					}
				}
				if opt == "adam" {
					err = fused.AdamStep(q.p, q.m, q.v, int64(step+1), lr, b1, b2, eps, wd, 0)
				} else {
					err = fused.SGDStep(q.p, q.m, step > 0, lr, mom, 0, 0, true, 0)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			got := reference.Widen(values(t, q.p))
			d, err := reference.Compare(got, want, 1)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("max |diff|/max(|want|,1) %.2g: got %v, closed form %v", d.MaxRel, got, want)
			if d.MaxRel > 1e-6 {
				t.Errorf("%s after 3 steps: got %v, closed form %v", opt, got, want)
			}
		})
	}
}
