package charlstm

import (
	"fmt"
	"math"
	"sort"

	"torchlab/torch/tensors"
	"torchlab/torch/torchrt"
)

// LogProbs returns each sequence's log-probabilities [len(seqs)][classes],
// computed without grad in batches of at most batchSize sequences of
// similar length (so packing wastes few steps).
func (m *Model) LogProbs(seqs [][]uint8, batchSize int) ([][]float32, error) {
	if batchSize < 1 {
		return nil, fmt.Errorf("charlstm: batch size %d < 1", batchSize)
	}
	order := make([]int, len(seqs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return len(seqs[order[a]]) > len(seqs[order[b]]) })
	out := make([][]float32, len(seqs))
	err := torchrt.NoGrad(func() error {
		for start := 0; start < len(order); start += batchSize {
			idx := order[start:min(start+batchSize, len(order))]
			batch := make([][]uint8, len(idx))
			for j, i := range idx {
				batch[j] = seqs[i]
			}
			rows, err := m.logProbs(batch)
			if err != nil {
				return err
			}
			for j, i := range idx {
				out[i] = rows[j]
			}
		}
		return nil
	})
	return out, err
}

func (m *Model) logProbs(seqs [][]uint8) ([][]float32, error) {
	b, err := m.NewBatch(seqs)
	if err != nil {
		return nil, err
	}
	defer b.Drop()
	logp, err := m.ForwardT(b, false)
	if err != nil {
		return nil, err
	}
	defer logp.MustDrop()
	flat, err := tensors.Float32s(logp)
	if err != nil {
		return nil, err
	}
	k := int(m.Cfg.Classes)
	rows := make([][]float32, len(seqs))
	for i := range rows {
		rows[i] = flat[i*k : (i+1)*k : (i+1)*k]
	}
	return rows, nil
}

// Evaluate returns the mean negative log-likelihood and the accuracy of the
// model on labelled sequences, computed without grad.
func (m *Model) Evaluate(seqs [][]uint8, labels []int64, batchSize int) (loss, accuracy float64, err error) {
	if len(seqs) != len(labels) || len(seqs) == 0 {
		return 0, 0, fmt.Errorf("charlstm: evaluate %d sequences with %d labels", len(seqs), len(labels))
	}
	logp, err := m.LogProbs(seqs, batchSize)
	if err != nil {
		return 0, 0, err
	}
	correct := 0
	for i, row := range logp {
		y := labels[i]
		if y < 0 || y >= int64(len(row)) {
			return 0, 0, fmt.Errorf("charlstm: label %d of sequence %d outside 0..%d", y, i, len(row)-1)
		}
		loss -= float64(row[y])
		if argmax(row) == y {
			correct++
		}
	}
	n := float64(len(seqs))
	return loss / n, float64(correct) / n, nil
}

// Probabilities turns rows of log-probabilities into probabilities.
func Probabilities(logp []float32) []float64 {
	p := make([]float64, len(logp))
	for i, v := range logp {
		p[i] = math.Exp(float64(v))
	}
	return p
}

// argmax is the first index of the largest value, as torch.argmax picks.
func argmax(row []float32) int64 {
	best := 0
	for i, v := range row {
		if v > row[best] {
			best = i
		}
	}
	return int64(best)
}
