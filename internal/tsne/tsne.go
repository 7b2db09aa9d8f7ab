// Package tsne embeds points in two dimensions with exact t-SNE (van der
// Maaten & Hinton 2008), for figures of a latent space: neighbours in the
// input stay neighbours in the picture, so classes that the latent space
// separates show as separate groups, which a linear projection such as
// PCA can hide.
//
// It is the exact O(N^2)-per-iteration method in plain Go: about a second
// per 100 iterations at N = 1,500 on one core, fine for the figure's
// sample of points; Barnes-Hut would be the next step for tens of
// thousands.
package tsne

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Options of an embedding. Zero values take the usual defaults:
// perplexity 30, 1,000 iterations, learning rate max(N/12, 50) (Belkina et
// al. 2019), early exaggeration 12 for the first 250 iterations, momentum
// 0.5 then 0.8.
type Options struct {
	Perplexity   float64
	Iterations   int
	LearningRate float64
	Seed         uint64 // of the initial positions
}

func (o Options) withDefaults(n int) Options {
	if o.Perplexity == 0 {
		o.Perplexity = 30
	}
	if o.Iterations == 0 {
		o.Iterations = 1000
	}
	if o.LearningRate == 0 {
		o.LearningRate = math.Max(float64(n)/12, 50)
	}
	return o
}

// Embed returns the 2-D embedding, [n*2] row-major, of n points of d
// values each (rows row-major).
func Embed(rows []float32, n, d int, opt Options) ([]float64, error) {
	opt = opt.withDefaults(n)
	if n < 4 || d < 1 || len(rows) != n*d {
		return nil, fmt.Errorf("tsne: need at least 4 points of d >= 1 values, have %d values for n=%d d=%d", len(rows), n, d)
	}
	if !(opt.Perplexity >= 2 && opt.Perplexity <= float64(n-1)/3) || opt.Iterations < 1 || !(opt.LearningRate > 0) {
		return nil, fmt.Errorf("tsne: perplexity %g must be in [2, (n-1)/3 = %.1f]; iterations and learning rate positive", opt.Perplexity, float64(n-1)/3)
	}
	p := Affinities(sqDistances(rows, n, d), n, opt.Perplexity)
	return descend(p, n, opt), nil
}

// sqDistances is ||x_i - x_j||^2, [n*n].
func sqDistances(rows []float32, n, d int) []float64 {
	out := make([]float64, n*n)
	for i := range n {
		for j := i + 1; j < n; j++ {
			s := 0.0
			for k := range d {
				e := float64(rows[i*d+k]) - float64(rows[j*d+k])
				s += e * e
			}
			out[i*n+j], out[j*n+i] = s, s
		}
	}
	return out
}

// Affinities returns P [n*n], the symmetrised input affinities
// (P_j|i + P_i|j) / 2n, where P_.|i is a Gaussian over the other points
// whose precision is found by bisection so that its perplexity,
// exp(entropy), is the one asked for.
func Affinities(d2 []float64, n int, perplexity float64) []float64 {
	cond := conditional(d2, n, perplexity)
	p := make([]float64, n*n)
	for i := range n {
		for j := range n {
			p[i*n+j] = math.Max((cond[i*n+j]+cond[j*n+i])/(2*float64(n)), 1e-12)
		}
	}
	return p
}

// conditional returns P_j|i [n*n]: row i is a distribution over j != i.
func conditional(d2 []float64, n int, perplexity float64) []float64 {
	cond := make([]float64, n*n)
	target := math.Log(perplexity)
	for i := range n {
		row := cond[i*n : (i+1)*n]
		dist := d2[i*n : (i+1)*n]
		lo, hi, beta := 0.0, math.Inf(1), 1.0
		for range 100 {
			h := gaussianRow(row, dist, i, beta)
			if math.Abs(h-target) < 1e-6 {
				break
			}
			if h > target { // too flat: sharpen
				lo = beta
				if math.IsInf(hi, 1) {
					beta *= 2
				} else {
					beta = (beta + hi) / 2
				}
			} else {
				hi = beta
				beta = (beta + lo) / 2
			}
		}
	}
	return cond
}

// gaussianRow fills row with exp(-beta d_j) normalised over j != i and
// returns its entropy in nats. Distances are taken relative to the row's
// nearest neighbour, which changes nothing after normalising but keeps
// exp from underflowing.
func gaussianRow(row, dist []float64, i int, beta float64) float64 {
	nearest := math.Inf(1)
	for j, v := range dist {
		if j != i && v < nearest {
			nearest = v
		}
	}
	sum := 0.0
	for j, v := range dist {
		if j == i {
			row[j] = 0
			continue
		}
		row[j] = math.Exp(-beta * (v - nearest))
		sum += row[j]
	}
	h := 0.0
	for j := range row {
		if row[j] == 0 {
			continue
		}
		row[j] /= sum
		h -= row[j] * math.Log(row[j])
	}
	return h
}

// descend minimises KL(P || Q) over the embedding by gradient descent with
// momentum and per-coordinate gains, as the reference implementation does.
func descend(p []float64, n int, opt Options) []float64 {
	rng := rand.New(rand.NewPCG(opt.Seed, 7))
	y := make([]float64, 2*n)
	for i := range y {
		y[i] = 1e-4 * rng.NormFloat64()
	}
	update := make([]float64, 2*n)
	gains := make([]float64, 2*n)
	for i := range gains {
		gains[i] = 1
	}
	grad := make([]float64, 2*n)
	w := make([]float64, n*n)
	const exaggerated = 250
	for it := range opt.Iterations {
		exag, momentum := 1.0, 0.8
		if it < exaggerated {
			exag, momentum = 12, 0.5
		}
		gradient(p, y, w, grad, n, exag)
		for k := range y {
			if (grad[k] > 0) == (update[k] > 0) {
				gains[k] = math.Max(gains[k]*0.8, 0.01)
			} else {
				gains[k] += 0.2
			}
			update[k] = momentum*update[k] - opt.LearningRate*gains[k]*grad[k]
			y[k] += update[k]
		}
	}
	return y
}

// gradient writes dC/dy = 4 sum_j (exag*p_ij - q_ij) w_ij (y_i - y_j) into
// grad, with w_ij = 1/(1 + ||y_i - y_j||^2) and q = w / sum(w).
func gradient(p, y, w, grad []float64, n int, exag float64) {
	sum := 0.0
	for i := range n {
		w[i*n+i] = 0
		for j := i + 1; j < n; j++ {
			dx, dy := y[2*i]-y[2*j], y[2*i+1]-y[2*j+1]
			v := 1 / (1 + dx*dx + dy*dy)
			w[i*n+j], w[j*n+i] = v, v
			sum += 2 * v
		}
	}
	for i := range n {
		gx, gy := 0.0, 0.0
		for j := range n {
			v := w[i*n+j]
			m := (exag*p[i*n+j] - v/sum) * v
			gx += m * (y[2*i] - y[2*j])
			gy += m * (y[2*i+1] - y[2*j+1])
		}
		grad[2*i], grad[2*i+1] = 4*gx, 4*gy
	}
}
