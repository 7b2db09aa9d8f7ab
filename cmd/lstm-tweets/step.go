package main

import (
	"fmt"
	"math/rand/v2"

	"torchlab/internal/train"
	"torchlab/torch/optim"
	"torchlab/torch/tensors"
)

// trainStep takes optimiser step `step` (0-based) on a batch of sequences
// and labels, through the divergence guard, and returns the batch's mean
// loss and whether the guard dropped the update. Every tensor it makes is
// freed on return.
func trainStep(m tweetModel, opt *optim.Optimizer, guard *train.Guard, step int, seqs [][]uint8, labels []int64) (float64, bool, error) {
	if len(seqs) != len(labels) {
		return 0, false, fmt.Errorf("train step: %d sequences but %d labels", len(seqs), len(labels))
	}
	y, err := tensors.FromInt64(labels, int64(len(labels)))
	if err != nil {
		return 0, false, err
	}
	defer y.MustDrop()
	if err := opt.ZeroGrad(); err != nil {
		return 0, false, err
	}
	loss, err := m.batchLoss(seqs, y)
	if err != nil {
		return 0, false, err
	}
	defer loss.MustDrop()
	if err := loss.Backward(); err != nil {
		return 0, false, fmt.Errorf("backward: %w", err)
	}
	value, err := tensors.Scalar(loss)
	if err != nil {
		return 0, false, err
	}
	skipped, err := guard.Update(step, value, opt)
	return value, skipped, err
}

// dropChars returns copies of seqs with each character replaced by 0 (NUL,
// a code no tweet contains) with probability p (--char-dropout), so that
// the model cannot lean on any single character. The draw depends only on
// the seed, the iteration and the tweet's index in the training set
// (example), so a resumed or data-parallel run drops the same ones.
func dropChars(seqs [][]uint8, example []int, seed int64, it int, p float64) [][]uint8 {
	out := make([][]uint8, len(seqs))
	for i, s := range seqs {
		rng := rand.New(rand.NewPCG(uint64(seed)<<32^uint64(it), uint64(example[i])))
		c := make([]uint8, len(s))
		for j, ch := range s {
			if rng.Float64() >= p {
				c[j] = ch
			}
		}
		out[i] = c
	}
	return out
}
