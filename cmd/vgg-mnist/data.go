package main

import (
	"fmt"

	"github.com/sugarme/gotch/ts"

	"torchlab/datasets"
	"torchlab/internal/vggmnist"
	"torchlab/torch/tensors"
)

// split is one MNIST split held as two tensors, made once: images
// [N, 1, 32, 32] (resized and normalised) and labels [N].
type split struct {
	images, labels *ts.Tensor
	n              int
}

func (s *split) drop() {
	s.images.MustDrop()
	s.labels.MustDrop()
}

// loadSplit reads a split and keeps the stratified fraction of it.
func loadSplit(dir string, train bool, fraction float64, seed int64) (*split, error) {
	m, err := datasets.LoadMNIST(dir, train, vggmnist.ImageSize)
	if err != nil {
		return nil, err
	}
	images, labels := m.Images, m.Labels
	if fraction < 1 {
		idx, err := datasets.StratifiedSubset(m.Labels, fraction, seed)
		if err != nil {
			return nil, err
		}
		images, labels = pick(m, idx)
	}
	return newSplit(images, labels)
}

// valSeed draws the validation split from the run's split seed; the
// subset uses the split seed itself, the train-eval sample the split seed + 1.
func valSeed(seed int64) int64 { return seed + 2 }

// loadTrainVal reads the training split, keeps the stratified fraction of
// it, and holds out round(valFraction*n) of those images for validation,
// stratified by label (datasets.StratifiedSplit); val is nil for
// valFraction 0, and train is then what loadSplit gives.
func loadTrainVal(dir string, fraction, valFraction float64, seed int64) (train, val *split, err error) {
	m, err := datasets.LoadMNIST(dir, true, vggmnist.ImageSize)
	if err != nil {
		return nil, nil, err
	}
	px := m.Size * m.Size
	images, labels := m.Images, m.Labels
	if fraction < 1 {
		idx, err := datasets.StratifiedSubset(m.Labels, fraction, seed)
		if err != nil {
			return nil, nil, err
		}
		images, labels = pickFrom(images, labels, px, idx)
	}
	nVal, err := datasets.ValCount(len(labels), valFraction)
	if err != nil {
		return nil, nil, err
	}
	if nVal == 0 {
		train, err = newSplit(images, labels)
		return train, nil, err
	}
	tr, va, err := datasets.StratifiedSplit(labels, nVal, valSeed(seed))
	if err != nil {
		return nil, nil, err
	}
	if val, err = newSplit(pickFrom(images, labels, px, va)); err != nil {
		return nil, nil, err
	}
	if train, err = newSplit(pickFrom(images, labels, px, tr)); err != nil {
		val.drop()
		return nil, nil, err
	}
	return train, val, nil
}

// pick copies the images and labels at idx.
func pick(m *datasets.MNIST, idx []int) ([]float32, []int64) {
	return pickFrom(m.Images, m.Labels, m.Size*m.Size, idx)
}

// pickFrom copies the images (px values each) and labels at idx.
func pickFrom(images []float32, labels []int64, px int, idx []int) ([]float32, []int64) {
	outImages := make([]float32, 0, len(idx)*px)
	outLabels := make([]int64, 0, len(idx))
	for _, i := range idx {
		outImages = append(outImages, images[i*px:(i+1)*px]...)
		outLabels = append(outLabels, labels[i])
	}
	return outImages, outLabels
}

func newSplit(images []float32, labels []int64) (*split, error) {
	n := len(labels)
	if n == 0 {
		return nil, fmt.Errorf("empty split")
	}
	x, err := tensors.FromFloat32(images, int64(n), 1, vggmnist.ImageSize, vggmnist.ImageSize)
	if err != nil {
		return nil, err
	}
	y, err := tensors.FromInt64(labels, int64(n))
	if err != nil {
		x.MustDrop()
		return nil, err
	}
	return &split{images: x, labels: y, n: n}, nil
}

// sample returns a fixed stratified sample of about size examples (all of
// them if size is 0 or not smaller than the split).
func (s *split) sample(size int, seed int64) (*split, error) {
	if size == 0 || size >= s.n {
		return s, nil
	}
	labels, err := tensors.Int64s(s.labels)
	if err != nil {
		return nil, err
	}
	idx, err := datasets.StratifiedSubset(labels, float64(size)/float64(s.n), seed)
	if err != nil {
		return nil, err
	}
	return s.gather(idx)
}

// gather returns the examples at idx as a new split.
func (s *split) gather(idx []int) (*split, error) {
	ids := make([]int64, len(idx))
	for i, v := range idx {
		ids[i] = int64(v)
	}
	t, err := tensors.FromInt64(ids, int64(len(ids)))
	if err != nil {
		return nil, err
	}
	defer t.MustDrop()
	x, y, err := s.rows(t)
	if err != nil {
		return nil, err
	}
	return &split{images: x, labels: y, n: len(idx)}, nil
}

// batch returns the examples at idx; the caller drops both tensors.
func (s *split) batch(idx []int64) (x, y *ts.Tensor, err error) {
	t, err := tensors.FromInt64(idx, int64(len(idx)))
	if err != nil {
		return nil, nil, err
	}
	defer t.MustDrop()
	return s.rows(t)
}

// rows returns the images and labels at the indices t [n]; the caller
// drops both.
func (s *split) rows(t *ts.Tensor) (x, y *ts.Tensor, err error) {
	if x, err = s.images.IndexSelect(0, t, false); err != nil { // [n, 1, 32, 32]
		return nil, nil, err
	}
	if y, err = s.labels.IndexSelect(0, t, false); err != nil { // [n]
		x.MustDrop()
		return nil, nil, err
	}
	return x, y, nil
}
