package main

import (
	"encoding/json"
	"fmt"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/internal/train"
	"torchlab/models/galaxycnn"
	"torchlab/torch/checkpoint"
	"torchlab/torch/tensors"
)

// judge is the trained galaxy classifier (the classifier subcommand's best
// validation model) that says which class a generated image looks like.
type judge struct {
	net *galaxycnn.Net
	dir string
}

// loadJudge loads the best model of the classifier run in dir and checks
// that it takes images of the VAE's size.
func loadJudge(dir string, imageSize int) (*judge, error) {
	best := train.BestDir(dir)
	meta, err := checkpoint.ReadMeta(best)
	if err != nil {
		return nil, fmt.Errorf("judge: %w", err)
	}
	var cfg ClassifierConfig
	if err := json.Unmarshal(meta.Config, &cfg); err != nil {
		return nil, fmt.Errorf("judge: read %s: %w", best, err)
	}
	if cfg.ImageSize != imageSize {
		return nil, fmt.Errorf("judge: the classifier in %s takes %dx%d images, the VAE makes %dx%d", dir, cfg.ImageSize, cfg.ImageSize, imageSize, imageSize)
	}
	vs := nn.NewVarStore(gotch.CPU)
	net, err := galaxycnn.New(vs.Root(), cfg.netConfig())
	if err != nil {
		return nil, err
	}
	named, err := tensors.Named(vs)
	if err != nil {
		return nil, err
	}
	if _, err := checkpoint.Load(best, named, nil); err != nil {
		return nil, fmt.Errorf("judge: %w", err)
	}
	return &judge{net: net, dir: dir}, nil
}

// agreement is the share of images x the classifier assigns to the
// classes want.
func (j *judge) agreement(x *ts.Tensor, want []int64) (float64, error) {
	acc, _, err := classifierAccuracy(j.net, x, want)
	return acc, err
}
