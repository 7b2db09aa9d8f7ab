package tensors

import (
	"runtime"
	"sync"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

func TestScalarOps(t *testing.T) {
	x, err := FromFloat32([]float32{-2, 0.5, 3}, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer x.MustDrop()
	for _, c := range []struct {
		name string
		op   func(*ts.Tensor, float64, bool) (*ts.Tensor, error)
		v    float64
		want []float32
	}{
		{"add", AddScalar, -1, []float32{-3, -0.5, 2}},
		{"mul", MulScalar, 0.5, []float32{-1, 0.25, 1.5}},
		{"div", DivScalar, 4, []float32{-0.5, 0.125, 0.75}},
		{"clamp-min", ClampMin, 0.25, []float32{0.25, 0.5, 3}},
	} {
		y, err := c.op(x, c.v, false)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got, err := Float32s(y)
		y.MustDrop()
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Fatalf("%s(%v): got %v, want %v", c.name, c.v, got, c.want)
			}
		}
	}
}

// The scalar must outlive the libtorch call even when collections run
// throughout: each result is checked against the number it was given.
func TestScalarOpsUnderGC(t *testing.T) {
	x, err := FromFloat32([]float32{1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer x.MustDrop()
	defer collectContinuously()()
	for i := range 2000 {
		v := float64(i%97) + 0.5
		y, err := MulScalar(x, v, false)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Float32s(y)
		y.MustDrop()
		if err != nil {
			t.Fatal(err)
		}
		if float64(got[0]) != v {
			t.Fatalf("step %d: 1 * %v gave %v", i, v, got[0])
		}
	}
}

// collectContinuously runs the garbage collector, and with it gotch's
// finalizers, in a loop until the returned function is called.
func collectContinuously() (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
				runtime.GC()
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// Gotch's wrappers keep their arguments alive until libtorch returns
// (internal/gotchcompat/keepalive.go): an inline temporary tensor or
// scalar, unreachable from the caller once the wrapper has read its C
// pointer, must not be freed during the call while collections run
// throughout. Without that rewrite of gotch this failed within a few
// iterations (garbage sums, or a crash).
func TestInlineTemporariesSurviveCollections(t *testing.T) {
	defer collectContinuously()()
	const n = 1 << 18
	for i := range 300 {
		a := ts.MustOnes([]int64{n}, gotch.Float, gotch.CPU)
		// Neither the second operand nor the scalar is reachable from
		// here once Add and MulScalar have read their C pointers.
		sum := a.MustAdd(ts.MustOnes([]int64{n}, gotch.Float, gotch.CPU), true).
			MustMulScalar(ts.FloatScalar(0.5), true).MustSum(gotch.Double, true)
		got, err := Scalar(sum)
		sum.MustDrop()
		if err != nil {
			t.Fatal(err)
		}
		if got != n {
			t.Fatalf("step %d: sum of (1+1)*0.5 over %d elements gave %v", i, n, got)
		}
	}
}
