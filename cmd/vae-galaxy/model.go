package main

import (
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/models/vae"
	"torchlab/torch/tensors"
)

// buildModel makes the model of cfg in a new VarStore on dev and returns it
// with its variables by name.
func buildModel(cfg vae.Config, dev gotch.Device) (*vae.VAE, *nn.VarStore, map[string]*ts.Tensor, error) {
	vs := nn.NewVarStore(dev)
	m, err := vae.New(vs.Root(), cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	named, err := tensors.Named(vs)
	if err != nil {
		return nil, nil, nil, err
	}
	return m, vs, named, nil
}
