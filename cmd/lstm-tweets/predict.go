package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"

	"torchlab/datasets"
	"torchlab/models/charlstm"
	"torchlab/models/charlstm/pretrained"
	"torchlab/torch/checkpoint"
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
	model, tc, err := loadModel(cfg.Checkpoint)
	if err != nil {
		return err
	}
	defer model.Drop()
	texts := cfg.Texts
	if len(texts) == 0 {
		if texts, err = readTexts(stdin); err != nil {
			return err
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

// maxLine is the longest input line predict reads (a tweet is 280
// characters; a longer line is an error, not a silent cut).
const maxLine = 1 << 20

// readTexts reads one text per line of r.
func readTexts(r io.Reader) ([]string, error) {
	var texts []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), maxLine)
	for sc.Scan() {
		texts = append(texts, sc.Text())
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read standard input: %w", err)
	}
	return texts, nil
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
	vs := nn.NewVarStore(gotch.CPU)
	model, err := charlstm.New(vs.Root(), tc.Model)
	if err != nil {
		return nil, nil, err
	}
	params, err := tensors.Named(vs)
	if err == nil {
		_, err = checkpoint.Load(dir, params, nil)
	}
	if err != nil {
		model.Drop()
		return nil, nil, err
	}
	return model, &tc, nil
}
