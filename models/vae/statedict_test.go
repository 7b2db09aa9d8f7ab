package vae

import (
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"torchlab/torch/npz"
	"torchlab/torch/reference"
	"torchlab/torch/tensors"
	"torchlab/torch/torchrt"
)

// TestStateDictRoundTrip: each architecture goes to PyTorch as .pt and
// .safetensors and comes back from PyTorch's own files, giving the same
// eval-mode reconstruction logits, mean and log-variance (noise 0) within
// 1e-4, TestParity's tolerance. The models first run a training-mode batch,
// so the conv and resnet BatchNorms' running statistics travel too.
// resnet-iaf is not in statedict.py's models yet (its parity is
// TestHierParity's, from the same state_dict names).
func TestStateDictRoundTrip(t *testing.T) {
	torchrt.Lock()
	for _, arch := range []string{"mlp", "conv", "resnet"} {
		t.Run(arch, func(t *testing.T) {
			torchrt.Lock()
			torchrt.ManualSeed(3)
			const n, z, side = 4, 16, 32
			m, named := newForParity(t, Config{Arch: arch, ZDim: z, ImageSize: side}.WithDefaults())
			x := ts.MustRand([]int64{n, 3, side, side}, gotch.Float, gotch.CPU)
			defer x.MustDrop()
			eps := ts.MustZeros([]int64{n, z}, gotch.Float, gotch.CPU)
			defer eps.MustDrop()
			run := func(train bool) map[string][]float64 {
				out := map[string][]float64{}
				err := torchrt.NoGrad(func() error {
					logits, mu, logvar, err := m.forwardClass(x, nil, eps, train)
					if err != nil {
						return err
					}
					defer Output{Logits: logits, Mu: mu, Logvar: logvar}.Drop()
					out["logits"], out["mu"], out["logvar"] = floats(t, logits), floats(t, mu), floats(t, logvar)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				return out
			}
			run(true)
			xa, err := tensors.ToArray(x)
			if err != nil {
				t.Fatal(err)
			}
			args := []string{"--size", "32", "--latent", "16"}
			forward := func() map[string][]float64 { return run(false) }
			reference.StateDictRoundTrip(t, "vae-"+arch, args, map[string]npz.Array{"x": xa}, named, forward, 1e-4)
		})
	}
}
