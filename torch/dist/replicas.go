package dist

import (
	"fmt"
	"sort"

	"github.com/sugarme/gotch/ts"
)

// Replicas keeps one model's copies on the ranks identical, as PyTorch's
// DistributedDataParallel does: at the start every rank takes rank 0's
// parameters and buffers; after each backward the gradients are averaged
// (so every rank makes the same update); after each update rank 0's
// buffers (BatchNorm's running statistics) are copied to the others. Each
// rank's forward normalises with its own batch's statistics (no
// SyncBatchNorm).
type Replicas struct {
	g       *Group
	params  []*ts.Tensor // requires grad, in name order
	buffers []*ts.Tensor // the rest, in name order
}

// Replicate starts replicas of the model whose variables are vars (name ->
// tensor, every parameter and buffer; torch/tensors.Named): it broadcasts
// rank 0's values to every rank. The names must be the same on every rank.
func Replicate(g *Group, vars map[string]*ts.Tensor) (*Replicas, error) {
	names := make([]string, 0, len(vars))
	for n := range vars {
		names = append(names, n)
	}
	sort.Strings(names)
	r := &Replicas{g: g}
	for _, n := range names {
		t := vars[n]
		rg, err := t.RequiresGrad()
		if err != nil {
			return nil, fmt.Errorf("replicate %s: %w", n, err)
		}
		if rg {
			r.params = append(r.params, t)
		} else {
			r.buffers = append(r.buffers, t)
		}
	}
	if err := g.Broadcast(0, append(append([]*ts.Tensor{}, r.params...), r.buffers...)...); err != nil {
		return nil, fmt.Errorf("copy rank 0's weights to every rank: %w", err)
	}
	return r, nil
}

// BeforeUpdate averages the gradients over the ranks (optim.Sync).
func (r *Replicas) BeforeUpdate() error { return r.g.AverageGrads(r.params) }

// AfterUpdate copies rank 0's buffers to the other ranks (optim.Sync).
func (r *Replicas) AfterUpdate() error {
	if len(r.buffers) == 0 {
		return nil
	}
	return r.g.Broadcast(0, r.buffers...)
}
