package tsne

import (
	"math"
	"math/rand/v2"
	"testing"
)

// clusters draws k Gaussian clusters of m points each in d dimensions,
// centres 10 apart along the axes, unit spread.
func clusters(k, m, d int) ([]float32, []int) {
	rng := rand.New(rand.NewPCG(1, 2))
	var rows []float32
	var labels []int
	for c := range k {
		for range m {
			for j := range d {
				v := rng.NormFloat64()
				if j == c {
					v += 10
				}
				rows = append(rows, float32(v))
			}
			labels = append(labels, c)
		}
	}
	return rows, labels
}

func TestRowsHaveThePerplexityAsked(t *testing.T) {
	rows, _ := clusters(3, 30, 5)
	n := 90
	cond := conditional(sqDistances(rows, n, 5), n, 12)
	for i := range n {
		h, sum := 0.0, 0.0
		for j, v := range cond[i*n : (i+1)*n] {
			if j == i && v != 0 {
				t.Fatalf("row %d gives itself weight %v", i, v)
			}
			sum += v
			if v > 0 {
				h -= v * math.Log(v)
			}
		}
		if math.Abs(sum-1) > 1e-9 || math.Abs(math.Exp(h)-12) > 1e-3 {
			t.Fatalf("row %d: sum %v, perplexity %v; want 1 and 12", i, sum, math.Exp(h))
		}
	}
}

// TestKeepsClustersApart: four well-separated clusters in 8 dimensions
// must come out as four groups: every point's nearest embedded neighbour
// is in its own cluster, and the clusters' centres are further apart than
// their spread.
func TestKeepsClustersApart(t *testing.T) {
	const k, m, d = 4, 40, 8
	rows, labels := clusters(k, m, d)
	y, err := Embed(rows, k*m, d, Options{Perplexity: 15, Iterations: 500, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	n := k * m
	wrong := 0
	for i := range n {
		best, bj := math.Inf(1), -1
		for j := range n {
			if j == i {
				continue
			}
			dx, dy := y[2*i]-y[2*j], y[2*i+1]-y[2*j+1]
			if dd := dx*dx + dy*dy; dd < best {
				best, bj = dd, j
			}
		}
		if labels[bj] != labels[i] {
			wrong++
		}
	}
	if wrong > 0 {
		t.Errorf("%d of %d points have their nearest embedded neighbour in another cluster", wrong, n)
	}
	var cx, cy [k]float64
	for i := range n {
		cx[labels[i]] += y[2*i] / m
		cy[labels[i]] += y[2*i+1] / m
	}
	spread := 0.0
	for i := range n {
		c := labels[i]
		spread = math.Max(spread, math.Hypot(y[2*i]-cx[c], y[2*i+1]-cy[c]))
	}
	for a := range k {
		for b := a + 1; b < k; b++ {
			if dist := math.Hypot(cx[a]-cx[b], cy[a]-cy[b]); dist < 2*spread {
				t.Errorf("clusters %d and %d: centres %.2f apart, widest cluster radius %.2f", a, b, dist, spread)
			}
		}
	}
}

func TestRejectsBadInput(t *testing.T) {
	if _, err := Embed([]float32{1, 2, 3}, 4, 1, Options{}); err == nil {
		t.Error("3 values for 4 points accepted")
	}
	rows, _ := clusters(2, 10, 2)
	if _, err := Embed(rows, 20, 2, Options{Perplexity: 30}); err == nil {
		t.Error("perplexity 30 for 20 points accepted")
	}
}
