package main

import (
	"path/filepath"
	"testing"
	"torchlab/internal/galaxy/galaxytest"

	"torchlab/internal/crashtest"
)

func parallelArgs(t *testing.T, arch string) []string {
	data := galaxytest.FakeZoo(t, 40)
	// 32 training images (8 tested, none held out) in batches of 8: 4
	// steps an epoch, 20 in 5 epochs; every batch splits evenly.
	return []string{"train", "--data-dir", data, "--cache-dir", filepath.Join(data, "cache"),
		"--crop", "32", "--image-size", "32", "--batch-size", "8", "--epochs", "5", "--z-dim", "4",
		"--test-fraction", "0.2", "--val-fraction", "0", "--threads", "1", "--eval-every", "4", "--arch", arch}
}

// TestTwoRanksTrainAsOneProcess: the mlp VAE trained 20 steps by 2 ranks
// (half of each batch each, the batch's noise drawn as one process draws
// it) ends with one process's weights.
func TestTwoRanksTrainAsOneProcess(t *testing.T) {
	crashtest.Equivalent(t, parallelArgs(t, "mlp"), 2, 1e-5)
}

// TestTwoRanksKeepBatchNormReplicasIdentical: the conv VAE has BatchNorm,
// whose batch statistics differ between half batches, so it is not one
// process's run; but after every evaluation the loop checks that both
// ranks hold rank 0's weights and running statistics bit for bit, and the
// run fails if not.
func TestTwoRanksKeepBatchNormReplicasIdentical(t *testing.T) {
	args := append(parallelArgs(t, "conv"), "--out", filepath.Join(t.TempDir(), "conv"))
	crashtest.RunRanks(t, args, 2)
}
