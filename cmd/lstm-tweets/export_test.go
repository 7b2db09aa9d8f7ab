package main

import (
	"bytes"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"

	"torchlab/datasets"
	"torchlab/models/charlstm"
	"torchlab/models/charlstm/pretrained"
	"torchlab/torch/checkpoint"
	"torchlab/torch/npz"
	"torchlab/torch/reference"
	"torchlab/torch/statedict"
	"torchlab/torch/tensors"
	"torchlab/torch/torchrt"
)

// testTweets are the first n non-empty bundled test tweets as the model's
// codes, and as the reference's padded batch: codes [n, T], lengths [n].
func testTweets(t *testing.T, n, maxLen int) ([][]uint8, map[string]npz.Array) {
	t.Helper()
	var seqs [][]uint8
	for _, s := range datasets.EncodeTexts(bundledTestTweets(t).Texts, maxLen) {
		if len(s) > 0 && len(seqs) < n {
			seqs = append(seqs, s)
		}
	}
	width := 0
	for _, s := range seqs {
		width = max(width, len(s))
	}
	codes := make([]int64, len(seqs)*width)
	lengths := make([]int64, len(seqs))
	for i, s := range seqs {
		for j, c := range s {
			codes[i*width+j] = int64(c)
		}
		lengths[i] = int64(len(s))
	}
	return seqs, map[string]npz.Array{"codes": npz.Int64(codes, len(seqs), width), "lengths": npz.Int64(lengths, len(seqs))}
}

// bundledTestTweets are the bundled sample's 1,000 test tweets.
func bundledTestTweets(t *testing.T) *datasets.TweetSet {
	t.Helper()
	sample, err := datasets.SampleDir()
	if err != nil {
		t.Fatal(err)
	}
	set, err := datasets.ReadTweets(filepath.Join(sample, "tweets", "tweetstest.csv"), false)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// shippedModel loads the model predict ships with, and its configuration.
func shippedModel(t *testing.T) (*charlstm.Model, *Config) {
	t.Helper()
	dir := t.TempDir()
	if err := pretrained.Extract(dir); err != nil {
		t.Fatal(err)
	}
	model, tc, _, err := loadModel(dir)
	if err != nil {
		t.Fatal(err)
	}
	return model, tc
}

func flat(rows [][]float32) []float64 {
	var out []float64
	for _, r := range rows {
		for _, v := range r {
			out = append(out, float64(v))
		}
	}
	return out
}

// TestExportShippedModelToPyTorch: `lstm-tweets export` of the shipped
// model, in both formats, loads into the PyTorch reference CharLSTM with
// strict=True, and its log-probabilities on 64 bundled test tweets are
// predict's within 1e-5 (float32 over up to 280 LSTM steps; a wrong gate
// order or a transposed weight moves them by more than 0.1). The .pt then
// takes the ONNX route (reference.CheckONNX), and `predict --init-from`
// either file prints what predict prints with the shipped model.
func TestExportShippedModelToPyTorch(t *testing.T) {
	torchrt.Lock() // grad mode is per thread
	reference.PythonOrSkip(t)
	model, tc := shippedModel(t)
	defer model.Drop()
	seqs, batch := testTweets(t, 64, tc.MaxLen)
	logp, err := model.LogProbs(seqs, 256)
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"I love this song", "this is the worst", "what a lovely day"}
	var shipped bytes.Buffer
	if err := dispatch(append([]string{"predict"}, texts...), nil, &shipped, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"shipped.pt", "shipped.safetensors"} {
		file := filepath.Join(t.TempDir(), name)
		format := strings.TrimPrefix(filepath.Ext(name), ".")
		if err := dispatch([]string{"export", "--format", format, "--out", file}, nil, io.Discard, io.Discard); err != nil {
			t.Fatal(err)
		}
		out := reference.RunOrSkip(t, "statedict.py", batch, "forward", "--model", "lstm", "--file", file)
		reference.AssertClose(t, name+" in PyTorch vs predict", out["logp"].Floats(), flat(logp), 1e-5)
		var fromFile bytes.Buffer
		if err := dispatch(append([]string{"predict", "--init-from", file}, texts...), nil, &fromFile, io.Discard); err != nil {
			t.Fatal(err)
		}
		if fromFile.String() != shipped.String() {
			t.Errorf("predict --init-from %s:\n%s\nthe shipped model:\n%s", name, fromFile.String(), shipped.String())
		}
		if format == "pt" {
			t.Run("onnx", func(t *testing.T) { reference.CheckONNX(t, "lstm", file) })
		}
	}
}

// TestInitFromMismatch: a state_dict of another shape is refused before
// training, naming the mis-shaped keys.
func TestInitFromMismatch(t *testing.T) {
	torchrt.Lock()
	reference.PythonOrSkip(t)
	file := filepath.Join(t.TempDir(), "hidden64.pt")
	reference.RunOrSkip(t, "statedict.py", nil, "init", "--model", "lstm", "--hidden", "64", "--file", file)
	data, args := fixture(t)
	args = append(args, "--out", filepath.Join(data, "run"), "--iterations", "0", "--init-from", file)
	err := dispatch(append([]string{"train"}, args...), nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "size mismatch for fc.weight: shape [2 64] in the file, [2 128] in the model") ||
		!strings.Contains(err.Error(), file) {
		t.Fatalf("error %v, want one naming %s and its mis-shaped fc.weight", err, file)
	}
}

// TestInitFromPyTorch: a CharLSTM made and saved by PyTorch (torch.save
// and safetensors) gives, loaded with --init-from's loader, PyTorch's own
// log-probabilities; and `train --init-from` starts from exactly those
// weights (its step-0 checkpoint holds them).
func TestInitFromPyTorch(t *testing.T) {
	torchrt.Lock()
	reference.PythonOrSkip(t)
	cfg, err := parseTrain(nil, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	seqs, batch := testTweets(t, 16, cfg.MaxLen)
	for _, name := range []string{"torch.pt", "torch.safetensors"} {
		t.Run(name, func(t *testing.T) {
			torchrt.Lock() // t.Run starts a new goroutine
			file := filepath.Join(t.TempDir(), name)
			want := reference.RunOrSkip(t, "statedict.py", batch, "init", "--model", "lstm", "--seed", "3", "--file", file)
			vs := nn.NewVarStore(gotch.CPU)
			model, err := charlstm.New(vs.Root(), cfg.Model)
			if err != nil {
				t.Fatal(err)
			}
			defer model.Drop()
			named, err := tensors.Named(vs)
			if err != nil {
				t.Fatal(err)
			}
			if err := statedict.Load(file, named); err != nil {
				t.Fatal(err)
			}
			logp, err := model.LogProbs(seqs, 256)
			if err != nil {
				t.Fatal(err)
			}
			reference.AssertClose(t, "Go vs PyTorch from PyTorch's weights", flat(logp), want["logp"].Floats(), 1e-5)

			data, args := fixture(t)
			out := filepath.Join(data, "run")
			args = append(args, "--out", out, "--iterations", "0", "--init-from", file)
			if err := dispatch(append([]string{"train"}, args...), nil, io.Discard, io.Discard); err != nil {
				t.Fatal(err)
			}
			fromFile, _, err := statedict.Read(file)
			if err != nil {
				t.Fatal(err)
			}
			started, _, err := checkpoint.Weights(checkpointDir(out))
			if err != nil {
				t.Fatal(err)
			}
			if len(started) != len(fromFile) {
				t.Fatalf("checkpoint has %d tensors, the file %d", len(started), len(fromFile))
			}
			for k, a := range fromFile {
				reference.AssertClose(t, "step-0 "+k, started[k].Floats(), a.Floats(), 0)
			}
		})
	}
}
