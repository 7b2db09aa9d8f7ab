package main

import (
	"fmt"

	"torchlab/models/charlstm"
	"torchlab/torch/optim"
	"torchlab/torch/tensors"
)

// trainStep takes one optimiser step on a batch of sequences and labels and
// returns the batch's mean loss. Every tensor it makes is freed on return.
func trainStep(m *charlstm.Model, opt *optim.Optimizer, seqs [][]uint8, labels []int64) (float64, error) {
	if len(seqs) != len(labels) {
		return 0, fmt.Errorf("charlstm: %d sequences but %d labels", len(seqs), len(labels))
	}
	b, err := m.NewBatch(seqs)
	if err != nil {
		return 0, err
	}
	defer b.Drop()
	y, err := tensors.FromInt64(labels, int64(len(labels)))
	if err != nil {
		return 0, err
	}
	defer y.MustDrop()
	if err := opt.ZeroGrad(); err != nil {
		return 0, err
	}
	logp, err := m.ForwardT(b, true)
	if err != nil {
		return 0, err
	}
	defer logp.MustDrop()
	loss, err := charlstm.Loss(logp, y)
	if err != nil {
		return 0, err
	}
	defer loss.MustDrop()
	if err := loss.Backward(); err != nil {
		return 0, fmt.Errorf("charlstm: backward: %w", err)
	}
	if err := opt.Step(); err != nil {
		return 0, err
	}
	return tensors.Scalar(loss)
}
