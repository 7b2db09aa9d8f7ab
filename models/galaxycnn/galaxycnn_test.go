package galaxycnn

import (
	"runtime"
	"strings"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/torch/optim"
	"torchlab/torch/tensors"
	"torchlab/torch/torchrt"
)

// blobs makes n 16x16 images of noise with a 3x3 square at a place that
// varies; the class (0-3) is its colour: red, green, blue or white. The
// net pools over positions, so the task is one it can learn: what, not
// where.
func blobs(t *testing.T, n int) (*ts.Tensor, *ts.Tensor, []int64) {
	t.Helper()
	x, err := tensors.MulScalar(ts.MustRand([]int64{int64(n), 3, 16, 16}, gotch.Float, gotch.CPU), 0.3, true)
	if err != nil {
		t.Fatal(err)
	}
	one := ts.FloatScalar(1)
	defer runtime.KeepAlive(one) // gotch frees a scalar in a finalizer
	y := make([]int64, n)
	for i := range n {
		y[i] = int64(i % 4)
		r, c := int64(i*7%13), int64(i*5%13)
		ch, nch := y[i], int64(1)
		if y[i] == 3 {
			ch, nch = 0, 3
		}
		patch := x.MustNarrow(0, int64(i), 1, false).MustNarrow(1, ch, nch, true).MustNarrow(2, r, 3, true).MustNarrow(3, c, 3, true)
		patch.MustFill_(one)
		patch.MustDrop()
	}
	var yt *ts.Tensor
	yt, err = tensors.FromInt64(y, int64(n))
	if err != nil {
		t.Fatal(err)
	}
	return x, yt, y
}

// TestLearnsColours trains on a task the architecture can solve and
// expects near-perfect predictions on new images of it.
func TestLearnsColours(t *testing.T) {
	torchrt.Lock()
	torchrt.ManualSeed(1)
	vs := nn.NewVarStore(gotch.CPU)
	net, err := New(vs.Root(), Config{Classes: 4, ImageSize: 16, Widths: []int64{8, 16}, Dropout: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	named, err := tensors.Named(vs)
	if err != nil {
		t.Fatal(err)
	}
	opt, err := optim.New(optim.Config{Name: "adam", LR: 1e-2}, named)
	if err != nil {
		t.Fatal(err)
	}
	x, y, _ := blobs(t, 64)
	for step := range 60 {
		if err := opt.ZeroGrad(); err != nil {
			t.Fatal(err)
		}
		logits, err := net.ForwardT(x, true)
		if err != nil {
			t.Fatal(err)
		}
		loss, err := Loss(logits, y)
		logits.MustDrop()
		if err != nil {
			t.Fatal(err)
		}
		if err := loss.Backward(); err != nil {
			t.Fatal(err)
		}
		if err := opt.Step(); err != nil {
			t.Fatal(err)
		}
		if step%20 == 0 {
			v, _ := tensors.Scalar(loss)
			t.Logf("step %d: loss %.4f", step, v)
		}
		loss.MustDrop()
	}
	testX, _, want := blobs(t, 40)
	var got []int64
	err = torchrt.NoGrad(func() error {
		var err error
		got, err = net.Predict(testX, 16)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	hits := 0
	for i := range want {
		if got[i] == want[i] {
			hits++
		}
	}
	if hits < 36 {
		t.Errorf("%d of %d new images classified right; want >= 36", hits, len(want))
	}
}

func TestRejectsBadInputAndConfig(t *testing.T) {
	torchrt.Lock()
	vs := nn.NewVarStore(gotch.CPU)
	net, err := New(vs.Root(), DefaultConfig(7))
	if err != nil {
		t.Fatal(err)
	}
	x := ts.MustZeros([]int64{2, 3, 32, 32}, gotch.Float, gotch.CPU)
	if _, err := net.ForwardT(x, false); err == nil || !strings.Contains(err.Error(), "64") {
		t.Errorf("32x32 images to a 64x64 net: err = %v, want one naming the wanted shape", err)
	}
	if _, err := New(vs.Root().Sub("b"), Config{Classes: 7, ImageSize: 60, Widths: []int64{8, 8, 8}}); err == nil {
		t.Error("image size 60 with 3 stages accepted")
	}
}
