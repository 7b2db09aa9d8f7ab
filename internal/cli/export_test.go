package cli

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"torchlab/internal/train"
	"torchlab/torch/checkpoint"
	"torchlab/torch/npz"
	"torchlab/torch/reference"
	"torchlab/torch/statedict"
	"torchlab/torch/tensors"
	"torchlab/torch/testnet"
	"torchlab/torch/torchrt"
)

// saveNet saves a freshly seeded test net as a checkpoint in dir at step
// and returns its weights.
func saveNet(t *testing.T, dir string, seed, step int64) map[string]npz.Array {
	t.Helper()
	_, named, err := testnet.Seeded(seed)
	if err != nil {
		t.Fatal(err)
	}
	cfg := map[string]any{"hidden": 3, "seed": seed}
	if err := checkpoint.Save(dir, checkpoint.Meta{Step: step}, cfg, named, nil); err != nil {
		t.Fatal(err)
	}
	w, err := tensors.ToArrays(named)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestExport: a run folder exports its best/ checkpoint (not checkpoint/)
// in both formats, the safetensors metadata carries the run's
// configuration and step, and torch.load reads the .pt as a plain dict of
// the same tensors.
func TestExport(t *testing.T) {
	torchrt.Lock()
	run := t.TempDir()
	saveNet(t, filepath.Join(run, "checkpoint"), 1, 40)
	best := saveNet(t, train.BestDir(run), 2, 30)
	for _, format := range statedict.Formats {
		file := filepath.Join(t.TempDir(), "net."+format)
		if err := Export("testcmd", []string{"--format", format, "--out", file, run}, io.Discard, nil); err != nil {
			t.Fatal(err)
		}
		got, meta, err := statedict.Read(file)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, best) {
			t.Errorf("%s: the exported weights are not best/'s", format)
		}
		if format == statedict.SafeTensors && (meta["step"] != "30" || meta["command"] != "testcmd" || !strings.Contains(meta["config"], `"seed":2`)) {
			t.Errorf("metadata %v: want step 30, command testcmd and best/'s config", meta)
		}
		if format == statedict.PT {
			torchLoaded := reference.RunOrSkip(t, "statedict.py", nil, "read", "--file", file)
			for name, a := range best {
				reference.AssertClose(t, "torch.load "+name, torchLoaded[name].Floats(), a.Floats(), 0)
			}
		}
	}
}

func TestExportErrors(t *testing.T) {
	empty := t.TempDir()
	out := filepath.Join(t.TempDir(), "x.pt")
	for name, args := range map[string][]string{
		"no checkpoint": {"--out", out, empty},
		"no --out":      {empty},
		"no run":        {"--out", out},
		"bad format":    {"--format", "onnx", "--out", out, empty},
		"no suffix":     {"--out", filepath.Join(empty, "weights"), empty},
	} {
		err := Export("testcmd", args, io.Discard, nil)
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	err := Export("testcmd", []string{"--out", out, empty}, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), empty) {
		t.Errorf("error %v does not name %s", err, empty)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed export left a file")
	}
}
