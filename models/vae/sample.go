package vae

import (
	"fmt"
	"math"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"torchlab/torch/tensors"
)

// DiagGaussian is a Gaussian with a diagonal covariance over the latent
// space, such as the region one class's encoder means occupy.
type DiagGaussian struct {
	Mean []float64 `json:"mean"`
	Std  []float64 `json:"std"`
}

// FitDiagGaussian fits the per-dimension mean and standard deviation of
// rows, n vectors of d values in row-major order (for example the encoder
// means of one class's training images).
func FitDiagGaussian(rows []float32, n, d int) (DiagGaussian, error) {
	if n < 2 || d < 1 || len(rows) != n*d {
		return DiagGaussian{}, fmt.Errorf("fit gaussian: need at least 2 vectors of d >= 1 values, have %d values for n=%d d=%d", len(rows), n, d)
	}
	g := DiagGaussian{Mean: make([]float64, d), Std: make([]float64, d)}
	for i := range n {
		for j := range d {
			g.Mean[j] += float64(rows[i*d+j])
		}
	}
	for j := range d {
		g.Mean[j] /= float64(n)
	}
	for i := range n {
		for j := range d {
			e := float64(rows[i*d+j]) - g.Mean[j]
			g.Std[j] += e * e
		}
	}
	for j := range d {
		g.Std[j] = math.Sqrt(g.Std[j] / float64(n-1))
	}
	return g, nil
}

// Sample draws n latent vectors [n, d] from g with libtorch's generator.
func (g DiagGaussian) Sample(n int64) (*ts.Tensor, error) {
	d := len(g.Mean)
	if d == 0 || len(g.Std) != d {
		return nil, fmt.Errorf("sample gaussian: mean has %d values, std %d", d, len(g.Std))
	}
	mean := make([]float32, d)
	std := make([]float32, d)
	for j := range d {
		mean[j], std[j] = float32(g.Mean[j]), float32(g.Std[j])
	}
	m, err := tensors.FromFloat32(mean, 1, int64(d))
	if err != nil {
		return nil, err
	}
	defer m.MustDrop()
	s, err := tensors.FromFloat32(std, 1, int64(d))
	if err != nil {
		return nil, err
	}
	defer s.MustDrop()
	eps, err := ts.Randn([]int64{n, int64(d)}, gotch.Float, gotch.CPU)
	if err != nil {
		return nil, fmt.Errorf("sample gaussian: %w", err)
	}
	// Each op frees its receiver (del=true), also on failure.
	scaled, err := eps.Mul(s, true)
	if err != nil {
		return nil, fmt.Errorf("sample gaussian: %w", err)
	}
	z, err := scaled.Add(m, true)
	if err != nil {
		return nil, fmt.Errorf("sample gaussian: %w", err)
	}
	return z, nil
}

// OneHot returns [len(classes), k] float rows with a 1 at each class.
func OneHot(classes []int64, k int64) (*ts.Tensor, error) {
	v := make([]float32, int64(len(classes))*k)
	for i, c := range classes {
		if c < 0 || c >= k {
			return nil, fmt.Errorf("one-hot: class %d of example %d outside [0, %d)", c, i, k)
		}
		v[int64(i)*k+c] = 1
	}
	return tensors.FromFloat32(v, int64(len(classes)), k)
}
