package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"

	"torchlab/datasets"
	"torchlab/models/charlstm"
	"torchlab/torch/checkpoint"
	"torchlab/torch/tensors"
	"torchlab/torch/torchrt"
)

var classNames = []string{"negative", "positive"}

// predict prints the class and probabilities of each text.
func predict(cfg *predictConfig, stdin io.Reader, stdout io.Writer) error {
	if _, err := torchrt.Init(torchrt.Config{Threads: cfg.Threads, Seed: 1}); err != nil {
		return err
	}
	torchrt.SetBLASThreads(cfg.BLASThreads)
	meta, err := checkpoint.ReadMeta(cfg.Checkpoint)
	if err != nil {
		return err
	}
	var tc trainConfig
	if err := json.Unmarshal(meta.Config, &tc); err != nil {
		return fmt.Errorf("configuration in %s: %w", cfg.Checkpoint, err)
	}
	vs := nn.NewVarStore(gotch.CPU)
	model, err := charlstm.New(vs.Root(), tc.Model)
	if err != nil {
		return err
	}
	defer model.Drop()
	params, err := tensors.Named(vs)
	if err != nil {
		return err
	}
	if _, err := checkpoint.Load(cfg.Checkpoint, params, nil); err != nil {
		return err
	}
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
