package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/internal/metrics"
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
	// sameTest is whether the VAE run's test split is the classifier's: the
	// same seed, test fraction, limit and crop. Only then may the classifier
	// be measured on the run's test images; another seed's test split holds
	// galaxies the classifier trained on.
	sameTest bool
	seed     int64
	testAcc  float64 // the classifier's accuracy on its own test split (summary.json)
}

// loadJudge loads the best model of the classifier run in dir and checks
// that it takes images of the VAE run's (cfg) size.
func loadJudge(dir string, cfg Config) (*judge, error) {
	imageSize := cfg.ImageSize
	best := train.BestDir(dir)
	meta, err := checkpoint.ReadMeta(best)
	if err != nil {
		return nil, fmt.Errorf("judge: %w", err)
	}
	var ccfg ClassifierConfig
	if err := json.Unmarshal(meta.Config, &ccfg); err != nil {
		return nil, fmt.Errorf("judge: read %s: %w", best, err)
	}
	if ccfg.ImageSize != imageSize {
		return nil, fmt.Errorf("judge: the classifier in %s takes %dx%d images, the VAE makes %dx%d", dir, ccfg.ImageSize, ccfg.ImageSize, imageSize, imageSize)
	}
	vs := nn.NewVarStore(gotch.CPU)
	net, err := galaxycnn.New(vs.Root(), ccfg.netConfig())
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
	var summary train.Summary
	if err := metrics.ReadJSON(filepath.Join(dir, "summary.json"), &summary); err != nil {
		return nil, fmt.Errorf("judge: %w", err)
	}
	acc, ok := summary.Results["test_accuracy"]
	if !ok {
		return nil, fmt.Errorf("judge: %s has no test_accuracy", filepath.Join(dir, "summary.json"))
	}
	same := ccfg.Seed == cfg.splitSeed() && ccfg.TestFraction == cfg.TestFraction && ccfg.Limit == cfg.Limit && ccfg.Crop == cfg.Crop
	return &judge{net: net, dir: dir, sameTest: same, seed: ccfg.Seed, testAcc: acc}, nil
}

// agreement is the share of images x the classifier assigns to the
// classes want.
func (j *judge) agreement(x *ts.Tensor, want []int64) (float64, error) {
	acc, _, err := classifierAccuracy(j.net, x, want)
	return acc, err
}
