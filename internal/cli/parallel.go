package cli

import (
	"fmt"
	"io"
	"log"
	"os"

	"github.com/sugarme/gotch/ts"

	"torchlab/internal/train"
	"torchlab/torch/dist"
	"torchlab/torch/fused"
	"torchlab/torch/optim"
)

// Parallel is a training command's place in a data-parallel run: the
// process group that the environment describes (torchlab-run, torchrun or
// the variables set by hand; see torch/dist). Its methods work on a nil
// *Parallel too, as a run of one process: Lead is true, Shard and Share
// take everything, Sum returns its input.
type Parallel struct {
	group   *dist.Group
	reps    *dist.Replicas // set by Replicate
	scratch string         // a rank > 0's private --out
	quiet   bool           // a rank > 0 without --log-all-ranks: no log lines
}

// JoinGroup joins the group when WORLD_SIZE is set and returns nil when it
// is not. Rank 0 alone reads the checkpoint and writes metrics, figures and
// checkpoints: on the other ranks --out becomes a private scratch folder
// (removed by Leave) and --resume is off; Replicate gives them rank 0's
// state. They log nothing unless --log-all-ranks (their errors still show).
func (c *Common) JoinGroup() (*Parallel, error) {
	cfg, ok, err := dist.FromEnv(nil)
	if err != nil || !ok {
		return nil, err
	}
	cfg.Timeout = c.DistTimeout
	g, err := dist.Join(cfg)
	if err != nil {
		return nil, err
	}
	p := &Parallel{group: g}
	if g.Rank() > 0 {
		if p.scratch, err = os.MkdirTemp("", fmt.Sprintf("torchlab-rank%d-", g.Rank())); err != nil {
			g.Close()
			return nil, err
		}
		c.Out, c.Resume = p.scratch, false
		log.SetPrefix(fmt.Sprintf("%srank %d: ", log.Prefix(), g.Rank()))
		if p.quiet = !c.LogAllRanks; p.quiet {
			log.SetOutput(io.Discard)
		}
	} else {
		log.Printf("rank 0 of %d: data-parallel run, rendezvous at %s:%d", g.World(), cfg.Addr, cfg.Port)
	}
	return p, nil
}

// Log is w for the ranks that log (rank 0, every rank with
// --log-all-ranks) and io.Discard for the others.
func (p *Parallel) Log(w io.Writer) io.Writer {
	if p != nil && p.quiet {
		return io.Discard
	}
	return w
}

// Leave leaves the group and removes a scratch --out. Rank 0 logs what
// the collectives cost.
func (p *Parallel) Leave() {
	if p == nil {
		return
	}
	if s := p.group.Stats(); p.Lead() && s.Calls > 0 {
		log.Printf("rank 0 of %d: %d collectives carried %.1f MB in %.1f s, %.1f%% of the %.1f s since the ranks joined",
			p.group.World(), s.Calls, float64(s.Bytes)/1e6, s.Seconds, 100*s.Seconds/s.Since.Seconds(), s.Since.Seconds())
	}
	p.group.Close()
	if p.scratch != "" {
		os.RemoveAll(p.scratch)
	}
}

// Lead is true on the rank that writes the results (rank 0).
func (p *Parallel) Lead() bool { return p == nil || p.group.Rank() == 0 }

// World is the number of ranks (1 without a group).
func (p *Parallel) World() int {
	if p == nil {
		return 1
	}
	return p.group.World()
}

// Ranks is the group as the training loop needs it (nil without a group).
func (p *Parallel) Ranks() train.Ranks {
	if p == nil {
		return nil
	}
	return p
}

// Rank is this process's rank (train.Ranks).
func (p *Parallel) Rank() int { return p.group.Rank() }

// AnyTrue is true on every rank when v is on any (train.Ranks).
func (p *Parallel) AnyTrue(v bool) (bool, error) { return p.group.AnyTrue(v) }

// Sync fails unless every rank holds the same weights and buffers as
// rank 0, bit for bit, and then gives every rank rank 0's random
// generator state (train.Ranks; the loop calls it after evaluations):
// rank 0 alone draws the noise of figures, and the ranks must draw the
// next batch's noise alike (ShardRows).
func (p *Parallel) Sync() error {
	if p.reps != nil {
		if err := p.reps.Verify(); err != nil {
			return err
		}
	}
	return p.syncRNG()
}

// syncRNG gives every rank rank 0's random generator state.
func (p *Parallel) syncRNG() error {
	rng, err := fused.RNGState()
	if err != nil {
		return err
	}
	defer rng.MustDrop()
	if err := p.group.Broadcast(0, rng); err != nil {
		return fmt.Errorf("copy rank 0's random generator: %w", err)
	}
	return fused.SetRNGState(rng)
}

// Replicate makes every rank start from rank 0's state: the model's
// variables (vars: parameters and buffers), the optimiser's state and the
// step to start at (rank 0's, from its checkpoint). From then on opt
// averages the gradients over the ranks before each update and shares
// rank 0's buffers after it. It returns the start step.
func (p *Parallel) Replicate(vars map[string]*ts.Tensor, opt *optim.Optimizer, start int) (int, error) {
	if p == nil {
		return start, nil
	}
	reps, err := dist.Replicate(p.group, vars)
	if err != nil {
		return 0, err
	}
	// The same generator state everywhere (rank 0's, from its checkpoint):
	// the ranks draw a batch's noise together (ShardRows).
	if err := p.syncRNG(); err != nil {
		return 0, err
	}
	state := opt.Buffers()
	if len(state) > 0 {
		if err := p.group.Broadcast(0, state...); err != nil {
			return 0, fmt.Errorf("copy rank 0's optimiser state: %w", err)
		}
	}
	counts := opt.Counts()
	lead := []float64{float64(start), float64(opt.Steps())}
	for _, c := range counts {
		lead = append(lead, float64(c))
	}
	steps, err := p.group.SumFloat64s(p.lead(lead...))
	if err != nil {
		return 0, fmt.Errorf("agree on the start step: %w", err)
	}
	for i := range counts {
		counts[i] = int64(steps[2+i])
	}
	if err := opt.SetSteps(int64(steps[1]), counts); err != nil {
		return 0, err
	}
	opt.SetSync(reps)
	p.reps = reps
	return int(steps[0]), nil
}

// lead returns v on rank 0 and zeros elsewhere, so that a sum gives every
// rank rank 0's values.
func (p *Parallel) lead(v ...float64) []float64 {
	if p.group.Rank() == 0 {
		return v
	}
	return make([]float64, len(v))
}

// Shard is p's rank's part of a global batch (dist.ShardBatch); without a
// group, all of it.
func Shard[T any](p *Parallel, batch []T) []T {
	if p == nil {
		return batch
	}
	return dist.ShardBatch(batch, p.group.Rank(), p.group.World())
}

// Share is this rank's contiguous part [start, end) of n evaluation items.
func (p *Parallel) Share(n int) (start, end int) {
	if p == nil {
		return 0, n
	}
	return dist.Share(n, p.group.Rank(), p.group.World())
}

// Sum adds v element-wise over the ranks (sums of losses and counts of an
// evaluation that each rank ran on its Share).
func (p *Parallel) Sum(v ...float64) ([]float64, error) {
	if p == nil {
		return v, nil
	}
	return p.group.SumFloat64s(v)
}

// ShardRows is this rank's rows of x, a tensor with one row per item of a
// global batch, taken as Shard takes the batch's items: random numbers
// drawn for the whole batch (every rank's generator, seeded alike, draws
// the same) and then shared out make a run of N ranks draw what one
// process would. Without a group it returns x itself.
func (p *Parallel) ShardRows(x *ts.Tensor) (*ts.Tensor, error) {
	if p == nil {
		return x, nil
	}
	n, err := x.Size()
	if err != nil {
		return nil, err
	}
	pos := make([]int64, n[0])
	for i := range pos {
		pos[i] = int64(i)
	}
	it, err := ts.OfSlice(Shard(p, pos))
	if err != nil {
		return nil, err
	}
	defer it.MustDrop()
	return x.IndexSelect(0, it, false)
}
