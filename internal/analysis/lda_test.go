package analysis

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestEigenSym(t *testing.T) {
	a := [][]float64{{4, 1, 0}, {1, 3, 1}, {0, 1, 2}}
	values, v, err := EigenSym(a)
	if err != nil {
		t.Fatal(err)
	}
	// The trace and each A v = l v must hold; values decrease.
	if math.Abs(values[0]+values[1]+values[2]-9) > 1e-9 || !(values[0] >= values[1] && values[1] >= values[2]) {
		t.Errorf("eigenvalues %v: want trace 9, decreasing", values)
	}
	for k := range 3 {
		for i := range 3 {
			av := 0.0
			for j := range 3 {
				av += a[i][j] * v[j][k]
			}
			if d := math.Abs(av - values[k]*v[i][k]); !(d < 1e-9) {
				t.Errorf("A v_%d differs from l v_%d by %g at row %d", k, k, d, i)
			}
		}
	}
	if _, _, err := EigenSym([][]float64{{1, 2}, {0, 1}}); err == nil {
		t.Error("a non-symmetric matrix: want an error")
	}
	if _, _, err := EigenSym([][]float64{{math.NaN(), 0}, {0, 1}}); err == nil {
		t.Error("a NaN entry: want an error")
	}
}

// TestLDAFindsTheSeparatingDirection: three classes differ only along
// (1, 1, 0, 0, 0)/sqrt 2, with noise of the same size in every dimension
// and a larger one in dimension 4. The first axis must point along the
// class direction, which PCA would not (it picks dimension 4).
func TestLDAFindsTheSeparatingDirection(t *testing.T) {
	const n, d = 600, 5
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, n*d)
	y := make([]int64, n)
	for i := range n {
		c := int64(i % 3)
		y[i] = c
		for j := range d {
			x[i*d+j] = float32(rng.NormFloat64())
		}
		x[i*d+4] *= 5
		shift := float32(c-1) * 2 / float32(math.Sqrt2)
		x[i*d], x[i*d+1] = x[i*d]+shift, x[i*d+1]+shift
	}
	l, err := FitLDA(x, y, n, d, 2, 1e-6)
	if err != nil {
		t.Fatal(err)
	}
	a := l.Axes[0]
	norm := 0.0
	for _, v := range a {
		norm += v * v
	}
	cos := (a[0] + a[1]) / math.Sqrt2 / math.Sqrt(norm)
	if !(math.Abs(cos) > 0.97) {
		t.Errorf("first axis %v is at cos %.3f to the class direction, want |cos| > 0.97", a, cos)
	}
	if !(l.Ratio[0] > 10*l.Ratio[1]) {
		t.Errorf("discriminant ratios %v: the first should dominate (one direction separates the classes)", l.Ratio)
	}
	p := l.Project(x, n)
	if len(p) != n || len(p[0]) != 2 {
		t.Fatalf("projection shape %d x %d", len(p), len(p[0]))
	}
	if _, err := FitLDA(x, make([]int64, n), n, d, 2, 1e-6); err == nil {
		t.Error("one class: want an error")
	}
}

// TestEigenSymRounding: a matrix symmetric but for rounding in a small
// entry (relative to the largest) is accepted, as the products in FitLDA
// make them; a real asymmetry is not.
func TestEigenSymRounding(t *testing.T) {
	if _, _, err := EigenSym([][]float64{{1e6, 1e-3}, {1e-3 + 1e-7, 2}}); err != nil {
		t.Errorf("rounding-sized asymmetry refused: %v", err)
	}
	if _, _, err := EigenSym([][]float64{{1e6, 1e-3}, {5, 2}}); err == nil {
		t.Error("an asymmetry of 5 in a matrix of 1e6: want an error")
	}
}
