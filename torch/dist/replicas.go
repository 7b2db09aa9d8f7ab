package dist

import (
	"fmt"
	"sort"

	"github.com/sugarme/gotch"
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

// Verify fails unless every rank's parameters and buffers equal rank 0's
// bit for bit, comparing a fingerprint of each tensor (its sum and sum of
// squares in float64): the averaged gradients and the broadcast buffers
// keep the replicas identical, and this catches anything that does not.
func (r *Replicas) Verify() error {
	all := append(append([]*ts.Tensor{}, r.params...), r.buffers...)
	mine := make([]float64, 0, 2*len(all))
	for _, t := range all {
		s, q, err := fingerprint(t)
		if err != nil {
			return err
		}
		mine = append(mine, s, q)
	}
	lead, err := ts.OfSlice(mine)
	if err != nil {
		return err
	}
	defer lead.MustDrop()
	if err := r.g.Broadcast(0, lead); err != nil {
		return fmt.Errorf("compare replicas: %w", err)
	}
	want := make([]float64, len(mine))
	if err := lead.CopyData(want, uint(len(want))); err != nil {
		return err
	}
	for i := range mine {
		if mine[i] != want[i] {
			return fmt.Errorf("rank %d's replica differs from rank 0's in tensor %d of %d (%v against %v): the ranks no longer train one model",
				r.g.Rank(), i/2, len(all), mine[i], want[i])
		}
	}
	return nil
}

// fingerprint is t's sum and sum of squares, in float64.
func fingerprint(t *ts.Tensor) (sum, squares float64, err error) {
	d, err := t.Totype(gotch.Double, false)
	if err != nil {
		return 0, 0, err
	}
	defer d.MustDrop()
	s, err := d.Sum(gotch.Double, false)
	if err != nil {
		return 0, 0, err
	}
	defer s.MustDrop()
	sq, err := d.Square(false)
	if err != nil {
		return 0, 0, err
	}
	defer sq.MustDrop()
	q, err := sq.Sum(gotch.Double, true)
	if err != nil {
		return 0, 0, err
	}
	defer q.MustDrop()
	if sum, err = s.Float64Value(nil); err != nil {
		return 0, 0, err
	}
	squares, err = q.Float64Value(nil)
	return sum, squares, err
}
