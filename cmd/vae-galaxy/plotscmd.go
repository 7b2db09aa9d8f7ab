package main

import (
	"encoding/json"
	"fmt"
	"log"
	"path/filepath"
	"sort"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"torchlab/internal/cli"
	"torchlab/internal/galaxy"
	"torchlab/internal/runrec"
	"torchlab/internal/vaeplots"
	"torchlab/models/vae"
	"torchlab/torch/checkpoint"
	"torchlab/torch/torchrt"
)

// runPlots redraws a run's figures from metrics.csv and its checkpoint, or
// with --compare draws several runs' curves together.
func runPlots(pc PlotsConfig) error {
	if _, err := torchrt.Init(torchrt.Config{Threads: pc.Threads, Seed: 1}); err != nil {
		return err
	}
	if len(pc.Compare) > 0 {
		return vaeplots.DrawCompare(pc.Out, pc.Compare)
	}
	run, err := loadRun(pc.Out, filepath.Join(pc.Out, "checkpoint"), pc.DataDir, pc.CacheDir)
	if err != nil {
		return err
	}
	defer run.data.Drop()
	if pc.Class != "" {
		run.cfg.Class = pc.Class
	}
	m, named, data, cfg := run.model, run.named, run.data, run.cfg
	var j *vaeplots.Judge
	if pc.Judge != "" {
		if j, err = vaeplots.LoadJudge(pc.Judge, cfg.ImageSize, cfg.testSplit()); err != nil {
			return err
		}
	}
	res := map[string]float64{}
	notes, err := vaeplots.DrawAll(pc.Out, m, named, data, cfg.Class, res, cfg.split(data), j)
	if err != nil {
		return err
	}
	if err := writeJudged(pc.Out, res, notes); err != nil {
		return err
	}
	keys := make([]string, 0, len(res))
	for k := range res {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		log.Printf("%s = %.4f", k, res[k])
	}
	log.Printf("figures redrawn in %s", pc.Out)
	return nil
}

// testSplit is what decides the run's test galaxies (vaeplots.LoadJudge
// compares it with a classifier's).
func (c Config) testSplit() vaeplots.TestSplit {
	return vaeplots.TestSplit{Seed: c.DataSeed(), TestFraction: c.TestFraction, Limit: c.Limit, Crop: c.Crop}
}

// writeJudged writes the sample-quality numbers of a redraw to
// <out>/samples.json (summary.json stays the training run's own).
func writeJudged(out string, res map[string]float64, notes []string) error {
	return runrec.WriteSamples(out, runrec.Samples{Command: cli.CommandLine(), Results: res, Notes: notes})
}

// trainedRun is a run's configuration, a model loaded from one of its
// checkpoints, and its data.
type trainedRun struct {
	cfg   Config
	model *vae.VAE
	named map[string]*ts.Tensor
	step  int
	data  *galaxy.Data
}

// loadRun reads the configuration of the run in out (its checkpoint/
// folder), builds the model on the CPU with the weights of the checkpoint
// folder dir (checkpoint/ or best/), and loads the run's data (from
// dataDir and cacheDir when given).
func loadRun(out, dir, dataDir, cacheDir string) (*trainedRun, error) {
	ckDir := filepath.Join(out, "checkpoint")
	meta, err := checkpoint.ReadMeta(ckDir)
	if err != nil {
		return nil, err
	}
	var cfg Config
	if err := json.Unmarshal(meta.Config, &cfg); err != nil {
		return nil, fmt.Errorf("read %s: %w", ckDir, err)
	}
	if dataDir != "" {
		cfg.DataDir = dataDir
	}
	if cacheDir != "" {
		cfg.CacheDir = cacheDir
	}
	m, _, named, err := buildModel(cfg.modelConfig(), gotch.CPU) // evaluating: the CPU is enough
	if err != nil {
		return nil, err
	}
	loaded, err := checkpoint.Load(dir, named, nil)
	if err != nil {
		return nil, err
	}
	data, err := galaxy.Load(cfg.dataOptions(), log.Default())
	if err != nil {
		return nil, err
	}
	return &trainedRun{cfg: cfg, model: m, named: named, step: int(loaded.Step), data: data}, nil
}
