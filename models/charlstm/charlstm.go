// Package charlstm is a character-level LSTM sentiment classifier: each
// character enters as its one-hot ASCII code, one LSTM layer reads the
// tweet, and a linear layer maps the hidden state after the tweet's last
// real character to log-probabilities of negative (0) and positive (1).
//
// Batches are padded, and the hidden state is taken at each tweet's own
// last character, so padding cannot change a prediction. Callers keep the
// padding small by batching tweets of similar length. Packed sequences
// (layers.LSTM.ForwardPacked) would skip the padding altogether, but
// libtorch 1.13's CPU backward of a packed LSTM slices the precomputed
// input projection once per time step and accumulates a full-size gradient
// for every slice, which is quadratic in the tweet length
// (docs/decisions.md, "Padded, not packed, LSTM batches").
package charlstm

import (
	"fmt"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/torch/layers"
	"torchlab/torch/lstmfused"
	"torchlab/torch/tensors"
)

// Config sizes the model.
type Config struct {
	Vocab   int64 `json:"vocab"`   // one-hot size: 128 ASCII codes
	Hidden  int64 `json:"hidden"`  // LSTM hidden size
	Classes int64 `json:"classes"` // output classes
	// FusedLSTM runs the LSTM through torch/lstmfused (one C++ call forward,
	// one backward, no work on padding) instead of libtorch's lstm op. Same
	// weights and results to ~1e-6.
	FusedLSTM bool `json:"fused_lstm,omitempty"`
	// Dropout zeroes this share of the final hidden state's units in
	// training (scaling the rest), before the linear layer; 0: none, the
	// assignment's model.
	Dropout float64 `json:"dropout,omitempty"`
}

// DefaultConfig is the assignment's model: one-hot ASCII, 128 hidden, 2 classes.
func DefaultConfig() Config { return Config{Vocab: 128, Hidden: 128, Classes: 2} }

// Model is one-hot(vocab) -> LSTM(hidden) -> Linear(hidden, classes) ->
// log-softmax. Its parameters are named as the PyTorch module
// {lstm: nn.LSTM, fc: nn.Linear} names them.
type Model struct {
	Cfg  Config
	LSTM *layers.LSTM
	FC   *layers.Linear
	eye  *ts.Tensor // [vocab, vocab] identity: row c is the one-hot code of c
}

// New creates the model's parameters under p, LSTM first, as PyTorch's
// module would, so the same seed gives the same initial weights.
func New(p *nn.Path, cfg Config) (*Model, error) {
	if cfg.Vocab <= 0 || cfg.Vocab > 256 || cfg.Hidden <= 0 || cfg.Classes < 2 || cfg.Dropout < 0 || cfg.Dropout >= 1 {
		return nil, fmt.Errorf("charlstm: bad config %+v (vocab 1..256, hidden > 0, classes >= 2, dropout in [0, 1))", cfg)
	}
	lstm, err := layers.NewLSTM(p.Sub("lstm"), cfg.Vocab, cfg.Hidden)
	if err != nil {
		return nil, fmt.Errorf("charlstm: %w", err)
	}
	fc, err := layers.NewLinear(p.Sub("fc"), cfg.Hidden, cfg.Classes, true)
	if err != nil {
		return nil, fmt.Errorf("charlstm: %w", err)
	}
	eye, err := ts.Eye(cfg.Vocab, gotch.Float, gotch.CPU)
	if err != nil {
		return nil, fmt.Errorf("charlstm: %w", err)
	}
	return &Model{Cfg: cfg, LSTM: lstm, FC: fc, eye: eye}, nil
}

// Drop frees the model's own tensors that are not in its VarStore.
func (m *Model) Drop() { m.eye.MustDrop() }

// Batch is a padded batch of character sequences.
type Batch struct {
	Codes   *ts.Tensor // [batch, steps] int64 codes, padded after each sequence's end
	Last    *ts.Tensor // [batch] int64: row*steps + length-1, each sequence's last real step
	Lengths *ts.Tensor // [batch] int64: each sequence's length (the fused LSTM's input)
	Size    int        // sequences
	Steps   int        // padded length
}

// Drop frees the batch's tensors.
func (b *Batch) Drop() {
	b.Codes.MustDrop()
	b.Last.MustDrop()
	if b.Lengths != nil {
		b.Lengths.MustDrop()
	}
}

// NewBatch pads sequences of codes (each non-empty, each code < vocab) to
// the longest one.
func (m *Model) NewBatch(seqs [][]uint8) (*Batch, error) {
	lengths := make([]int, len(seqs))
	steps := 0
	for i, s := range seqs {
		lengths[i] = len(s)
		steps = max(steps, len(s))
	}
	return m.newBatch(seqs, lengths, steps)
}

// NewBatchPadded takes an already padded batch: row i of padded holds
// lengths[i] real codes followed by padding, whose values are ignored.
func (m *Model) NewBatchPadded(padded [][]uint8, lengths []int) (*Batch, error) {
	if len(padded) != len(lengths) {
		return nil, fmt.Errorf("charlstm: %d rows but %d lengths", len(padded), len(lengths))
	}
	steps := 0
	for i, row := range padded {
		if i > 0 && len(row) != steps {
			return nil, fmt.Errorf("charlstm: padded row %d has %d codes, row 0 has %d", i, len(row), steps)
		}
		steps = len(row)
	}
	return m.newBatch(padded, lengths, steps)
}

func (m *Model) newBatch(rows [][]uint8, lengths []int, steps int) (*Batch, error) {
	if len(rows) == 0 {
		return nil, fmt.Errorf("charlstm: empty batch")
	}
	codes := make([]int64, len(rows)*steps)
	last := make([]int64, len(rows))
	lens := make([]int64, len(rows))
	for i, row := range rows {
		if lengths[i] < 1 || lengths[i] > len(row) {
			return nil, fmt.Errorf("charlstm: sequence %d: length %d outside 1..%d", i, lengths[i], len(row))
		}
		for t, c := range row[:lengths[i]] {
			if int64(c) >= m.Cfg.Vocab {
				return nil, fmt.Errorf("charlstm: sequence %d position %d: code %d outside the vocabulary of %d", i, t, c, m.Cfg.Vocab)
			}
			codes[i*steps+t] = int64(c)
		}
		for t := lengths[i]; t < len(row); t++ {
			codes[i*steps+t] = int64(row[t]) % m.Cfg.Vocab // padding: any valid code
		}
		last[i] = int64(i*steps + lengths[i] - 1)
		lens[i] = int64(lengths[i])
	}
	b := &Batch{Size: len(rows), Steps: steps}
	var err error
	if b.Codes, err = tensors.FromInt64(codes, int64(len(rows)), int64(steps)); err != nil {
		return nil, err
	}
	if b.Last, err = tensors.FromInt64(last, int64(len(rows))); err != nil {
		b.Codes.MustDrop()
		return nil, err
	}
	if b.Lengths, err = tensors.FromInt64(lens, int64(len(rows))); err != nil {
		b.Codes.MustDrop()
		b.Last.MustDrop()
		return nil, err
	}
	return b, nil
}

// OneHot is the LSTM's input: [batch, steps, vocab] floats.
func (m *Model) OneHot(b *Batch) (*ts.Tensor, error) {
	flat, err := b.Codes.View([]int64{-1}, false) // [batch*steps]
	if err != nil {
		return nil, fmt.Errorf("charlstm one-hot: %w", err)
	}
	x, err := m.eye.IndexSelect(0, flat, false) // [batch*steps, vocab]
	flat.MustDrop()
	if err != nil {
		return nil, fmt.Errorf("charlstm one-hot: %w", err)
	}
	// del=true frees x even when the op fails.
	y, err := x.View([]int64{int64(b.Size), int64(b.Steps), m.Cfg.Vocab}, true) // [batch, steps, vocab]
	if err != nil {
		return nil, fmt.Errorf("charlstm one-hot: %w", err)
	}
	return y, nil
}

// checkBatch rejects a batch whose tensors do not have the shapes its sizes
// say (codes [Size, Steps], last [Size]), or codes of another dtype.
func (m *Model) checkBatch(b *Batch) error {
	if b == nil || b.Size < 1 || b.Steps < 1 {
		return fmt.Errorf("charlstm: empty batch")
	}
	if err := tensors.CheckShape(b.Codes, int64(b.Size), int64(b.Steps)); err != nil {
		return fmt.Errorf("charlstm: batch codes: %w", err)
	}
	if err := tensors.CheckShape(b.Last, int64(b.Size)); err != nil {
		return fmt.Errorf("charlstm: batch last steps: %w", err)
	}
	if b.Codes.DType() != gotch.Int64 || b.Last.DType() != gotch.Int64 {
		return fmt.Errorf("charlstm: batch codes %v and last steps %v, want %v", b.Codes.DType(), b.Last.DType(), gotch.Int64)
	}
	return nil
}

// ForwardT returns log-probabilities [batch, classes]. The hidden state fed
// to the linear layer is the LSTM's output at each sequence's own last
// character; the LSTM is causal, so the padding after it cannot change it.
// train turns on Config.Dropout (without it, train changes nothing).
func (m *Model) ForwardT(b *Batch, train bool) (*ts.Tensor, error) {
	if err := m.checkBatch(b); err != nil {
		return nil, err
	}
	if m.Cfg.FusedLSTM {
		return m.forwardFused(b, train)
	}
	x, err := m.OneHot(b) // [batch, steps, vocab]
	if err != nil {
		return nil, err
	}
	defer x.MustDrop()
	out, h, c, err := m.LSTM.Forward(x) // out [batch, steps, hidden]
	if err != nil {
		return nil, fmt.Errorf("charlstm: %w", err)
	}
	h.MustDrop()
	c.MustDrop()
	// Each op below frees its input (del=true), also when it fails.
	flat, err := out.Reshape([]int64{-1, m.Cfg.Hidden}, true) // [batch*steps, hidden]
	if err != nil {
		return nil, fmt.Errorf("charlstm: %w", err)
	}
	last, err := flat.IndexSelect(0, b.Last, true) // [batch, hidden]
	if err != nil {
		return nil, fmt.Errorf("charlstm: %w", err)
	}
	return m.classify(last, train)
}

// forwardFused is ForwardT through torch/lstmfused: the hidden state after
// each sequence's last character comes straight out of the LSTM.
func (m *Model) forwardFused(b *Batch, train bool) (*ts.Tensor, error) {
	if b.Lengths == nil {
		return nil, fmt.Errorf("charlstm: batch has no lengths (make it with NewBatch or NewBatchPadded)")
	}
	last, err := lstmfused.Forward(b.Codes, b.Lengths, m.LSTM.WeightIH, m.LSTM.WeightHH, m.LSTM.BiasIH, m.LSTM.BiasHH) // [batch, hidden]
	if err != nil {
		return nil, fmt.Errorf("charlstm: %w", err)
	}
	return m.classify(last, train)
}

// classify maps the hidden state after each sequence's last character
// [batch, hidden] to log-probabilities [batch, classes], through dropout in
// training; it frees last.
func (m *Model) classify(last *ts.Tensor, train bool) (*ts.Tensor, error) {
	if train && m.Cfg.Dropout > 0 {
		dropped, err := ts.Dropout(last, m.Cfg.Dropout, true)
		last.MustDrop()
		if err != nil {
			return nil, fmt.Errorf("charlstm: %w", err)
		}
		last = dropped
	}
	logits, err := m.FC.Forward(last) // [batch, classes]
	last.MustDrop()
	if err != nil {
		return nil, fmt.Errorf("charlstm: %w", err)
	}
	logp, err := logits.LogSoftmax(1, gotch.Float, true) // [batch, classes]
	if err != nil {
		return nil, fmt.Errorf("charlstm: %w", err)
	}
	return logp, nil
}

// Loss is the mean negative log-likelihood of labels y [batch] (int64)
// under log-probabilities logp [batch, classes].
func Loss(logp, y *ts.Tensor) (*ts.Tensor, error) {
	l, err := logp.NllLoss(y, ts.None, tensors.ReductionMean, -100, false)
	if err != nil {
		return nil, fmt.Errorf("charlstm loss: %w", err)
	}
	return l, nil
}
