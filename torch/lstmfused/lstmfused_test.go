package lstmfused

import (
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/torch/fused"
	"torchlab/torch/layers"
	"torchlab/torch/reference"
	"torchlab/torch/tensors"
	"torchlab/torch/torchrt"
)

const vocab = 128

// batch is a padded batch of codes with each row's own length.
type batch struct {
	codes, lengths *ts.Tensor // [b, steps] and [b] int64
	last           *ts.Tensor // [b] int64: row*steps + length-1
	b, steps       int64
	real           int64 // sum of lengths
}

func (x *batch) drop() {
	x.codes.MustDrop()
	x.lengths.MustDrop()
	x.last.MustDrop()
}

// newBatch draws codes in [0, vocab) and lengths in [lo, steps]; unless
// lo == steps, one row has length 1 and one the full steps.
func newBatch(t testing.TB, rng *rand.Rand, b, steps, lo int64) *batch {
	t.Helper()
	codes := make([]int64, b*steps)
	for i := range codes {
		codes[i] = rng.Int63n(vocab)
	}
	lengths := make([]int64, b)
	for i := range lengths {
		lengths[i] = lo + rng.Int63n(steps-lo+1)
	}
	if lo < steps && b >= 2 {
		i := rng.Int63n(b)
		j := (i + 1 + rng.Int63n(b-1)) % b
		lengths[i], lengths[j] = 1, steps
	}
	last := make([]int64, b)
	x := &batch{b: b, steps: steps}
	for i, n := range lengths {
		last[i] = int64(i)*steps + n - 1
		x.real += n
	}
	var err error
	if x.codes, err = tensors.FromInt64(codes, b, steps); err != nil {
		t.Fatal(err)
	}
	if x.lengths, err = tensors.FromInt64(lengths, b); err != nil {
		t.Fatal(err)
	}
	if x.last, err = tensors.FromInt64(last, b); err != nil {
		t.Fatal(err)
	}
	return x
}

func newLSTM(t testing.TB, hidden int64) *layers.LSTM {
	t.Helper()
	vs := nn.NewVarStore(gotch.CPU)
	l, err := layers.NewLSTM(vs.Root().Sub("lstm"), vocab, hidden)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func params(l *layers.LSTM) []*ts.Tensor {
	return []*ts.Tensor{l.WeightIH, l.WeightHH, l.BiasIH, l.BiasHH}
}

var paramNames = []string{"weight_ih", "weight_hh", "bias_ih", "bias_hh"}

// libtorchH is what models/charlstm computes with layers.LSTM: the padded
// one-hot batch through libtorch's lstm op, and each row's output at its own
// last step. [b, hidden]
func libtorchH(l *layers.LSTM, eye *ts.Tensor, x *batch) (*ts.Tensor, error) {
	flat, err := x.codes.View([]int64{-1}, false) // [b*steps]
	if err != nil {
		return nil, err
	}
	oh, err := eye.IndexSelect(0, flat, false) // [b*steps, vocab]
	flat.MustDrop()
	if err != nil {
		return nil, err
	}
	in, err := oh.View([]int64{x.b, x.steps, vocab}, true) // [b, steps, vocab]
	if err != nil {
		return nil, err
	}
	out, h, c, err := l.Forward(in) // out [b, steps, hidden]
	in.MustDrop()
	if err != nil {
		return nil, err
	}
	h.MustDrop()
	c.MustDrop()
	rows, err := out.Reshape([]int64{-1, l.Hidden}, true) // [b*steps, hidden]
	if err != nil {
		return nil, err
	}
	return rows.IndexSelect(0, x.last, true) // [b, hidden]
}

func fusedH(l *layers.LSTM, x *batch) (*ts.Tensor, error) {
	return Forward(x.codes, x.lengths, l.WeightIH, l.WeightHH, l.BiasIH, l.BiasHH)
}

// backward runs sum(h * w) backward and returns the four weight gradients,
// which it then zeroes.
func backward(t testing.TB, h, w *ts.Tensor, ps []*ts.Tensor) [][]float32 {
	t.Helper()
	prod := h.MustMul(w, false)
	loss := prod.MustSum(gotch.Float, true)
	defer loss.MustDrop()
	if err := loss.Backward(); err != nil {
		t.Fatal(err)
	}
	var out [][]float32
	for _, p := range ps {
		g, err := p.Grad(false)
		if err != nil {
			t.Fatal(err)
		}
		v, err := tensors.Float32s(g)
		g.MustDrop()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
		if err := fused.ZeroGrad(p); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// diff is the largest |got-want| / max(1, |want|) (absolute below
// magnitude 1, relative above) and the largest |want|; a NaN is an error.
func diff(got, want []float32) (scaled, peak float64, err error) {
	d, err := reference.Compare(reference.Widen(got), reference.Widen(want), 1)
	for _, w := range want {
		peak = math.Max(peak, math.Abs(float64(w)))
	}
	return d.MaxRel, peak, err
}

const tolerance = 1e-5

// TestParityWithLibtorch compares h at each row's last step and the four
// weight gradients of sum(h * w), w random, with libtorch's own lstm op
// (torch.nn.LSTM's kernel) on the padded batch.
// Two threads take the chunked path (each thread its own rows); "scalar"
// forces the rows a CPU without AVX2 runs, held to the same bar.
func TestParityWithLibtorch(t *testing.T) {
	torchrt.Lock()
	defer torchrt.SetThreads(torchrt.Threads())
	defer forceScalar(forceScalar(false))
	for _, scalar := range []bool{false, true} {
		forceScalar(scalar)
		for _, threads := range []int{1, 2} {
			torchrt.SetThreads(threads)
			t.Run(fmt.Sprintf("scalar=%v/threads=%d", scalar, threads), testParity)
		}
	}
}

func testParity(t *testing.T) {
	eye, err := ts.Eye(vocab, gotch.Float, gotch.CPU)
	if err != nil {
		t.Fatal(err)
	}
	defer eye.MustDrop()
	for _, c := range []struct{ b, steps, hidden int64 }{
		{5, 9, 16},
		{7, 1, 16},
		{17, 40, 16},
		{32, 75, 16},
		{5, 30, 128},
		{13, 60, 128},
		{32, 75, 128},
		{32, 140, 128},
	} {
		name := fmt.Sprintf("b%d_steps%d_h%d", c.b, c.steps, c.hidden)
		t.Run(name, func(t *testing.T) {
			torchrt.ManualSeed(c.b*1000 + c.steps)
			rng := rand.New(rand.NewSource(c.b*1000 + c.steps))
			l := newLSTM(t, c.hidden)
			x := newBatch(t, rng, c.b, c.steps, 1)
			defer x.drop()
			w := ts.MustRandn([]int64{c.b, c.hidden}, gotch.Float, gotch.CPU)
			defer w.MustDrop()

			hRef, err := libtorchH(l, eye, x)
			if err != nil {
				t.Fatal(err)
			}
			defer hRef.MustDrop()
			gRef := backward(t, hRef, w, params(l))
			hGot, err := fusedH(l, x)
			if err != nil {
				t.Fatal(err)
			}
			defer hGot.MustDrop()
			if err := tensors.CheckShape(hGot, c.b, c.hidden); err != nil {
				t.Fatal(err)
			}
			gGot := backward(t, hGot, w, params(l))

			want, err := tensors.Float32s(hRef)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tensors.Float32s(hGot)
			if err != nil {
				t.Fatal(err)
			}
			check := func(what string, got, want []float32) {
				scaled, peak, err := diff(got, want)
				if err != nil {
					t.Errorf("%s: %v", what, err)
					return
				}
				t.Logf("%-9s max |diff|/max(1,|want|) %.2e (max |want| %.3g)", what, scaled, peak)
				if scaled > tolerance {
					t.Errorf("%s: max |diff|/max(1,|want|) = %.2e exceeds %.0e", what, scaled, tolerance)
				}
			}
			check("h", got, want)
			for i, n := range paramNames {
				check("d "+n, gGot[i], gRef[i])
			}
		})
	}
}

// TestPaddingIgnored checks that codes after a row's length change nothing.
func TestPaddingIgnored(t *testing.T) {
	torchrt.Lock()
	torchrt.ManualSeed(3)
	l := newLSTM(t, 16)
	rng := rand.New(rand.NewSource(3))
	x := newBatch(t, rng, 6, 12, 1)
	defer x.drop()
	h1, err := fusedH(l, x)
	if err != nil {
		t.Fatal(err)
	}
	defer h1.MustDrop()
	codes, _ := tensors.Int64s(x.codes)
	lengths, _ := tensors.Int64s(x.lengths)
	for i := range codes {
		if int64(i)%x.steps >= lengths[int64(i)/x.steps] {
			codes[i] = (codes[i] + 1) % vocab
		}
	}
	y := *x
	if y.codes, err = tensors.FromInt64(codes, x.b, x.steps); err != nil {
		t.Fatal(err)
	}
	defer y.codes.MustDrop()
	h2, err := fusedH(l, &y)
	if err != nil {
		t.Fatal(err)
	}
	defer h2.MustDrop()
	a, _ := tensors.Float32s(h1)
	b, _ := tensors.Float32s(h2)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("h[%d] changed from %v to %v when only padding changed", i, a[i], b[i])
		}
	}
}

// TestTwoGraphsAlive checks that two forward passes whose graphs are alive
// at the same time do not share a workspace: backward through both gives
// the sum of the gradients of each alone.
func TestTwoGraphsAlive(t *testing.T) {
	torchrt.Lock()
	torchrt.ManualSeed(5)
	l := newLSTM(t, 16)
	rng := rand.New(rand.NewSource(5))
	x1, x2 := newBatch(t, rng, 6, 20, 1), newBatch(t, rng, 6, 20, 1)
	defer x1.drop()
	defer x2.drop()
	w := ts.MustRandn([]int64{6, 16}, gotch.Float, gotch.CPU)
	defer w.MustDrop()
	alone := func(x *batch) [][]float32 {
		h, err := fusedH(l, x)
		if err != nil {
			t.Fatal(err)
		}
		defer h.MustDrop()
		return backward(t, h, w, params(l))
	}
	g1, g2 := alone(x1), alone(x2)
	h1, err := fusedH(l, x1)
	if err != nil {
		t.Fatal(err)
	}
	defer h1.MustDrop()
	h2, err := fusedH(l, x2)
	if err != nil {
		t.Fatal(err)
	}
	defer h2.MustDrop()
	both := h1.MustAdd(h2, false) // d both / d h1 = d both / d h2 = 1
	defer both.MustDrop()
	g := backward(t, both, w, params(l))
	for i, n := range paramNames {
		sum := make([]float32, len(g1[i]))
		for k := range sum {
			sum[k] = g1[i][k] + g2[i][k]
		}
		if abs, _, _ := diff(g[i], sum); abs > 1e-6 {
			t.Errorf("d %s of both graphs differs from the sum of each by %.2e", n, abs)
		}
	}
}

// TestNoGrad checks that the forward pass runs with gradient recording off,
// attaches no graph, and gives the same h as with recording on.
func TestNoGrad(t *testing.T) {
	torchrt.Lock()
	for _, threads := range []int{1, 2} {
		torchrt.SetThreads(threads)
		l := newLSTM(t, 16)
		x := newBatch(t, rand.New(rand.NewSource(1)), 9, 15, 1)
		defer x.drop()
		h1, err := fusedH(l, x)
		if err != nil {
			t.Fatal(err)
		}
		defer h1.MustDrop()
		err = torchrt.NoGrad(func() error {
			h2, err := fusedH(l, x)
			if err != nil {
				return err
			}
			defer h2.MustDrop()
			if rg, err := h2.RequiresGrad(); err != nil || rg {
				return fmt.Errorf("h requires grad = %v (%v) under no-grad", rg, err)
			}
			a, _ := tensors.Float32s(h1)
			b, _ := tensors.Float32s(h2)
			for i := range a {
				if a[i] != b[i] {
					return fmt.Errorf("threads %d: h[%d] = %v without grad, %v with", threads, i, b[i], a[i])
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	torchrt.SetThreads(1)
}

func TestErrors(t *testing.T) {
	torchrt.Lock()
	l := newLSTM(t, 8)
	good := func() ([]int64, []int64) { return []int64{1, 2, 3, 4, 5, 6}, []int64{3, 2} }
	for _, c := range []struct {
		name    string
		edit    func(codes, lengths []int64) ([]int64, []int64, []int64)
		wantErr string
	}{
		{"length 0", func(c, n []int64) ([]int64, []int64, []int64) { n[1] = 0; return c, n, []int64{2, 3} }, "length 0"},
		{"length past steps", func(c, n []int64) ([]int64, []int64, []int64) { n[0] = 4; return c, n, []int64{2, 3} }, "length 4"},
		{"code past vocab", func(c, n []int64) ([]int64, []int64, []int64) { c[4] = vocab; return c, n, []int64{2, 3} }, "outside the vocabulary"},
		{"negative code", func(c, n []int64) ([]int64, []int64, []int64) { c[0] = -1; return c, n, []int64{2, 3} }, "outside the vocabulary"},
		{"codes 1-D", func(c, n []int64) ([]int64, []int64, []int64) { return c, n, []int64{6} }, "codes must be"},
		{"lengths too short", func(c, n []int64) ([]int64, []int64, []int64) { return c, n[:1], []int64{2, 3} }, "lengths must be"},
	} {
		t.Run(c.name, func(t *testing.T) {
			codes, lengths, shape := c.edit(good())
			ct, err := tensors.FromInt64(codes, shape...)
			if err != nil {
				t.Fatal(err)
			}
			defer ct.MustDrop()
			lt, err := tensors.FromInt64(lengths, int64(len(lengths)))
			if err != nil {
				t.Fatal(err)
			}
			defer lt.MustDrop()
			h, err := Forward(ct, lt, l.WeightIH, l.WeightHH, l.BiasIH, l.BiasHH)
			if err == nil {
				h.MustDrop()
				t.Fatalf("no error, want one containing %q", c.wantErr)
			}
			if !strings.Contains(err.Error(), c.wantErr) || strings.Contains(err.Error(), "frame #") {
				t.Errorf("error %q, want one line containing %q", err, c.wantErr)
			}
		})
	}
	// Weights of the wrong shape: w_ih for another hidden size.
	other := newLSTM(t, 4)
	x := newBatch(t, rand.New(rand.NewSource(2)), 2, 3, 1)
	defer x.drop()
	if h, err := Forward(x.codes, x.lengths, other.WeightIH, l.WeightHH, l.BiasIH, l.BiasHH); err == nil {
		h.MustDrop()
		t.Error("w_ih [16, 128] with w_hh [32, 8]: no error")
	}
}

// BenchmarkFusedVsLibtorch times one forward + backward of batch 32, hidden
// 128, 64..75 characters per row (a length bucket of the tweets), through
// Forward and through layers.LSTM's padded path as models/charlstm runs it.
// GFLOP/s counts the useful matrix arithmetic on the real characters only:
// 2*H*4H flops per character for the recurrent product forward and twice
// that backward (d h_{t-1} and d W_hh). The peaks are 512x512 float
// matmuls in the same process and threads, through libtorch (OpenBLAS) and
// through the oneDNN sgemm Forward uses. OpenBLAS gets one thread: its own
// pool on top of libtorch's threads slows the libtorch LSTM (see
// torchrt.SetBLASThreads).
func BenchmarkFusedVsLibtorch(b *testing.B) {
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) { benchFusedVsLibtorch(b, threads) })
	}
}

func benchFusedVsLibtorch(b *testing.B, threads int) {
	torchrt.Lock()
	prevThreads := torchrt.Threads()
	torchrt.SetThreads(threads)
	torchrt.SetBLASThreads(1)
	defer torchrt.SetThreads(prevThreads)
	const batchSize, steps, hidden = 32, 75, 128
	torchrt.ManualSeed(1)
	l := newLSTM(b, hidden)
	eye := ts.MustEye(vocab, gotch.Float, gotch.CPU)
	defer eye.MustDrop()
	x := newBatch(b, rand.New(rand.NewSource(1)), batchSize, steps, 64)
	defer x.drop()
	w := ts.MustRandn([]int64{batchSize, hidden}, gotch.Float, gotch.CPU)
	defer w.MustDrop()
	// As a training step: forward, backward, gradients zeroed in C++ (not
	// copied out to Go, which costs more than the fused LSTM itself).
	step := func(f func() (*ts.Tensor, error)) time.Duration {
		start := time.Now()
		h, err := f()
		if err != nil {
			b.Fatal(err)
		}
		prod := h.MustMul(w, false)
		loss := prod.MustSum(gotch.Float, true)
		if err := loss.Backward(); err != nil {
			b.Fatal(err)
		}
		loss.MustDrop()
		h.MustDrop()
		for _, p := range params(l) {
			if err := fused.ZeroGrad(p); err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(start)
	}
	fusedStep := func() time.Duration { return step(func() (*ts.Tensor, error) { return fusedH(l, x) }) }
	libStep := func() time.Duration { return step(func() (*ts.Tensor, error) { return libtorchH(l, eye, x) }) }
	fusedStep() // warm up both
	libStep()
	peakLib, peakDNN := matmulPeak()
	b.ResetTimer()
	var tf, tl time.Duration
	for i := 0; i < b.N; i++ {
		tf += fusedStep()
		tl += libStep()
	}
	n := float64(b.N)
	flops := 3 * 2 * float64(hidden*4*hidden) * float64(x.real)
	b.ReportMetric(n/tf.Seconds(), "fused_it/s")
	b.ReportMetric(n/tl.Seconds(), "libtorch_it/s")
	b.ReportMetric(tl.Seconds()/tf.Seconds(), "speedup")
	b.ReportMetric(flops*n/tf.Seconds()/1e9, "fused_GFLOP/s")
	b.ReportMetric(flops*n/tl.Seconds()/1e9, "libtorch_GFLOP/s")
	b.ReportMetric(peakLib, "peak_libtorch_GFLOP/s")
	b.ReportMetric(peakDNN, "peak_onednn_GFLOP/s")
}

// matmulPeak is the best of ten 512x512 float32 products, in GFLOP/s,
// through libtorch's matmul (OpenBLAS) and through the sgemm Forward uses
// (oneDNN's).
func matmulPeak() (libtorch, onednn float64) {
	const n = 512
	a := ts.MustRandn([]int64{n, n}, gotch.Float, gotch.CPU)
	defer a.MustDrop()
	for i := 0; i < 10; i++ {
		start := time.Now()
		c := a.MustMatmul(a, false)
		c.MustDrop()
		libtorch = math.Max(libtorch, 2*n*n*n/time.Since(start).Seconds()/1e9)
	}
	return libtorch, sgemmPeak(n, 10)
}
