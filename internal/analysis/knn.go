package analysis

import (
	"fmt"

	"github.com/sugarme/gotch/ts"

	"torchlab/torch/tensors"
)

// knnBlock is how many query rows KNN measures at once: their distances
// to every training row are one [knnBlock, N] tensor.
const knnBlock = 128

// KNN is the one k-nearest-neighbour classifier of the analyses: each row
// of query [M, D] gets the class (from trainY) most of its k nearest rows
// of train [N, D] have, by Euclidean distance; of classes with as many
// votes, the one that reached that count first, going out from the
// nearest neighbour, wins. k is cut to N. The distances come from
// libtorch (cdist): pixel rows are too wide for a loop in Go.
func KNN(train *ts.Tensor, trainY []int64, query *ts.Tensor, k int) ([]int64, error) {
	ns, err := train.Size()
	if err != nil {
		return nil, fmt.Errorf("knn: %w", err)
	}
	qs, err := query.Size()
	if err != nil {
		return nil, fmt.Errorf("knn: %w", err)
	}
	if len(ns) != 2 || len(qs) != 2 || ns[1] != qs[1] || int(ns[0]) != len(trainY) || ns[0] == 0 || k < 1 {
		return nil, fmt.Errorf("knn: train %v with %d classes, query %v, k %d", ns, len(trainY), qs, k)
	}
	k = min(k, int(ns[0]))
	pred := make([]int64, 0, qs[0])
	for start := int64(0); start < qs[0]; start += knnBlock {
		nn, err := nearest(train, query, start, min(knnBlock, qs[0]-start), k)
		if err != nil {
			return nil, fmt.Errorf("knn: %w", err)
		}
		for i := 0; i < len(nn); i += k {
			pred = append(pred, vote(nn[i:i+k], trainY))
		}
	}
	return pred, nil
}

// nearest returns, for each of the size query rows from start, the indices
// of its k nearest training rows, nearest first (row-major [size, k]).
func nearest(train, query *ts.Tensor, start, size int64, k int) ([]int64, error) {
	q, err := query.Narrow(0, start, size, false) // [size, D]
	if err != nil {
		return nil, err
	}
	defer q.MustDrop()
	dist, err := ts.Cdist(q, train, 2, nil) // [size, N]
	if err != nil {
		return nil, err
	}
	defer dist.MustDrop()
	vals, idx, err := dist.Topk(int64(k), 1, false, true, false) // [size, k], nearest first
	if err != nil {
		return nil, err
	}
	vals.MustDrop()
	defer idx.MustDrop()
	return tensors.Int64s(idx)
}

// vote is the class most of the neighbours (nearest first) have; of
// classes with as many votes, the one that reached that count first.
func vote(neighbours []int64, classes []int64) int64 {
	votes := map[int64]int{}
	best, bestVotes := int64(-1), 0
	for _, n := range neighbours {
		c := classes[n]
		votes[c]++
		if votes[c] > bestVotes {
			best, bestVotes = c, votes[c]
		}
	}
	return best
}

// Accuracy is the share of pred equal to want (NaN for none).
func Accuracy(pred, want []int64) float64 {
	hits := 0
	for i := range want {
		if i < len(pred) && pred[i] == want[i] {
			hits++
		}
	}
	return float64(hits) / float64(len(want))
}
