package analysis

import (
	"math"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"torchlab/torch/tensors"
)

func TestPCA(t *testing.T) {
	// Points on the line y = 2x (plus a tiny third dimension): PC 1 holds
	// almost all the variance.
	var rows []float32
	for i := range 20 {
		x := float32(i - 10)
		rows = append(rows, x, 2*x, float32(i%2)*0.01)
	}
	px, _, frac, err := PCA2(rows, 20, 3)
	if err != nil {
		t.Fatal(err)
	}
	if frac[0] < 0.999 {
		t.Errorf("PC 1 explains %.4f, want > 0.999", frac[0])
	}
	// The projection on PC 1 is the centred x (mean -0.5) times sqrt(5), up to sign.
	if math.Abs(math.Abs(px[0])-9.5*math.Sqrt(5)) > 1e-3 {
		t.Errorf("projection of the first point %v, want +-%v", px[0], 9.5*math.Sqrt(5))
	}
	if _, _, _, err := PCA2(rows[:3], 1, 3); err == nil {
		t.Error("PCA of one row: want an error")
	}
}

// TestActiveUnits: of three dimensions, one varies with variance 1, one
// with variance 0.0025 (below Burda et al.'s 0.01) and one is constant.
func TestActiveUnits(t *testing.T) {
	const n = 400
	mu := make([]float32, 3*n)
	for i := range n {
		sign := float32(1 - 2*(i%2)) // +1, -1, ...: mean 0, variance 1
		mu[3*i], mu[3*i+1], mu[3*i+2] = sign, 0.05*sign, 0.7
	}
	if got := ActiveUnits(mu, n, 3, ActiveThreshold); got != 1 {
		t.Errorf("active units %d, want 1", got)
	}
	if got := ActiveUnits(mu, n, 3, 0.001); got != 2 {
		t.Errorf("at threshold 0.001: %d active, want 2", got)
	}
}

// TestKNN: three points per class at +-3 on one axis; queries near each
// side take its class. k beyond the training rows is cut to them (6):
// three votes each, and the class whose points are nearer reaches three
// first.
func TestKNN(t *testing.T) {
	train, err := tensors.FromFloat32([]float32{-3, -3.1, -2.9, 3, 3.1, 2.9}, 6, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer train.MustDrop()
	classes := []int64{0, 0, 0, 1, 1, 1}
	query, err := tensors.FromFloat32([]float32{-2.5, 2.5, 2.95}, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer query.MustDrop()
	for _, tt := range []struct {
		k    int
		want []int64
	}{{1, []int64{0, 1, 1}}, {3, []int64{0, 1, 1}}, {10, []int64{0, 1, 1}}} {
		got, err := KNN(train, classes, query, tt.k)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || got[0] != tt.want[0] || got[1] != tt.want[1] || got[2] != tt.want[2] {
			t.Errorf("k %d: %v, want %v", tt.k, got, tt.want)
		}
	}
	if acc := Accuracy([]int64{0, 1, 1}, []int64{0, 1, 0}); math.Abs(acc-2.0/3) > 1e-15 {
		t.Errorf("Accuracy = %v, want 2/3", acc)
	}
	bad, err := ts.Zeros([]int64{2, 3}, gotch.Float, gotch.CPU)
	if err != nil {
		t.Fatal(err)
	}
	defer bad.MustDrop()
	if _, err := KNN(train, classes, bad, 3); err == nil {
		t.Error("a query of another width: want an error")
	}
}
