// Package analysis holds the statistics the figures and tables of a
// trained model are made from: linear discriminant analysis of latent
// codes with a symmetric eigensolver for it, principal components, active
// units (on plain Go slices), and the one k-nearest-neighbour classifier.
package analysis

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// LDA is a fitted linear discriminant analysis: Axes[k] is the k-th
// discriminant direction (a vector of D weights), Mean the training mean
// subtracted before projecting.
type LDA struct {
	Axes [][]float64
	Mean []float64
	// Ratio[k] is the between- to within-class variance along Axes[k].
	Ratio []float64
}

// FitLDA fits k discriminant axes to n row-major vectors x of d values
// with integer labels y (Fisher's criterion: the directions that maximise
// between-class over within-class variance). ridge (> 0) is added to the
// within-class scatter's diagonal, relative to its mean diagonal, so that
// unused (constant) dimensions do not make it singular.
func FitLDA(x []float32, y []int64, n, d, k int, ridge float64) (*LDA, error) {
	if n < 2 || d < 1 || len(x) != n*d || len(y) != n {
		return nil, fmt.Errorf("lda: need at least 2 vectors of d >= 1 values and one label each, have %d values and %d labels for n=%d d=%d", len(x), len(y), n, d)
	}
	if k < 1 || k > d {
		return nil, fmt.Errorf("lda: want 1 to %d axes, asked for %d", d, k)
	}
	mean := make([]float64, d)
	classMean := map[int64][]float64{}
	count := map[int64]int{}
	for i := range n {
		m, ok := classMean[y[i]]
		if !ok {
			m = make([]float64, d)
			classMean[y[i]] = m
		}
		count[y[i]]++
		for j := range d {
			v := float64(x[i*d+j])
			mean[j] += v / float64(n)
			m[j] += v
		}
	}
	if len(classMean) < 2 {
		return nil, errors.New("lda: need at least two classes")
	}
	for c, m := range classMean {
		for j := range m {
			m[j] /= float64(count[c])
		}
	}
	sw, sb := square(d), square(d)
	for i := range n {
		m := classMean[y[i]]
		for a := range d {
			da := float64(x[i*d+a]) - m[a]
			for b := range d {
				sw[a][b] += da * (float64(x[i*d+b]) - m[b])
			}
		}
	}
	for c, m := range classMean {
		for a := range d {
			for b := range d {
				sb[a][b] += float64(count[c]) * (m[a] - mean[a]) * (m[b] - mean[b])
			}
		}
	}
	trace := 0.0
	for a := range d {
		trace += sw[a][a]
	}
	eps := ridge * math.Max(trace/float64(d), 1e-12)
	for a := range d {
		sw[a][a] += eps
	}
	// Whiten the within-class scatter: W = V diag(1/sqrt(l)), so that
	// W' Sw W = I; then the axes are W times the top eigenvectors of W' Sb W.
	lw, vw, err := EigenSym(symmetric(sw))
	if err != nil {
		return nil, fmt.Errorf("lda: %w", err)
	}
	w := square(d)
	for a := range d {
		for b := range d {
			w[a][b] = vw[a][b] / math.Sqrt(lw[b])
		}
	}
	m := symmetric(mul(transpose(w), mul(sb, w))) // symmetric but for rounding
	lb, vb, err := EigenSym(m)
	if err != nil {
		return nil, fmt.Errorf("lda: %w", err)
	}
	out := &LDA{Mean: mean}
	for r := range k {
		axis := make([]float64, d)
		for a := range d {
			for b := range d {
				axis[a] += w[a][b] * vb[b][r]
			}
		}
		out.Axes = append(out.Axes, axis)
		out.Ratio = append(out.Ratio, lb[r])
	}
	return out, nil
}

// Project returns the n vectors of x (row-major, d values each) on the
// axes, [n][len(Axes)].
func (l *LDA) Project(x []float32, n int) [][]float64 {
	d := len(l.Mean)
	out := make([][]float64, n)
	for i := range n {
		out[i] = make([]float64, len(l.Axes))
		for k, axis := range l.Axes {
			for j := range d {
				out[i][k] += (float64(x[i*d+j]) - l.Mean[j]) * axis[j]
			}
		}
	}
	return out
}

// EigenSym returns the eigenvalues of the symmetric matrix a in
// decreasing order and the eigenvectors as the columns of v (cyclic
// Jacobi rotations; a is not changed). It fails on a matrix that is not
// square and symmetric, or with a non-finite entry.
func EigenSym(a [][]float64) (values []float64, v [][]float64, err error) {
	d := len(a)
	m := square(d)
	scale := 0.0
	for i := range d {
		if len(a[i]) != d {
			return nil, nil, fmt.Errorf("eigen: row %d has %d values, want %d", i, len(a[i]), d)
		}
		for j := range d {
			if math.IsNaN(a[i][j]) || math.IsInf(a[i][j], 0) {
				return nil, nil, fmt.Errorf("eigen: entry (%d, %d) is %v", i, j, a[i][j])
			}
			scale = math.Max(scale, math.Abs(a[i][j]))
			m[i][j] = a[i][j]
		}
	}
	// Symmetric up to rounding, relative to the largest entry.
	for i := range d {
		for j := range i {
			if math.Abs(a[i][j]-a[j][i]) > 1e-9*scale {
				return nil, nil, fmt.Errorf("eigen: not symmetric at (%d, %d): %g against %g", i, j, a[i][j], a[j][i])
			}
		}
	}
	v = square(d)
	for i := range d {
		v[i][i] = 1
	}
	for sweep := 0; sweep < 100; sweep++ {
		off := 0.0
		for p := range d {
			for q := p + 1; q < d; q++ {
				off += m[p][q] * m[p][q]
			}
		}
		if off < 1e-30 {
			break
		}
		for p := range d {
			for q := p + 1; q < d; q++ {
				if m[p][q] == 0 {
					continue
				}
				theta := (m[q][q] - m[p][p]) / (2 * m[p][q])
				t := math.Copysign(1, theta) / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				c := 1 / math.Sqrt(t*t+1)
				s := t * c
				for r := range d { // columns p, q of m
					mrp, mrq := m[r][p], m[r][q]
					m[r][p], m[r][q] = c*mrp-s*mrq, s*mrp+c*mrq
				}
				for r := range d { // rows p, q of m
					mpr, mqr := m[p][r], m[q][r]
					m[p][r], m[q][r] = c*mpr-s*mqr, s*mpr+c*mqr
				}
				for r := range d {
					vrp, vrq := v[r][p], v[r][q]
					v[r][p], v[r][q] = c*vrp-s*vrq, s*vrp+c*vrq
				}
			}
		}
	}
	order := make([]int, d)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return m[order[i]][order[i]] > m[order[j]][order[j]] })
	values = make([]float64, d)
	sorted := square(d)
	for k, i := range order {
		values[k] = m[i][i]
		for r := range d {
			sorted[r][k] = v[r][i]
		}
	}
	return values, sorted, nil
}

// symmetric returns (a + a')/2.
func symmetric(a [][]float64) [][]float64 {
	out := square(len(a))
	for i := range a {
		for j := range a[i] {
			out[i][j] = (a[i][j] + a[j][i]) / 2
		}
	}
	return out
}

func square(d int) [][]float64 {
	m := make([][]float64, d)
	for i := range m {
		m[i] = make([]float64, d)
	}
	return m
}

func transpose(a [][]float64) [][]float64 {
	t := square(len(a))
	for i := range a {
		for j := range a[i] {
			t[j][i] = a[i][j]
		}
	}
	return t
}

func mul(a, b [][]float64) [][]float64 {
	d := len(a)
	out := square(d)
	for i := range d {
		for k := range d {
			if a[i][k] == 0 {
				continue
			}
			for j := range d {
				out[i][j] += a[i][k] * b[k][j]
			}
		}
	}
	return out
}
