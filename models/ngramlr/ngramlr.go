// Package ngramlr is the tweets' baseline classifier: multinomial logistic
// regression on hashed character n-grams. Each tweet (character codes, as
// datasets.EncodeText makes them) becomes a sparse vector of the counts of
// its n-grams for n in [MinN, MaxN], each n-gram hashed into one of Buckets
// features and the vector scaled to unit length; one linear layer maps it
// to log-probabilities of the classes.
package ngramlr

import (
	"fmt"
	"math"
	"sort"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/torch/layers"
	"torchlab/torch/tensors"
	"torchlab/torch/torchrt"
)

// Config is the model's shape; a checkpoint stores it.
type Config struct {
	Buckets int64 `json:"buckets"` // hashed features
	MinN    int   `json:"min_n"`   // shortest n-gram
	MaxN    int   `json:"max_n"`   // longest n-gram
	Classes int64 `json:"classes"`
}

// DefaultConfig hashes the 1- to 4-grams of a tweet into 2^18 features,
// for two classes.
func DefaultConfig() Config { return Config{Buckets: 1 << 18, MinN: 1, MaxN: 4, Classes: 2} }

// Check rejects a shape the model cannot have.
func (c Config) Check() error {
	if c.Buckets < 1 || c.MinN < 1 || c.MaxN < c.MinN || c.Classes < 2 {
		return fmt.Errorf("ngramlr: buckets %d, n from %d to %d, %d classes: want buckets >= 1, 1 <= min_n <= max_n, classes >= 2",
			c.Buckets, c.MinN, c.MaxN, c.Classes)
	}
	return nil
}

// Model is the linear layer "fc" over the hashed features.
type Model struct {
	cfg Config
	fc  *layers.Linear // [Classes, Buckets]
}

// New creates the model's variables under p.
func New(p *nn.Path, cfg Config) (*Model, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	fc, err := layers.NewLinear(p.Sub("fc"), cfg.Buckets, cfg.Classes, true)
	if err != nil {
		return nil, err
	}
	return &Model{cfg: cfg, fc: fc}, nil
}

// Bucket is the feature of the n-gram g: FNV-1a (32 bits) over its length
// and then its bytes, modulo buckets. scripts/reference/ngram_tweets.py
// hashes the same way.
func Bucket(g []uint8, buckets int64) int64 {
	h := uint32(2166136261)
	for _, b := range append([]uint8{uint8(len(g))}, g...) {
		h ^= uint32(b)
		h *= 16777619
	}
	return int64(h) % buckets
}

// Features is the sparse feature vector of one tweet: the buckets it
// touches, in increasing order, and their values (n-gram counts scaled to
// unit Euclidean length). A tweet shorter than MinN has none.
func (c Config) Features(seq []uint8) (idx []int64, val []float32) {
	counts := map[int64]float64{}
	for n := c.MinN; n <= c.MaxN; n++ {
		for i := 0; i+n <= len(seq); i++ {
			counts[Bucket(seq[i:i+n], c.Buckets)]++
		}
	}
	var norm float64
	for b, k := range counts {
		idx = append(idx, b)
		norm += k * k
	}
	sort.Slice(idx, func(a, b int) bool { return idx[a] < idx[b] })
	norm = math.Sqrt(norm)
	val = make([]float32, len(idx))
	for i, b := range idx {
		val[i] = float32(counts[b] / norm)
	}
	return idx, val
}

// Batch is a batch of tweets' features in coordinate form: entry j is
// Value[j] at feature Index[j] of row Row[j].
type Batch struct {
	Row, Index, Value *ts.Tensor // [nnz] int64, [nnz] int64, [nnz] float
	N                 int        // rows (tweets)
}

// Drop frees the batch's tensors.
func (b *Batch) Drop() {
	b.Row.MustDrop()
	b.Index.MustDrop()
	b.Value.MustDrop()
}

// NewBatch makes the batch of seqs' features.
func (m *Model) NewBatch(seqs [][]uint8) (*Batch, error) {
	if len(seqs) == 0 {
		return nil, fmt.Errorf("ngramlr: an empty batch")
	}
	var rows, idx []int64
	var vals []float32
	for r, s := range seqs {
		i, v := m.cfg.Features(s)
		for range i {
			rows = append(rows, int64(r))
		}
		idx, vals = append(idx, i...), append(vals, v...)
	}
	b := &Batch{N: len(seqs)}
	var err error
	if b.Row, err = tensors.FromInt64(rows, int64(len(rows))); err != nil {
		return nil, err
	}
	if b.Index, err = tensors.FromInt64(idx, int64(len(idx))); err != nil {
		b.Row.MustDrop()
		return nil, err
	}
	if b.Value, err = tensors.FromFloat32(vals, int64(len(vals))); err != nil {
		b.Row.MustDrop()
		b.Index.MustDrop()
		return nil, err
	}
	return b, nil
}

// ForwardT returns the log-probabilities [N, Classes] of the batch: the
// linear layer applied to each row's features, gathered from the columns
// of its weight that the row touches. The model has no dropout, so train
// changes nothing.
func (m *Model) ForwardT(b *Batch, train bool) (*ts.Tensor, error) {
	cols, err := m.fc.Weight.IndexSelect(1, b.Index, false) // [C, nnz]
	if err != nil {
		return nil, fmt.Errorf("ngramlr: %w", err)
	}
	weighted, err := cols.Mul(b.Value, true) // [C, nnz]
	if err != nil {
		return nil, fmt.Errorf("ngramlr: %w", err)
	}
	terms, err := weighted.T(true) // [nnz, C]
	if err != nil {
		return nil, fmt.Errorf("ngramlr: %w", err)
	}
	defer terms.MustDrop()
	dev, err := m.fc.Weight.Device()
	if err != nil {
		return nil, fmt.Errorf("ngramlr: %w", err)
	}
	zero, err := ts.Zeros([]int64{int64(b.N), m.cfg.Classes}, gotch.Float, dev)
	if err != nil {
		return nil, fmt.Errorf("ngramlr: %w", err)
	}
	sum, err := zero.IndexAdd(0, b.Row, terms, true) // [N, C]
	if err != nil {
		return nil, fmt.Errorf("ngramlr: %w", err)
	}
	logits, err := sum.Add(m.fc.Bias, true) // [N, C]
	if err != nil {
		return nil, fmt.Errorf("ngramlr: %w", err)
	}
	return logits.LogSoftmax(1, gotch.Float, true)
}

// Loss is the mean negative log-likelihood of the classes y [N] under
// logp [N, C].
func Loss(logp, y *ts.Tensor) (*ts.Tensor, error) {
	l, err := logp.NllLoss(y, ts.None, tensors.ReductionMean, -100, false)
	if err != nil {
		return nil, fmt.Errorf("ngramlr loss: %w", err)
	}
	return l, nil
}

// Evaluate is the mean loss and the accuracy of the model on seqs with
// labels, in batches of batchSize, without gradients.
func (m *Model) Evaluate(seqs [][]uint8, labels []int64, batchSize int) (loss, accuracy float64, err error) {
	if len(seqs) != len(labels) || len(seqs) == 0 || batchSize < 1 {
		return 0, 0, fmt.Errorf("ngramlr: evaluate %d tweets with %d labels in batches of %d", len(seqs), len(labels), batchSize)
	}
	var sum, correct float64
	err = torchrt.NoGrad(func() error {
		for lo := 0; lo < len(seqs); lo += batchSize {
			hi := min(lo+batchSize, len(seqs))
			l, c, err := m.evalBatch(seqs[lo:hi], labels[lo:hi])
			if err != nil {
				return err
			}
			sum, correct = sum+l, correct+c
		}
		return nil
	})
	n := float64(len(seqs))
	return sum / n, correct / n, err
}

// evalBatch is the summed loss and the number of right answers on one
// batch.
func (m *Model) evalBatch(seqs [][]uint8, labels []int64) (loss, correct float64, err error) {
	b, err := m.NewBatch(seqs)
	if err != nil {
		return 0, 0, err
	}
	defer b.Drop()
	y, err := tensors.FromInt64(labels, int64(len(labels)))
	if err != nil {
		return 0, 0, err
	}
	defer y.MustDrop()
	logp, err := m.ForwardT(b, false) // [N, C]
	if err != nil {
		return 0, 0, err
	}
	defer logp.MustDrop()
	l, err := logp.NllLoss(y, ts.None, tensors.ReductionSum, -100, false)
	if err != nil {
		return 0, 0, fmt.Errorf("ngramlr: %w", err)
	}
	defer l.MustDrop()
	pred, err := logp.Argmax([]int64{1}, false, false) // [N]
	if err != nil {
		return 0, 0, fmt.Errorf("ngramlr: %w", err)
	}
	hits, err := pred.EqTensor(y, true) // [N] bool
	if err != nil {
		return 0, 0, fmt.Errorf("ngramlr: %w", err)
	}
	count, err := hits.Sum(gotch.Float, true)
	if err != nil {
		return 0, 0, fmt.Errorf("ngramlr: %w", err)
	}
	defer count.MustDrop()
	if loss, err = tensors.Scalar(l); err != nil {
		return 0, 0, err
	}
	correct, err = tensors.Scalar(count)
	return loss, correct, err
}
