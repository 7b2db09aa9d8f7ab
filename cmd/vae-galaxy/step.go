package main

import (
	"fmt"
	"math"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"torchlab/internal/cli"
	"torchlab/models/vae"
	"torchlab/torch/tensors"
	"torchlab/torch/torchrt"
)

// stepStats are one step's (or one evaluation's) batch-averaged losses.
type stepStats struct {
	loss, recon, kl float64
	skipped         bool      // the divergence guard dropped the step's update
	klGroups        []float64 // evaluations: the KL of each latent group (vae.Config.LatentGroups)
}

// trainStep runs one optimiser step on the training images at idx (in a
// data-parallel run, this rank's share of them); every tensor it makes is
// freed when it returns. The returned losses are the whole batch's.
func (t *trainer) trainStep(step int, idx []int64, beta float64) (stepStats, error) {
	x, cond, err := t.data.Batch(t.data.TrainX, t.data.TrainCond, cli.Shard(t.par, idx))
	if err != nil {
		return stepStats{}, err
	}
	defer x.MustDrop()
	if cond != nil {
		defer cond.MustDrop()
	}
	if err := t.sess.Opt.ZeroGrad(); err != nil {
		return stepStats{}, err
	}
	var eps *ts.Tensor // nil: Reparameterize draws it
	if t.par.World() > 1 {
		// The whole batch's noise, as one process draws it, then this
		// rank's rows: N ranks train as one process does.
		all, err := ts.Randn([]int64{int64(len(idx)), t.cfg.modelConfig().WithDefaults().NoiseDim()}, gotch.Float, gotch.CPU)
		if err != nil {
			return stepStats{}, err
		}
		eps, err = t.par.ShardRows(all)
		all.MustDrop()
		if err != nil {
			return stepStats{}, err
		}
		defer eps.MustDrop()
	}
	out, err := t.model.ForwardT(vae.Input{X: x, Class: cond, Eps: eps}, true)
	if err != nil {
		return stepStats{}, err
	}
	defer out.Drop()
	loss, nll, kl, err := t.model.Loss(out, x, beta, t.cfg.FreeBits)
	if err != nil {
		return stepStats{}, err
	}
	defer loss.MustDrop()
	defer nll.MustDrop()
	defer kl.MustDrop()
	if err := loss.Backward(); err != nil {
		return stepStats{}, fmt.Errorf("backward: %w", err)
	}
	s, err := readValues(loss, nll, kl)
	if err != nil {
		return s, err
	}
	if t.cfg.lossSeen != nil {
		s.loss = t.cfg.lossSeen(step, s.loss)
	}
	if s.skipped, err = t.sess.Guard.Update(step, s.loss, t.sess.Opt); err != nil || s.skipped {
		return s, err
	}
	t.gradNorms = append(t.gradNorms, t.sess.Opt.GradNorm())
	if t.par.World() == 1 {
		return s, nil
	}
	sum, err := t.par.Sum(s.loss, s.recon, s.kl)
	if err != nil {
		return s, err
	}
	w := float64(t.par.World())
	return stepStats{loss: sum[0] / w, recon: sum[1] / w, kl: sum[2] / w}, nil
}

// readStats reads an evaluation's losses; a non-finite loss is an error.
func readStats(loss, nll, kl *ts.Tensor) (stepStats, error) {
	s, err := readValues(loss, nll, kl)
	if err != nil {
		return s, err
	}
	if math.IsNaN(s.loss) || math.IsInf(s.loss, 0) {
		return s, fmt.Errorf("loss is %v (recon %v, kl %v): the model diverged", s.loss, s.recon, s.kl)
	}
	return s, nil
}

// readValues reads the three losses as they are.
func readValues(loss, nll, kl *ts.Tensor) (stepStats, error) {
	var s stepStats
	var err error
	for _, p := range []struct {
		dst *float64
		t   *ts.Tensor
	}{{&s.loss, loss}, {&s.recon, nll}, {&s.kl, kl}} {
		if *p.dst, err = tensors.Scalar(p.t); err != nil {
			return s, err
		}
	}
	return s, nil
}

// evaluate averages the loss terms over all images of x in eval mode (one
// sample of z per image, as in training), with beta on the KL. In a
// data-parallel run each rank evaluates its share of the images and the
// sums are added up; every rank still draws the noise of every batch, so
// that the random stream moves on as one process's does.
func evaluate(m *vae.VAE, x, cond *ts.Tensor, beta float64, batch int, par *cli.Parallel) (stepStats, error) {
	size, err := x.Size()
	if err != nil {
		return stepStats{}, err
	}
	total := size[0]
	first, last := par.Share(int(total))
	mine, end := int64(first), int64(last)
	var sum stepStats
	err = torchrt.NoGrad(func() error {
		for start := int64(0); start < total; start += int64(batch) {
			size := min(int64(batch), total-start)
			from, to := max(start, mine), min(start+size, end)
			eps, err := shareNoise(par, size, m.Config.NoiseDim(), from-start, to-from)
			if err != nil {
				return err
			}
			if from >= to {
				continue // another rank's images
			}
			s, err := evalRows(m, x, cond, eps, from, to-from, beta)
			if eps != nil {
				eps.MustDrop()
			}
			if err != nil {
				return err
			}
			w := float64(to-from) / float64(total)
			sum.loss += w * s.loss
			sum.recon += w * s.recon
			sum.kl += w * s.kl
			if sum.klGroups == nil {
				sum.klGroups = make([]float64, len(s.klGroups))
			}
			for g, v := range s.klGroups {
				sum.klGroups[g] += w * v
			}
		}
		return nil
	})
	if err != nil || par.World() == 1 {
		return sum, err
	}
	groups := len(m.Config.LatentGroups())
	if sum.klGroups == nil { // this rank had no images
		sum.klGroups = make([]float64, groups)
	}
	all, err := par.Sum(append([]float64{sum.loss, sum.recon, sum.kl}, sum.klGroups...)...)
	if err != nil {
		return sum, err
	}
	return stepStats{loss: all[0], recon: all[1], kl: all[2], klGroups: all[3:]}, nil
}

// shareNoise draws, in a data-parallel run, the noise of a whole
// evaluation batch of size images and returns this rank's n rows of it
// from off (nil when n <= 0); without a group it draws nothing and
// returns nil, and the model draws its own.
func shareNoise(par *cli.Parallel, size, zDim, off, n int64) (*ts.Tensor, error) {
	if par.World() == 1 {
		return nil, nil
	}
	all, err := ts.Randn([]int64{size, zDim}, gotch.Float, gotch.CPU)
	if err != nil || n <= 0 {
		return nil, err
	}
	defer all.MustDrop()
	return all.Narrow(0, off, n, false)
}

// evalRows is evalBatch on the n rows of x (and cond) from start.
func evalRows(m *vae.VAE, x, cond, eps *ts.Tensor, start, n int64, beta float64) (stepStats, error) {
	xb, err := x.Narrow(0, start, n, false)
	if err != nil {
		return stepStats{}, err
	}
	defer xb.MustDrop()
	var cb *ts.Tensor
	if cond != nil {
		if cb, err = cond.Narrow(0, start, n, false); err != nil {
			return stepStats{}, err
		}
		defer cb.MustDrop()
	}
	return evalBatch(m, xb, cb, eps, beta)
}

func evalBatch(m *vae.VAE, x, cond, eps *ts.Tensor, beta float64) (stepStats, error) {
	out, err := m.ForwardT(vae.Input{X: x, Class: cond, Eps: eps}, false)
	if err != nil {
		return stepStats{}, err
	}
	defer out.Drop()
	loss, nll, kl, err := m.Loss(out, x, beta, 0)
	if err != nil {
		return stepStats{}, err
	}
	defer loss.MustDrop()
	defer nll.MustDrop()
	defer kl.MustDrop()
	s, err := readStats(loss, nll, kl)
	if err != nil {
		return s, err
	}
	s.klGroups, err = m.KLByGroup(out)
	return s, err
}

// runningMean averages step statistics, weighting each step equally.
type runningMean struct {
	sum  stepStats
	n    int
	beta float64 // of the last step
}

func (r *runningMean) add(s stepStats, beta float64) {
	r.sum.loss += s.loss
	r.sum.recon += s.recon
	r.sum.kl += s.kl
	r.n++
	r.beta = beta
}

func (r *runningMean) mean() stepStats {
	n := float64(r.n)
	return stepStats{loss: r.sum.loss / n, recon: r.sum.recon / n, kl: r.sum.kl / n}
}

// betaAt is the KL weight at a step: beta, or with warm-up epochs a linear
// ramp from beta/(warmup steps) at the first step to beta.
func betaAt(step, perEpoch int64, beta float64, warmupEpochs int) float64 {
	if warmupEpochs <= 0 {
		return beta
	}
	ramp := float64(step+1) / float64(int64(warmupEpochs)*perEpoch)
	return beta * math.Min(1, ramp)
}
