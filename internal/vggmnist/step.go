// Package vggmnist is VGG11's training step and evaluation on MNIST-shaped
// batches: what vgg-mnist trains with and what the bench times, so that
// both run the same code.
package vggmnist

import (
	"fmt"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"torchlab/internal/cli"
	"torchlab/internal/train"
	"torchlab/models/vgg"
	"torchlab/torch/optim"
	"torchlab/torch/tensors"
	"torchlab/torch/torchrt"
)

// ImageSize is MNIST's 28x28 resized so that five 2x2 pools end at 1x1.
const ImageSize = 32

// The evaluation's defaults: batches of DefaultEvalBatch, channels-last.
const (
	DefaultEvalBatch        = 100
	DefaultEvalChannelsLast = true
)

// TrainStep makes one SGD/Adam update (step, 0-based) on the batch x
// [B, 1, 32, 32], y [B] and returns the batch's mean loss and number of
// correct predictions (both in training mode, before the update), and
// whether the divergence guard dropped the update. Everything it makes is
// freed when it returns.
func TrainStep(m *vgg.VGG, opt *optim.Optimizer, guard *train.Guard, step int, x, y *ts.Tensor) (loss float64, correct int64, skipped bool, err error) {
	if err := opt.ZeroGrad(); err != nil {
		return 0, 0, false, err
	}
	logits, err := m.ForwardT(x, true) // [B, 10]
	if err != nil {
		return 0, 0, false, err
	}
	defer logits.MustDrop()
	l, err := vgg.Loss(logits, y)
	if err != nil {
		return 0, 0, false, fmt.Errorf("loss: %w", err)
	}
	defer l.MustDrop()
	if err := l.Backward(); err != nil {
		return 0, 0, false, fmt.Errorf("backward: %w", err)
	}
	if loss, err = tensors.Scalar(l); err != nil {
		return 0, 0, false, err
	}
	if skipped, err = guard.Update(step, loss, opt); err != nil || skipped {
		return loss, 0, skipped, err
	}
	correct, err = CountCorrect(logits, y)
	return loss, correct, false, err
}

// CountCorrect counts the rows of logits [B, C] whose argmax equals y [B].
func CountCorrect(logits, y *ts.Tensor) (int64, error) {
	pred, err := logits.Argmax([]int64{1}, false, false) // [B]
	if err != nil {
		return 0, err
	}
	eq, err := pred.EqTensor(y, true) // [B] bool
	if err != nil {
		return 0, err
	}
	sum, err := eq.Sum(gotch.Int64, true) // []
	if err != nil {
		return 0, err
	}
	defer sum.MustDrop()
	return sum.Int64Value([]int64{})
}

// Evaluate returns the mean loss and the accuracy of m on the n images
// [n, 1, 32, 32] and labels [n] in eval mode (no dropout, running
// batch-norm statistics), in whatever layout m's weights are in (see
// WithChannelsLast). In a data-parallel run each rank measures its share
// and the sums are added; par nil is one process.
func Evaluate(m *vgg.VGG, images, labels *ts.Tensor, n, batch int, par *cli.Parallel) (loss, acc float64, err error) {
	var sumLoss float64
	var correct int64
	first, last := par.Share(n) // all n in one process
	err = torchrt.NoGrad(func() error {
		for lo := first; lo < last; lo += batch {
			l, c, err := evalBatch(m, images, labels, lo, min(batch, last-lo))
			if err != nil {
				return err
			}
			sumLoss += l
			correct += c
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("evaluate: %w", err)
	}
	sums, err := par.Sum(sumLoss, float64(correct))
	if err != nil {
		return 0, 0, fmt.Errorf("evaluate: %w", err)
	}
	return sums[0] / float64(n), sums[1] / float64(n), nil
}

// WithChannelsLast runs f with m's convolution weights laid out
// channels-last when on (evaluation is faster that way;
// vgg.SetChannelsLast), and puts them back before returning, so that
// training, checkpoints and the optimiser see the contiguous layout. One
// relayout serves all the splits an evaluation measures.
func WithChannelsLast(m *vgg.VGG, on bool, f func() error) (err error) {
	if !on {
		return f()
	}
	if err := m.SetChannelsLast(true); err != nil {
		return fmt.Errorf("channels-last: %w", err)
	}
	defer func() {
		if e := m.SetChannelsLast(false); e != nil && err == nil {
			err = fmt.Errorf("channels-last: %w", e)
		}
	}()
	return f()
}

// evalBatch returns the summed loss and the number of correct predictions
// on examples lo..lo+n of images and labels.
func evalBatch(m *vgg.VGG, images, labels *ts.Tensor, lo, n int) (float64, int64, error) {
	x, err := images.Narrow(0, int64(lo), int64(n), false) // [n, 1, 32, 32]
	if err != nil {
		return 0, 0, err
	}
	defer x.MustDrop()
	y, err := labels.Narrow(0, int64(lo), int64(n), false) // [n]
	if err != nil {
		return 0, 0, err
	}
	defer y.MustDrop()
	logits, err := m.ForwardT(x, false) // [n, 10]
	if err != nil {
		return 0, 0, err
	}
	defer logits.MustDrop()
	l, err := logits.CrossEntropyLoss(y, ts.None, tensors.ReductionSum, -100, 0, false)
	if err != nil {
		return 0, 0, err
	}
	defer l.MustDrop()
	loss, err := tensors.Scalar(l)
	if err != nil {
		return 0, 0, err
	}
	c, err := CountCorrect(logits, y)
	return loss, c, err
}
