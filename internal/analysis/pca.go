package analysis

import (
	"fmt"
	"math"
)

// PCA2 projects n rows of d values (row-major) onto their first two
// principal components. It returns the two coordinates of every row and
// the fraction of the total variance each component explains. The
// components come from power iteration on the d x d covariance, with the
// first deflated before the second; d is small (the latent size).
func PCA2(rows []float32, n, d int) (x, y []float64, frac [2]float64, err error) {
	if n < 2 || d < 2 || len(rows) != n*d {
		return nil, nil, frac, fmt.Errorf("pca: need at least 2 rows of at least 2 values, have %d values for %dx%d", len(rows), n, d)
	}
	mean := make([]float64, d)
	for i := range n {
		for j := range d {
			mean[j] += float64(rows[i*d+j])
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	cov := make([]float64, d*d)
	c := make([]float64, d)
	for i := range n {
		for j := range d {
			c[j] = float64(rows[i*d+j]) - mean[j]
		}
		for a := range d {
			for b := range d {
				cov[a*d+b] += c[a] * c[b]
			}
		}
	}
	trace := 0.0
	for a := range d {
		trace += cov[a*d+a]
	}
	if trace == 0 {
		return nil, nil, frac, fmt.Errorf("pca: all rows are equal")
	}
	var comps [2][]float64
	for k := range 2 {
		v, lambda := powerIteration(cov, d)
		comps[k], frac[k] = v, lambda/trace
		for a := range d { // deflate: cov -= lambda v v^T
			for b := range d {
				cov[a*d+b] -= lambda * v[a] * v[b]
			}
		}
	}
	x, y = make([]float64, n), make([]float64, n)
	for i := range n {
		for j := range d {
			cj := float64(rows[i*d+j]) - mean[j]
			x[i] += cj * comps[0][j]
			y[i] += cj * comps[1][j]
		}
	}
	return x, y, frac, nil
}

// powerIteration returns the dominant unit eigenvector of a symmetric
// positive semi-definite d x d matrix and its eigenvalue.
func powerIteration(m []float64, d int) ([]float64, float64) {
	v := make([]float64, d)
	for i := range v {
		v[i] = 1 / math.Sqrt(float64(d)) * (1 + 0.01*float64(i)) // not orthogonal to any axis
	}
	w := make([]float64, d)
	lambda := 0.0
	for range 500 {
		norm := 0.0
		for a := range d {
			w[a] = 0
			for b := range d {
				w[a] += m[a*d+b] * v[b]
			}
			norm += w[a] * w[a]
		}
		norm = math.Sqrt(norm)
		if norm == 0 {
			return v, 0
		}
		delta := 0.0
		for a := range d {
			w[a] /= norm
			delta += math.Abs(w[a] - v[a])
		}
		copy(v, w)
		lambda = norm
		if delta < 1e-12 {
			break
		}
	}
	return v, lambda
}
