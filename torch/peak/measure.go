package peak

import (
	"fmt"
	"time"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"torchlab/torch/fused"
	"torchlab/torch/torchrt"
)

// Measured is the fastest float32 product libtorch ran here, in GFLOP/s.
type Measured struct {
	N        int     // the product is [N, N] x [N, N]: 2 N^3 FLOPs
	Threads  int     // libtorch's intra-op threads, and OpenBLAS's during the measurement
	OpenBLAS float64 // at::mm, which libtorch 1.13 hands to the BLAS (OpenBLAS's sgemm here)
	OneDNN   float64 // the same product as a 1x1 convolution, which runs on oneDNN
}

// Best is the larger of the two: the measured peak a workload is a share of.
func (m Measured) Best() float64 { return max(m.OpenBLAS, m.OneDNN) }

// convBatch splits the convolution's N rows into a batch: libtorch 1.13
// sends a 1x1 convolution of batch 1 to its own im2col-free path (OpenBLAS
// again) when it has one thread, and to oneDNN only with a batch of 16 or
// more at any thread count.
const convBatch = 16

// Measure times reps products of two float32 n x n matrices, after one
// untimed product, through at::mm and through oneDNN, and keeps the best of
// each. The oneDNN product is conv2d of a channels-last [16, n, n/16, 1]
// input with an [n, n, 1, 1] weight (n a multiple of 16): rows x in-channels
// times in-channels x out-channels, which oneDNN runs as its 1x1 (brgemm)
// convolution, with a reorder of the weight on every call, as a model's
// convolutions do. It sets OpenBLAS's threads to libtorch's
// (torchrt.Threads) and leaves them so.
func Measure(n, reps int) (Measured, error) {
	if n <= 0 || n%convBatch != 0 || reps <= 0 {
		return Measured{}, fmt.Errorf("peak: size %d (want a positive multiple of %d) and reps %d (want > 0)", n, convBatch, reps)
	}
	m := Measured{N: n, Threads: torchrt.Threads()}
	torchrt.SetBLASThreads(m.Threads)
	flops := 2 * float64(n) * float64(n) * float64(n)

	a, err := ts.Randn([]int64{int64(n), int64(n)}, gotch.Float, gotch.CPU)
	if err != nil {
		return m, fmt.Errorf("peak: %w", err)
	}
	defer a.MustDrop()
	if m.OpenBLAS, err = best(reps, flops, func() (*ts.Tensor, error) { return a.Mm(a, false) }); err != nil {
		return m, fmt.Errorf("peak: at::mm: %w", err)
	}

	rows, err := ts.Randn([]int64{convBatch, int64(n), int64(n / convBatch), 1}, gotch.Float, gotch.CPU)
	if err != nil {
		return m, fmt.Errorf("peak: %w", err)
	}
	defer rows.MustDrop()
	x, err := fused.ChannelsLast(rows)
	if err != nil {
		return m, fmt.Errorf("peak: %w", err)
	}
	defer x.MustDrop()
	w, err := a.View([]int64{int64(n), int64(n), 1, 1}, false)
	if err != nil {
		return m, fmt.Errorf("peak: %w", err)
	}
	defer w.MustDrop()
	one := []int64{1, 1}
	m.OneDNN, err = best(reps, flops, func() (*ts.Tensor, error) {
		return ts.Conv2d(x, w, ts.None, one, []int64{0, 0}, one, 1)
	})
	if err != nil {
		return m, fmt.Errorf("peak: 1x1 convolution: %w", err)
	}
	return m, nil
}

// best runs op once untimed, then reps times, and returns the best rate.
func best(reps int, flops float64, op func() (*ts.Tensor, error)) (float64, error) {
	var top float64
	for i := range reps + 1 {
		start := time.Now()
		out, err := op()
		if err != nil {
			return 0, err
		}
		secs := time.Since(start).Seconds()
		out.MustDrop()
		if i > 0 {
			top = max(top, flops/secs/1e9)
		}
	}
	return top, nil
}
