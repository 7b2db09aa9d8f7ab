package checkpoint

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"torchlab/torch/optim"
	"torchlab/torch/tensors"
	"torchlab/torch/testnet"
	"torchlab/torch/torchrt"
)

type runConfig struct {
	Width int `json:"width"`
}

// TestResumeEqualsUninterrupted: 5 steps, save, 3 more steps; against a
// fresh model (other seed) loaded from the save, then the same 3 steps.
// Adam's moments and step count must come back for the losses to agree.
func TestResumeEqualsUninterrupted(t *testing.T) {
	torchrt.Lock()
	dir := t.TempDir()
	build := func(seed int64) (*testnet.Net, *optim.Optimizer) {
		torchrt.ManualSeed(seed)
		n, err := testnet.New()
		if err != nil {
			t.Fatal(err)
		}
		params, err := tensors.Named(n.VS)
		if err != nil {
			t.Fatal(err)
		}
		opt, err := optim.New(optim.Config{Name: "adam", LR: 1e-2}, params)
		if err != nil {
			t.Fatal(err)
		}
		return n, opt
	}
	n, opt := build(1)
	x, y, err := testnet.Batch()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if _, err := n.Step(opt, x, y); err != nil {
			t.Fatal(err)
		}
	}
	model, _ := tensors.Named(n.VS)
	if err := Save(dir, Meta{Step: 5, Seed: 1}, runConfig{Width: 4}, model, opt); err != nil {
		t.Fatal(err)
	}
	var want []float64
	for i := 0; i < 3; i++ {
		v, _ := n.Step(opt, x, y)
		want = append(want, v)
	}

	n2, opt2 := build(99)
	model2, _ := tensors.Named(n2.VS)
	meta, err := Load(dir, model2, opt2)
	if err != nil {
		t.Fatal(err)
	}
	var cfg runConfig
	if err := json.Unmarshal(meta.Config, &cfg); err != nil || cfg.Width != 4 || meta.Step != 5 || meta.OptimizerSteps != 5 {
		t.Errorf("meta = %+v, config %s", meta, meta.Config)
	}
	for i := 0; i < 3; i++ {
		got, _ := n2.Step(opt2, x, y)
		if got != want[i] {
			t.Errorf("step %d after resume: loss %v, uninterrupted %v", 6+i, got, want[i])
		}
	}
}

func TestLoadRejectsMismatches(t *testing.T) {
	torchrt.Lock()
	dir := t.TempDir()
	n, _ := testnet.New()
	model, _ := tensors.Named(n.VS)
	if err := Save(dir, Meta{Step: 2}, nil, model, nil); err != nil {
		t.Fatal(err)
	}
	// A model with a different shape.
	other, _ := testnet.New()
	otherModel, _ := tensors.Named(other.VS)
	otherModel["fc.weight"] = otherModel["conv.weight"]
	if _, err := Load(dir, otherModel, nil); err == nil || !strings.Contains(err.Error(), "fc.weight") {
		t.Errorf("shape mismatch: got %v, want an error naming fc.weight", err)
	}
	// Metadata from another save than the tensors.
	b, _ := os.ReadFile(filepath.Join(dir, metaFile))
	os.WriteFile(filepath.Join(dir, metaFile), []byte(strings.Replace(string(b), `"step": 2`, `"step": 3`, 1)), 0o644)
	if _, err := Load(dir, model, nil); err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Errorf("step mismatch: got %v", err)
	}
	if _, err := Load(t.TempDir(), model, nil); err == nil {
		t.Error("empty dir: want an error")
	}
}
