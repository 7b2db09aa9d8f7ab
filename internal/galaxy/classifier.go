package galaxy

import (
	"fmt"

	"github.com/sugarme/gotch/ts"

	"torchlab/datasets"
	"torchlab/internal/cli"
	"torchlab/models/galaxycnn"
	"torchlab/torch/torchrt"
)

// ClassifierConfig is the galaxy classifier's configuration (the command
// galaxy-classifier; its checkpoints store it): a small CNN
// (models/galaxycnn) trained on the same training split as the VAEs (the
// same seed, fractions, crop and size give the same galaxies), to judge
// their samples.
type ClassifierConfig struct {
	cli.Common
	Epochs       int     `json:"epochs"`
	BatchSize    int     `json:"batch_size"`
	LR           float64 `json:"lr"`
	ImageSize    int     `json:"image_size"`
	Crop         int     `json:"crop"`
	TestFraction float64 `json:"test_fraction"`
	ValFraction  float64 `json:"val_fraction"`
	CacheDir     string  `json:"cache_dir"`
	Workers      int     `json:"workers"`
	Limit        int     `json:"limit"`
}

// DataOptions is how the classifier loads the galaxies.
func (c ClassifierConfig) DataOptions() Options {
	return Options{DataDir: c.DataDir, CacheDir: c.CacheDir, Crop: c.Crop, Size: c.ImageSize, Workers: c.Workers,
		Limit: c.Limit, TestFraction: c.TestFraction, ValFraction: c.ValFraction, Seed: c.DataSeed()}
}

// NetConfig is the classifier's architecture for its image size.
func (c ClassifierConfig) NetConfig() galaxycnn.Config {
	n := galaxycnn.DefaultConfig(int64(datasets.NumClasses))
	n.ImageSize = int64(c.ImageSize)
	return n
}

// Accuracy is the share of images x [N, 3, S, S] the net assigns to their
// class y, overall and per class (NaN for a class with no images).
func Accuracy(net *galaxycnn.Net, x *ts.Tensor, y []int64) (float64, []float64, error) {
	var pred []int64
	err := torchrt.NoGrad(func() error {
		var err error
		pred, err = net.Predict(x, 256)
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	return Agreement(pred, y)
}

// Agreement is the share of pred equal to want, overall and per wanted
// class (NaN for a class never wanted).
func Agreement(pred, want []int64) (float64, []float64, error) {
	if len(pred) != len(want) || len(want) == 0 {
		return 0, nil, fmt.Errorf("agreement: %d predictions for %d labels", len(pred), len(want))
	}
	hits, per, n := 0, make([]float64, datasets.NumClasses), make([]float64, datasets.NumClasses)
	for i, w := range want {
		n[w]++
		if pred[i] == w {
			hits++
			per[w]++
		}
	}
	for c := range per {
		per[c] /= n[c] // NaN for an empty class
	}
	return float64(hits) / float64(len(want)), per, nil
}
