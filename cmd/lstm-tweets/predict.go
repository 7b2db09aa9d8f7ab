package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/datasets"
	"torchlab/models/charlstm"
	"torchlab/models/charlstm/pretrained"
	"torchlab/torch/checkpoint"
	"torchlab/torch/statedict"
	"torchlab/torch/tensors"
	"torchlab/torch/torchrt"
)

var classNames = []string{"negative", "positive"}

// predict prints the class and probabilities of each text.
func predict(cfg *predictConfig, stdin io.Reader, stdout, stderr io.Writer) error {
	if _, err := torchrt.Init(torchrt.Config{Threads: cfg.Threads, Seed: 1}); err != nil {
		return err
	}
	torchrt.SetBLASThreads(cfg.BLASThreads)
	if cfg.Shipped {
		dir, err := os.MkdirTemp("", "torchlab-lstm-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if err := pretrained.Extract(dir); err != nil {
			return err
		}
		scores, err := pretrained.Recorded()
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "lstm-tweets: no model in %s; using %s\n", defaultOut, scores)
		cfg.Checkpoint = dir
	}
	var model *charlstm.Model
	var tc *trainConfig
	var err error
	if cfg.InitFrom != "" {
		model, tc, err = loadStateDict(cfg.InitFrom)
	} else {
		model, tc, err = loadModel(cfg.Checkpoint)
	}
	if err != nil {
		return err
	}
	defer model.Drop()
	texts := cfg.Texts
	if len(texts) == 0 {
		sc := bufio.NewScanner(stdin)
		sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
		for sc.Scan() {
			texts = append(texts, sc.Text())
		}
		if err := sc.Err(); err != nil {
			return fmt.Errorf("read standard input: %w", err)
		}
	}
	logp, err := model.LogProbs(datasets.EncodeTexts(texts, tc.MaxLen), 256)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(stdout)
	for i, row := range logp {
		p := charlstm.Probabilities(row)
		class := 0
		if p[1] > p[0] {
			class = 1
		}
		fmt.Fprintf(w, "%d %s p_negative=%.4f p_positive=%.4f %s\n", class, classNames[class], p[0], p[1], texts[i])
	}
	return w.Flush()
}

// loadModel builds the model that the checkpoint in dir describes and loads
// its weights; it returns the run's configuration too.
func loadModel(dir string) (*charlstm.Model, *trainConfig, error) {
	meta, err := checkpoint.ReadMeta(dir)
	if err != nil {
		return nil, nil, err
	}
	var tc trainConfig
	if err := json.Unmarshal(meta.Config, &tc); err != nil {
		return nil, nil, fmt.Errorf("configuration in %s: %w", dir, err)
	}
	model, err := buildModel(tc.Model, func(params map[string]*ts.Tensor) error {
		_, err := checkpoint.Load(dir, params, nil)
		return err
	})
	return model, &tc, err
}

// loadStateDict builds the model for a PyTorch state_dict file, with the
// configuration in its metadata (a .safetensors file from export) or the
// default one, and loads its weights after the strict check.
func loadStateDict(file string) (*charlstm.Model, *trainConfig, error) {
	tc, err := parseTrain(nil, io.Discard)
	if err != nil {
		return nil, nil, err
	}
	_, meta, err := statedict.Read(file)
	if err != nil {
		return nil, nil, err
	}
	if c := meta["config"]; c != "" {
		if err := json.Unmarshal([]byte(c), tc); err != nil {
			return nil, nil, fmt.Errorf("configuration in %s: %w", file, err)
		}
	}
	model, err := buildModel(tc.Model, func(params map[string]*ts.Tensor) error { return statedict.Load(file, params) })
	return model, tc, err
}

// buildModel makes a model of configuration mc and fills its variables
// with load.
func buildModel(mc charlstm.Config, load func(map[string]*ts.Tensor) error) (*charlstm.Model, error) {
	vs := nn.NewVarStore(gotch.CPU)
	model, err := charlstm.New(vs.Root(), mc)
	if err != nil {
		return nil, err
	}
	params, err := tensors.Named(vs)
	if err == nil {
		err = load(params)
	}
	if err != nil {
		model.Drop()
		return nil, err
	}
	return model, nil
}
