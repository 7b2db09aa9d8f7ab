package main

import (
	"testing"

	"torchlab/internal/crashtest"
)

// TestTwoRanksTrainAsOneProcess: 2 ranks, each taking half of every batch of
// 16, end 20 steps with the weights of one process taking whole batches
// (the gradients are averaged over the ranks), with Adam and with SGD.
// Adam runs at lr 1e-3, not the fixture's 1e-2: it divides each gradient by
// its own running scale, so an entry whose gradient is ~0 moves by ~lr in a
// direction set by rounding, and the two runs' last-bit differences in such
// entries grow in proportion to lr (1.8e-5 relative at 1e-2).
func TestTwoRanksTrainAsOneProcess(t *testing.T) {
	_, common := fixture(t)
	for opt, lr := range map[string]string{"adam": "1e-3", "sgd": "1e-2"} {
		t.Run(opt, func(t *testing.T) {
			args := append([]string{"train", "--iterations", "20", "--eval-every", "10", "--val-fraction", "0", "--optimizer", opt}, common...)
			args = append(args, "--lr", lr)
			crashtest.Equivalent(t, args, 2, 1e-5)
		})
	}
}
