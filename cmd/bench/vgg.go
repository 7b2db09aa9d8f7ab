package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"time"

	"github.com/spf13/pflag"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/internal/cli"
	"torchlab/internal/train"
	"torchlab/internal/vggmnist"
	"torchlab/models/vgg"
	"torchlab/torch/memstat"
	"torchlab/torch/optim"
	"torchlab/torch/peak"
	"torchlab/torch/tensors"
	"torchlab/torch/torchrt"
)

// benchConfig sets what `bench vgg` times.
type benchConfig struct {
	cli.Common
	Steps, Warmup, BatchSize int
	EvalImages, EvalBatch    int
	EvalChannelsLast         bool
	MatmulSize, MatmulReps   int
	FMAUnits                 int
	BatchNorm                bool
	Optimizer                string
}

func defaultBenchConfig() benchConfig {
	return benchConfig{Steps: 30, Warmup: 5, BatchSize: 64, EvalImages: 2000, EvalBatch: vggmnist.DefaultEvalBatch,
		EvalChannelsLast: vggmnist.DefaultEvalChannelsLast, MatmulSize: 2048, MatmulReps: 10, FMAUnits: 2, Optimizer: "sgd"}
}

func (c *benchConfig) addFlags(fs *pflag.FlagSet) {
	c.Common.AddFlags(fs, "out/bench")
	fs.IntVar(&c.Steps, "steps", c.Steps, "timed training steps")
	fs.IntVar(&c.Warmup, "warmup", c.Warmup, "untimed training steps first")
	fs.IntVar(&c.BatchSize, "batch-size", c.BatchSize, "minibatch size")
	fs.IntVar(&c.EvalImages, "eval-images", c.EvalImages, "random images evaluated (eval mode, no grad) after the steps; 0 skips")
	fs.IntVar(&c.EvalBatch, "eval-batch-size", c.EvalBatch, "their batch size (vgg-mnist train's default)")
	fs.BoolVar(&c.EvalChannelsLast, "eval-channels-last", c.EvalChannelsLast, "evaluate them channels-last (vgg-mnist train's default)")
	fs.IntVar(&c.MatmulSize, "matmul-size", c.MatmulSize, "side of the square products that measure libtorch's peak (a multiple of 16)")
	fs.IntVar(&c.MatmulReps, "matmul-reps", c.MatmulReps, "timed products of each kind (OpenBLAS, oneDNN); the best counts")
	fs.IntVar(&c.FMAUnits, "fma-units", c.FMAUnits, "FMA units per core assumed for the theoretical peak")
	fs.BoolVar(&c.BatchNorm, "batch-norm", c.BatchNorm, "time the batch-norm variant")
	fs.StringVar(&c.Optimizer, "optimizer", c.Optimizer, "sgd (momentum 0.9, as the PyTorch reference's bench) or adam (the train command's default)")
}

// benchResult is the JSON line `bench vgg` prints; scripts/reference/vgg_mnist.py
// bench writes the same keys for PyTorch.
type benchResult struct {
	ImagesPerSecond float64 `json:"images_per_second"`
	Seconds         float64 `json:"seconds"`
	Steps           int     `json:"steps"`
	BatchSize       int     `json:"batch_size"`
	Threads         int     `json:"threads"`
	PeakRSSBytes    int64   `json:"peak_rss_bytes"`
	GFLOPS          float64 `json:"gflops"`
	// EvalImagesPerSecond is vgg-mnist train's evaluation
	// (vggmnist.Evaluate) on random images at EvalBatchSize.
	EvalImagesPerSecond float64 `json:"eval_images_per_second,omitempty"`
	EvalBatchSize       int     `json:"eval_batch_size,omitempty"`
	EvalChannelsLast    bool    `json:"eval_channels_last,omitempty"`
	// MatmulGFLOPS is the measured peak, the best of OpenBLAS's and
	// oneDNN's products (torch/peak) in this process at the same threads.
	MatmulGFLOPS   float64 `json:"matmul_gflops"`
	OpenBLASGFLOPS float64 `json:"openblas_gflops"`
	OneDNNGFLOPS   float64 `json:"onednn_gflops"`
	FMAGFLOPS      float64 `json:"fma_gflops"` // the machine's theoretical FMA peak
	FMA            string  `json:"fma"`        // its arithmetic and assumptions
}

// benchVGG times vgg-mnist's training steps of VGG11 on random MNIST-shaped batches (SGD
// with momentum, as the reference's bench), then the peaks its GFLOP/s is a
// share of.
func benchVGG(cfg benchConfig, w io.Writer) error {
	mc := vgg.DefaultConfig()
	mc.BatchNorm = cfg.BatchNorm
	vs := nn.NewVarStore(gotch.CPU)
	model, err := vgg.New(vs.Root(), mc)
	if err != nil {
		return err
	}
	named, err := tensors.Named(vs)
	if err != nil {
		return err
	}
	if err := cfg.InitWeights(named, log.Printf); err != nil {
		return err
	}
	oc := optim.Config{Name: cfg.Optimizer, LR: 0.01, Momentum: 0.9}
	if oc.Name == "adam" {
		oc.LR, oc.Momentum = 1e-4, 0
	}
	opt, err := optim.New(oc, named)
	if err != nil {
		return err
	}
	x := ts.MustRandn([]int64{int64(cfg.BatchSize), 1, vggmnist.ImageSize, vggmnist.ImageSize}, gotch.Float, gotch.CPU)
	defer x.MustDrop()
	y := ts.MustRandint(10, []int64{int64(cfg.BatchSize)}, gotch.Int64, gotch.CPU)
	defer y.MustDrop()
	guard, err := train.NewGuard(train.GuardConfig{OnDivergence: train.OnDivergenceStop}, nil)
	if err != nil {
		return err
	}
	var t0 time.Time
	for i := range cfg.Warmup + cfg.Steps {
		if i == cfg.Warmup {
			t0 = time.Now()
		}
		if _, _, _, err := vggmnist.TrainStep(model, opt, guard, i, x, y); err != nil {
			return fmt.Errorf("bench step %d: %w", i, err)
		}
	}
	secs := time.Since(t0).Seconds()
	evalIPS, err := benchEval(model, cfg.EvalImages, cfg.EvalBatch, cfg.EvalChannelsLast)
	if err != nil {
		return err
	}
	peakRSS, err := memstat.PeakRSS()
	if err != nil {
		return err
	}
	fma, err := peak.ThisMachine(cfg.FMAUnits)
	if err != nil {
		return err
	}
	mm, err := peak.Measure(cfg.MatmulSize, cfg.MatmulReps)
	if err != nil {
		return err
	}
	ips := float64(cfg.Steps*cfg.BatchSize) / secs
	r := benchResult{
		ImagesPerSecond: ips, Seconds: secs, Steps: cfg.Steps, BatchSize: cfg.BatchSize,
		Threads: torchrt.Threads(), PeakRSSBytes: peakRSS,
		GFLOPS:       ips * float64(mc.TrainFLOPs(vggmnist.ImageSize)) / 1e9,
		MatmulGFLOPS: mm.Best(), OpenBLASGFLOPS: mm.OpenBLAS, OneDNNGFLOPS: mm.OneDNN,
		FMAGFLOPS: fma.GFLOPS(), FMA: fma.String(),
		EvalImagesPerSecond: evalIPS, EvalBatchSize: cfg.EvalBatch, EvalChannelsLast: cfg.EvalChannelsLast,
	}
	return json.NewEncoder(w).Encode(r)
}

// benchEval times vgg-mnist train's evaluation of n random images in
// batches of batch (channels-last or not), after one untimed batch; 0
// images times nothing.
func benchEval(model *vgg.VGG, n, batch int, channelsLast bool) (float64, error) {
	if n <= 0 {
		return 0, nil
	}
	if batch <= 0 {
		return 0, fmt.Errorf("--eval-batch-size must be positive")
	}
	images := ts.MustRandn([]int64{int64(n), 1, vggmnist.ImageSize, vggmnist.ImageSize}, gotch.Float, gotch.CPU)
	defer images.MustDrop()
	labels := ts.MustRandint(10, []int64{int64(n)}, gotch.Int64, gotch.CPU)
	defer labels.MustDrop()
	var secs float64
	err := vggmnist.WithChannelsLast(model, channelsLast, func() error {
		if _, _, err := vggmnist.Evaluate(model, images, labels, min(batch, n), batch, nil); err != nil {
			return err
		}
		t0 := time.Now()
		if _, _, err := vggmnist.Evaluate(model, images, labels, n, batch, nil); err != nil {
			return err
		}
		secs = time.Since(t0).Seconds()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("bench evaluation: %w", err)
	}
	return float64(n) / secs, nil
}
