package main

import (
	"context"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"torchlab/internal/cli"
	"torchlab/torch/checkpoint"
	"torchlab/torch/statedict"
)

// TestExportThenInitFrom: a short run exports its best model (what
// checkpoint.Weights reads from best/, tensor for tensor), and a run whose
// classifier is narrower refuses that file through --init-from before
// training, naming the classifier's mis-shaped weights.
func TestExportThenInitFrom(t *testing.T) {
	cfg := smallConfig(t, 128, 64, 1)
	mustTrain(t, cfg)
	file := filepath.Join(t.TempDir(), "vgg.safetensors")
	if err := cli.Export("vgg-mnist", []string{"--format", "safetensors", "--out", file, cfg.Out}, io.Discard, nil); err != nil {
		t.Fatal(err)
	}
	got, meta, err := statedict.Read(file)
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := checkpoint.Weights(filepath.Join(cfg.Out, "best"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) || !strings.Contains(meta["config"], `"hidden":512`) {
		t.Errorf("export differs from best/ (%d vs %d tensors) or lacks its config: %v", len(got), len(want), meta["config"])
	}

	narrow := smallConfig(t, 128, 64, 1)
	narrow.Model.Hidden = 256
	narrow.InitFrom = file
	_, err = runTrain(context.Background(), narrow, testLogger(t))
	if err == nil || !strings.Contains(err.Error(), "classifier.0.weight: shape [512 512] in the file, [256 512] in the model") {
		t.Fatalf("--init-from a wider classifier: %v", err)
	}
}
