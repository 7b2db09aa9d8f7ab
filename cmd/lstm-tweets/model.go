package main

import (
	"fmt"

	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/models/charlstm"
	"torchlab/models/ngramlr"
)

// The models --model trains.
const (
	modelLSTM  = "lstm"  // models/charlstm, the assignment's
	modelNGram = "ngram" // models/ngramlr, the baseline
)

// tweetModel is a model of tweets as training uses it.
type tweetModel interface {
	// batchLoss is the mean negative log-likelihood of the classes y [B]
	// of seqs, in training mode.
	batchLoss(seqs [][]uint8, y *ts.Tensor) (*ts.Tensor, error)
	// Evaluate is the mean loss and the accuracy on seqs, without
	// gradients, in batches of batch.
	Evaluate(seqs [][]uint8, labels []int64, batch int) (loss, acc float64, err error)
	Drop()
}

// newTweetModel makes the model cfg names (--model) under p.
func newTweetModel(p *nn.Path, cfg Config) (tweetModel, error) {
	switch cfg.arch() {
	case modelLSTM:
		m, err := charlstm.New(p, cfg.Model)
		return lstmModel{m}, err
	case modelNGram:
		m, err := ngramlr.New(p, *cfg.NGram)
		return ngramModel{m}, err
	}
	return nil, fmt.Errorf("--model %q: want %s or %s", cfg.Arch, modelLSTM, modelNGram)
}

// lstmModel is the character LSTM as a tweetModel.
type lstmModel struct{ *charlstm.Model }

func (m lstmModel) batchLoss(seqs [][]uint8, y *ts.Tensor) (*ts.Tensor, error) {
	return batchLoss(m.NewBatch, m.ForwardT, charlstm.Loss, seqs, y)
}

// ngramModel is the n-gram baseline as a tweetModel.
type ngramModel struct{ *ngramlr.Model }

func (m ngramModel) batchLoss(seqs [][]uint8, y *ts.Tensor) (*ts.Tensor, error) {
	return batchLoss(m.NewBatch, m.ForwardT, ngramlr.Loss, seqs, y)
}

// Drop frees nothing: the baseline's tensors are all in its VarStore.
func (m ngramModel) Drop() {}

// batchLoss is a model's mean loss on seqs with classes y: its batch of
// seqs, its log-probabilities [B, C] in training mode, its loss.
func batchLoss[B interface{ Drop() }](newBatch func([][]uint8) (B, error), forward func(B, bool) (*ts.Tensor, error),
	loss func(logp, y *ts.Tensor) (*ts.Tensor, error), seqs [][]uint8, y *ts.Tensor) (*ts.Tensor, error) {
	b, err := newBatch(seqs)
	if err != nil {
		return nil, err
	}
	defer b.Drop()
	logp, err := forward(b, true) // [B, C]
	if err != nil {
		return nil, err
	}
	defer logp.MustDrop()
	return loss(logp, y)
}
