package vgg_test

import (
	"fmt"
	"math/rand"
	"testing"

	"torchlab/torch/npz"
	"torchlab/torch/reference"
	"torchlab/torch/tensors"
	"torchlab/torch/torchrt"
)

// TestStateDictRoundTrip: VGG11, plain and with batch norm, goes to
// PyTorch as .pt and .safetensors and comes back from PyTorch's own
// torch.save and safetensors files, giving the same eval-mode logits
// within 1e-4 (the forward parity test's tolerance; logits are of order
// 0.1-1). The batch-norm model first runs a training-mode batch so its
// running statistics are not the initial 0 and 1: they must travel too.
// The classifier is 256 wide instead of 4096 to keep the files small; the
// names and every convolution are VGG11's.
func TestStateDictRoundTrip(t *testing.T) {
	torchrt.Lock()
	for _, bn := range []bool{false, true} {
		t.Run(fmt.Sprintf("batch_norm=%v", bn), func(t *testing.T) {
			torchrt.Lock()
			cfg := withBatchNorm(bn)
			cfg.Hidden = 256
			m, named := build(t, cfg, 5)
			xs, _ := randomBatch(rand.New(rand.NewSource(2)), batch)
			x, err := tensors.FromFloat32(xs, batch, 1, 32, 32)
			if err != nil {
				t.Fatal(err)
			}
			defer x.MustDrop()
			if bn {
				forwardNoGrad(t, m, x, true)
			}
			args := []string{"--vgg-hidden", "256"}
			if bn {
				args = append(args, "--batch-norm")
			}
			forward := func() map[string][]float64 {
				return map[string][]float64{"logits": forwardNoGrad(t, m, x, false)}
			}
			reference.StateDictRoundTrip(t, "vgg", args, map[string]npz.Array{"x": npz.Float32(xs, batch, 1, 32, 32)}, named, forward, 1e-4)
		})
	}
}
