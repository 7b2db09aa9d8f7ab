package layers

import (
	"errors"
	"fmt"
	"math"

	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/torch/npz"
	"torchlab/torch/reference"
	"torchlab/torch/tensors"
	"torchlab/torch/torchrt"
)

// testLayers mirrors build() in scripts/reference/layers.py: the same layers
// in the same creation order, so they draw the same random numbers.
type testLayers struct {
	vs           *nn.VarStore
	linear       *Linear
	linearNoBias *Linear
	conv         *Conv2d
	convt        *ConvTranspose2d
	bn           *BatchNorm2d
	lstm         *LSTM
}

func newTestLayers(t *testing.T) *testLayers {
	t.Helper()
	vs := nn.NewVarStore(gotch.CPU)
	root := vs.Root()
	l := &testLayers{vs: vs}
	var err error
	must := func(e error) {
		if e != nil {
			t.Fatal(e)
		}
	}
	l.linear, err = NewLinear(root.Sub("linear"), 7, 5, true)
	must(err)
	l.linearNoBias, err = NewLinear(root.Sub("linear_nobias"), 6, 3, false)
	must(err)
	l.conv, err = NewConv2d(root.Sub("conv"), 3, 4, 3, ConvConfig{Stride: 2, Padding: 1})
	must(err)
	l.convt, err = NewConvTranspose2d(root.Sub("convt"), 4, 2, 4, ConvConfig{Stride: 2, Padding: 1})
	must(err)
	l.bn, err = NewBatchNorm2d(root.Sub("bn"), 4)
	must(err)
	l.lstm, err = NewLSTM(root.Sub("lstm"), 6, 5)
	must(err)
	return l
}

func TestInitMatchesPyTorch(t *testing.T) {
	torchrt.Lock()
	for _, seed := range []int64{0, 42} {
		torchrt.ManualSeed(seed)
		l := newTestLayers(t)
		named, err := tensors.Named(l.vs)
		if err != nil {
			t.Fatal(err)
		}
		want := reference.Run(t, "layers.py", nil, "init", "--seed", itoa(seed))
		if len(want) != len(named) {
			t.Errorf("seed %d: PyTorch has %d state entries, we have %d", seed, len(want), len(named))
		}
		for name, w := range want {
			x, ok := named[name]
			if !ok {
				t.Errorf("seed %d: PyTorch has %s, we do not", seed, name)
				continue
			}
			if got := shapeOf(x); !sameShape(got, w.Shape) {
				t.Errorf("seed %d: %s shape %v, PyTorch %v", seed, name, got, w.Shape)
				continue
			}
			g, err := tensors.ToArray(x)
			if err != nil {
				t.Fatal(err)
			}
			reference.AssertClose(t, name, g.Floats(), w.Floats(), 1e-7)
		}
	}
}

func TestForwardMatchesPyTorch(t *testing.T) {
	torchrt.Lock()
	torchrt.ManualSeed(7)
	l := newTestLayers(t)
	named, err := tensors.Named(l.vs)
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[string]*ts.Tensor{
		"x_linear":        ts.MustRandn([]int64{4, 7}, gotch.Float, gotch.CPU),
		"x_linear_nobias": ts.MustRandn([]int64{2, 3, 6}, gotch.Float, gotch.CPU),
		"x_conv":          ts.MustRandn([]int64{2, 3, 9, 9}, gotch.Float, gotch.CPU),
		"x_convt":         ts.MustRandn([]int64{2, 4, 5, 5}, gotch.Float, gotch.CPU),
		"x_bn":            ts.MustRandn([]int64{3, 4, 5, 5}, gotch.Float, gotch.CPU),
		"x_lstm":          ts.MustRandn([]int64{3, 8, 6}, gotch.Float, gotch.CPU),
	}
	arrays, err := tensors.ToArrays(named)
	if err != nil {
		t.Fatal(err)
	}
	in, err := tensors.ToArrays(inputs)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range in {
		arrays[k] = v
	}
	want := reference.Run(t, "layers.py", arrays, "forward")

	got := map[string]*ts.Tensor{}
	err = torchrt.NoGrad(func() error {
		var err error
		set := func(name string) func(*ts.Tensor, error) {
			return func(t *ts.Tensor, e error) {
				got[name] = t
				err = errors.Join(err, e)
			}
		}
		set("linear")(l.linear.Forward(inputs["x_linear"]))
		set("linear_nobias")(l.linearNoBias.Forward(inputs["x_linear_nobias"]))
		set("conv")(l.conv.Forward(inputs["x_conv"]))
		set("convt")(l.convt.Forward(inputs["x_convt"]))
		set("bn_train")(l.bn.ForwardT(inputs["x_bn"], true))
		got["bn_running_mean"] = l.bn.RunningMean
		got["bn_running_var"] = l.bn.RunningVar
		set("bn_eval")(l.bn.ForwardT(inputs["x_bn"], false))
		var lerr error
		got["lstm_out"], got["lstm_h"], got["lstm_c"], lerr = l.lstm.Forward(inputs["x_lstm"])
		return errors.Join(err, lerr)
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, w := range want {
		g, err := tensors.ToArray(got[name])
		if err != nil {
			t.Fatal(err)
		}
		if !sameShape(g.Shape, w.Shape) {
			t.Errorf("%s: shape %v, PyTorch %v", name, g.Shape, w.Shape)
			continue
		}
		reference.AssertClose(t, name, g.Floats(), w.Floats(), 1e-5)
	}
	if n := l.bn.NumBatchesTracked.Int64Values(); n[0] != 1 {
		t.Errorf("num_batches_tracked = %d after one training batch, want 1", n[0])
	}
}

// TestPackedMatchesPadded checks that the packed LSTM's final state is the
// padded LSTM's state at each sequence's own last step.
func TestPackedMatchesPadded(t *testing.T) {
	torchrt.Lock()
	torchrt.ManualSeed(3)
	vs := nn.NewVarStore(gotch.CPU)
	lstm, err := NewLSTM(vs.Root().Sub("lstm"), 4, 3)
	if err != nil {
		t.Fatal(err)
	}
	lengths := []int64{5, 3, 2} // sorted, as packing requires
	x := ts.MustRandn([]int64{3, 5, 4}, gotch.Float, gotch.CPU)
	// Pack by hand: step t holds the sequences longer than t.
	var rows []*ts.Tensor
	var batchSizes []int64
	for step := int64(0); step < 5; step++ {
		n := int64(0)
		for b, l := range lengths {
			if l > step {
				rows = append(rows, x.MustSelect(0, int64(b), false).MustSelect(0, step, false))
				n++
			}
		}
		batchSizes = append(batchSizes, n)
	}
	data := ts.MustStack(rows, 0)
	bs, err := tensors.FromInt64(batchSizes, int64(len(batchSizes)))
	if err != nil {
		t.Fatal(err)
	}
	_, h, _, err := lstm.ForwardPacked(data, bs)
	if err != nil {
		t.Fatal(err)
	}
	for b, l := range lengths {
		single := x.MustNarrow(0, int64(b), 1, false).MustNarrow(1, 0, l, false)
		_, hb, _, err := lstm.Forward(single)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := tensors.Float32s(hb)
		got, _ := tensors.Float32s(h.MustSelect(1, int64(b), false))
		reference.AssertClose(t, "packed h", f64(got), f64(want), 1e-6)
	}
}

func TestBadSizes(t *testing.T) {
	torchrt.Lock()
	root := nn.NewVarStore(gotch.CPU).Root()
	if _, err := NewLinear(root.Sub("a"), 0, 3, true); err == nil {
		t.Error("Linear with 0 inputs: want an error")
	}
	if _, err := NewConv2d(root.Sub("b"), 3, 4, 3, ConvConfig{Groups: 2}); err == nil {
		t.Error("Conv2d with 3 channels in 2 groups: want an error")
	}
	if _, err := NewLSTM(root.Sub("c"), 4, -1); err == nil {
		t.Error("LSTM with negative hidden size: want an error")
	}
}

func shapeOf(x *ts.Tensor) []int {
	s := x.MustSize()
	out := make([]int, len(s))
	for i, d := range s {
		out[i] = int(d)
	}
	return out
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func f64(v []float32) []float64 { return npz.Float32(v, len(v)).Floats() }

func itoa(n int64) string { return fmt.Sprint(n) }

// TestSubpixelTransposedConvMatchesLibtorch checks the pixel-shuffle form
// of ConvTranspose2d.Forward against libtorch's conv_transpose2d, output
// and the gradients of x, weight and bias, for every kernel/stride/padding
// it takes (k = stride + 2*padding), symmetric and asymmetric windows.
func TestSubpixelTransposedConvMatchesLibtorch(t *testing.T) {
	torchrt.Lock()
	torchrt.ManualSeed(5)
	for _, c := range []struct{ k, s, p int64 }{{4, 2, 1}, {2, 2, 0}, {3, 1, 1}, {5, 3, 1}, {6, 2, 2}, {3, 3, 0}} {
		for _, bias := range []bool{true, false} {
			t.Run(fmt.Sprintf("k%d-s%d-p%d-bias%v", c.k, c.s, c.p, bias), func(t *testing.T) {
				vs := nn.NewVarStore(gotch.CPU)
				l, err := NewConvTranspose2d(vs.Root().Sub("t"), 5, 3, c.k, ConvConfig{Stride: c.s, Padding: c.p, NoBias: !bias})
				if err != nil {
					t.Fatal(err)
				}
				x := ts.MustRandn([]int64{2, 5, 6, 7}, gotch.Float, gotch.CPU).MustSetRequiresGrad(true, false)
				fast, err := l.Forward(x)
				if err != nil {
					t.Fatal(err)
				}
				slow, err := ts.ConvTranspose2d(x, l.Weight, optional(l.Bias), []int64{c.s, c.s}, []int64{c.p, c.p}, []int64{0, 0}, 1, []int64{1, 1})
				if err != nil {
					t.Fatal(err)
				}
				if fs, ss := fast.MustSize(), slow.MustSize(); fmt.Sprint(fs) != fmt.Sprint(ss) {
					t.Fatalf("shape %v, conv_transpose2d's %v", fs, ss)
				}
				assertNear(t, "output", fast, slow)
				g := ts.MustRandn(slow.MustSize(), gotch.Float, gotch.CPU)
				params := []*ts.Tensor{x, l.Weight}
				if bias {
					params = append(params, l.Bias)
				}
				gf, gs := gradsOf(t, fast, g, params), gradsOf(t, slow, g, params)
				for i, name := range []string{"grad x", "grad weight", "grad bias"}[:len(gf)] {
					assertNear(t, name, gf[i], gs[i])
				}
			})
		}
	}
}

// gradsOf returns copies of the gradients of sum(y * g) with respect to
// params, each zeroed first.
func gradsOf(t *testing.T, y, g *ts.Tensor, params []*ts.Tensor) []*ts.Tensor {
	t.Helper()
	for _, p := range params {
		p.ZeroGrad()
	}
	loss := y.MustMul(g, false).MustSum(gotch.Float, true)
	if err := loss.Backward(); err != nil {
		t.Fatal(err)
	}
	var out []*ts.Tensor
	for _, p := range params {
		out = append(out, p.MustGrad(false).MustDetachCopy(false))
	}
	return out
}

// assertNear fails unless got and want agree within 1e-5 of want's largest
// magnitude (float32 sums in another order).
func assertNear(t *testing.T, name string, got, want *ts.Tensor) {
	t.Helper()
	g, err := tensors.Float32s(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := tensors.Float32s(want)
	if err != nil {
		t.Fatal(err)
	}
	d, err := reference.Compare(reference.Widen(g), reference.Widen(w), 1)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	scale, worst := 0.0, d.MaxAbs
	for i := range w {
		scale = max(scale, math.Abs(float64(w[i])))
	}
	if worst > 1e-5*scale {
		t.Errorf("%s: largest difference %.3g of values up to %.3g, want within 1e-5 relative", name, worst, scale)
	}
}
