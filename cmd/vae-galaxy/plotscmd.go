package main

import (
	"encoding/json"
	"fmt"
	"log"
	"path/filepath"
	"sort"

	"github.com/sugarme/gotch"

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
		return drawCompare(pc.Out, pc.Compare)
	}
	ckDir := filepath.Join(pc.Out, "checkpoint")
	meta, err := checkpoint.ReadMeta(ckDir)
	if err != nil {
		return err
	}
	var cfg Config
	if err := json.Unmarshal(meta.Config, &cfg); err != nil {
		return fmt.Errorf("read %s: %w", ckDir, err)
	}
	if pc.DataDir != "" {
		cfg.DataDir = pc.DataDir
	}
	if pc.CacheDir != "" {
		cfg.CacheDir = pc.CacheDir
	}
	if pc.Class != "" {
		cfg.Class = pc.Class
	}
	m, _, named, err := buildModel(cfg.modelConfig(), gotch.CPU) // redrawing: the CPU is enough
	if err != nil {
		return err
	}
	if _, err := checkpoint.Load(ckDir, named, nil); err != nil {
		return err
	}
	data, err := loadData(cfg.dataOptions())
	if err != nil {
		return err
	}
	defer data.Drop()
	res := map[string]float64{}
	if _, err := drawAll(pc.Out, m, named, data, cfg.Class, res, data.split(cfg)); err != nil {
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
