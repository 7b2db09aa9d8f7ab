package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/datasets"
	"torchlab/internal/cli"
	"torchlab/internal/runrec"
	"torchlab/models/charlstm"
	"torchlab/models/charlstm/pretrained"
	"torchlab/torch/checkpoint"
	"torchlab/torch/statedict"
	"torchlab/torch/tensors"
	"torchlab/torch/torchrt"
)

var classNames = []string{"negative", "positive"}

// nearShipped is how far below the shipped model's recorded test accuracy
// a model's recorded accuracy may lie before predict warns that it
// answers worse: four standard deviations of the validation split's
// estimate (~4,500 tweets) of an accuracy near 0.8.
const nearShipped = 0.025

// prediction is one output line of predict --json.
type prediction struct {
	Text      string  `json:"text"`
	Class     int     `json:"class"`
	Label     string  `json:"label"`
	PNegative float64 `json:"p_negative"`
	PPositive float64 `json:"p_positive"`
}

// predict prints the class and probabilities of each text, after saying
// on stderr which model answers.
func predict(cfg *predictConfig, stdin io.Reader, stdout, stderr io.Writer) error {
	texts, err := predictTexts(cfg, stdin)
	if err != nil {
		return err
	}
	if _, err := torchrt.Init(torchrt.Config{Threads: cfg.Threads, Seed: 1}); err != nil {
		return err
	}
	torchrt.SetBLASThreads(cfg.BLASThreads)
	shipped, err := pretrained.Recorded()
	if err != nil {
		return err
	}
	var rec recorded
	if cfg.Shipped {
		dir, err := os.MkdirTemp("", "torchlab-lstm-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if err := pretrained.Extract(dir); err != nil {
			return err
		}
		cfg.Checkpoint = dir
		rec = recorded{Val: shipped.Val, Test: shipped.Test}
	} else if cfg.InitFrom != "" {
		rec = recorded{Val: math.NaN(), Test: math.NaN()} // a state_dict records no accuracy
	} else if !checkpoint.Exists(cfg.Checkpoint) {
		return fmt.Errorf("predict: no model in %s (train one with 'lstm-tweets train --out DIR')", cfg.Checkpoint)
	} else if rec, err = recordedAccuracy(cfg.Checkpoint); err != nil {
		return err
	}
	var model *charlstm.Model
	var tc *Config
	meta := &checkpoint.Meta{}
	if cfg.InitFrom != "" {
		model, tc, err = loadStateDict(cfg.InitFrom)
	} else {
		model, tc, meta, err = loadModel(cfg.Checkpoint)
	}
	if err != nil {
		return err
	}
	defer model.Drop()
	name, step, reached := cfg.Checkpoint, int(meta.Step), int(meta.Step)
	if cfg.InitFrom != "" {
		name = cfg.InitFrom + " (a PyTorch state_dict: no run, no recorded accuracy)"
	} else if cfg.Shipped {
		name = fmt.Sprintf("shipped with lstm-tweets (models/charlstm/pretrained; there is none in %s)", defaultOut)
	} else if run, err := checkpoint.ReadMeta(filepath.Join(filepath.Dir(cfg.Checkpoint), "checkpoint")); err == nil {
		reached = int(run.Step) // a best/ model's run went on after it
	}
	cli.Logf(stderr, "model %s: %s", name, describe(step, reached, tc.Iterations, rec))
	if warning := judge(reached, tc.Iterations, rec, shipped); !cfg.Shipped && cfg.InitFrom == "" && warning != "" {
		cli.Logf(stderr, "warning: %s", warning)
	}
	if len(texts) == 0 {
		return nil
	}
	logp, err := model.LogProbs(datasets.EncodeTexts(texts, tc.MaxLen), 256)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(stdout)
	enc := json.NewEncoder(w)
	for i, row := range logp {
		p := charlstm.Probabilities(row)
		class := 0
		if p[1] > p[0] {
			class = 1
		}
		if cfg.JSON {
			if err := enc.Encode(prediction{Text: texts[i], Class: class, Label: classNames[class], PNegative: p[0], PPositive: p[1]}); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(w, "%d %s p_negative=%.4f p_positive=%.4f %s\n", class, classNames[class], p[0], p[1], texts[i])
	}
	return w.Flush()
}

// predictTexts are the texts to classify: the arguments, or the lines of
// --file (standard input for "-" or when there are no arguments). Blank
// texts are skipped: they carry nothing to classify.
func predictTexts(cfg *predictConfig, stdin io.Reader) ([]string, error) {
	var texts []string
	if len(cfg.Texts) > 0 {
		for _, t := range cfg.Texts {
			if strings.TrimSpace(t) != "" {
				texts = append(texts, t)
			}
		}
		return texts, nil
	}
	r, name := stdin, "standard input"
	if cfg.File != "" && cfg.File != "-" {
		f, err := os.Open(cfg.File)
		if err != nil {
			return nil, fmt.Errorf("predict --file: %w", err)
		}
		defer f.Close()
		r, name = f, cfg.File
	}
	return readTexts(r, name)
}

// maxLine is the longest input line predict reads (a tweet is 280
// characters; a longer line is an error naming the input, not a silent cut).
const maxLine = 1 << 20

// readTexts reads one text per line of r (named name in errors), without
// a trailing CR, skipping blank lines.
func readTexts(r io.Reader, name string) ([]string, error) {
	var texts []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), maxLine)
	for sc.Scan() {
		if t := strings.TrimSuffix(sc.Text(), "\r"); strings.TrimSpace(t) != "" {
			texts = append(texts, t)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return texts, nil
}

// recorded are a model's accuracies as its run recorded them (NaN: not
// recorded).
type recorded struct{ Val, Test float64 }

// recordedAccuracy reads the accuracies recorded for the checkpoint in
// dir: best.json beside it (a best/ folder), else the rows of its run's
// metrics.csv (in dir's parent) at the checkpoint's iteration.
func recordedAccuracy(dir string) (recorded, error) {
	rec := recorded{Val: math.NaN(), Test: math.NaN()}
	raw, err := os.ReadFile(filepath.Join(dir, "best.json"))
	if err == nil {
		var best struct {
			At map[string]float64 `json:"at"`
		}
		if err := json.Unmarshal(raw, &best); err != nil {
			return rec, fmt.Errorf("read %s: %w", filepath.Join(dir, "best.json"), err)
		}
		if v, ok := best.At[runrec.ValAccuracy]; ok {
			rec.Val = v
		}
		if v, ok := best.At[runrec.TestAccuracy]; ok {
			rec.Test = v
		}
		return rec, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return rec, err
	}
	meta, err := checkpoint.ReadMeta(dir)
	if err != nil {
		return rec, err
	}
	tab, err := runrec.ReadMetrics(filepath.Join(filepath.Dir(dir), runrec.MetricsFile))
	if err != nil {
		return rec, nil // a checkpoint without its run's metrics: nothing recorded
	}
	its, err1 := tab.Column(runrec.ColStep)
	splits, err2 := tab.Column("split")
	accs, err3 := tab.Column(runrec.ColAccuracy)
	if err := errors.Join(err1, err2, err3); err != nil {
		return rec, err
	}
	for i := range its {
		if its[i] != strconv.FormatInt(meta.Step, 10) {
			continue
		}
		v, err := strconv.ParseFloat(accs[i], 64)
		if err != nil {
			continue
		}
		switch splits[i] {
		case runrec.Val:
			rec.Val = v
		case runrec.Test:
			rec.Test = v
		}
	}
	return rec, nil
}

// describe says where a model is in its run (which reached iteration
// reached of its iterations) and what it scored.
func describe(step, reached, iterations int, rec recorded) string {
	s := fmt.Sprintf("iteration %d of %d", step, iterations)
	if reached != step {
		s = fmt.Sprintf("iteration %d, its run's best by validation accuracy (the run reached %d of %d)", step, reached, iterations)
	}
	if !math.IsNaN(rec.Val) {
		s += fmt.Sprintf(", validation accuracy %.4f", rec.Val)
	}
	if !math.IsNaN(rec.Test) {
		s += fmt.Sprintf(", test accuracy %.4f", rec.Test)
	}
	if math.IsNaN(rec.Val) && math.IsNaN(rec.Test) {
		s += ", no accuracy recorded"
	}
	return s
}

// judge is a warning when the model is of an unfinished run (one that
// reached fewer than its iterations), or answers worse than the shipped
// model by its recorded accuracy (or has none).
func judge(reached, iterations int, rec recorded, shipped pretrained.Scores) string {
	var why []string
	if reached < iterations {
		why = append(why, fmt.Sprintf("its run stopped at iteration %d of %d (continue it with train --resume)", reached, iterations))
	}
	acc, ref, what := rec.Val, shipped.Val, "validation"
	if math.IsNaN(acc) {
		acc, ref, what = rec.Test, shipped.Test, "test"
	}
	switch {
	case math.IsNaN(acc):
		why = append(why, "its run recorded no accuracy")
	case acc < ref-nearShipped:
		why = append(why, fmt.Sprintf("its %s accuracy %.4f is below the shipped model's %.4f", what, acc, ref))
	}
	if len(why) == 0 {
		return ""
	}
	return strings.Join(why, "; ") + "; without --out and --checkpoint (and no model in " + defaultOut + ") predict uses the shipped model"
}

// loadModel builds the model that the checkpoint in dir describes and loads
// its weights; it returns the run's configuration and the checkpoint's
// metadata too.
func loadModel(dir string) (*charlstm.Model, *Config, *checkpoint.Meta, error) {
	meta, err := checkpoint.ReadMeta(dir)
	if err != nil {
		return nil, nil, meta, err
	}
	var tc Config
	if err := json.Unmarshal(meta.Config, &tc); err != nil {
		return nil, nil, meta, fmt.Errorf("configuration in %s: %w", dir, err)
	}
	if tc.arch() != modelLSTM {
		return nil, nil, meta, fmt.Errorf("%s holds a --model %s run; predict takes the LSTM's", dir, tc.arch())
	}
	model, err := buildModel(tc.Model, func(params map[string]*ts.Tensor) error {
		_, err := checkpoint.Load(dir, params, nil)
		return err
	})
	return model, &tc, meta, err
}

// loadStateDict builds the model for a PyTorch state_dict file, with the
// configuration in its metadata (a .safetensors file from export) or the
// default one, and loads its weights after the strict check.
func loadStateDict(file string) (*charlstm.Model, *Config, error) {
	tc, err := parseTrain(nil, io.Discard, io.Discard)
	if err != nil {
		return nil, nil, err
	}
	_, meta, err := statedict.Read(file)
	if err != nil {
		return nil, nil, err
	}
	if c := meta["config"]; c != "" {
		if err := json.Unmarshal([]byte(c), &tc); err != nil {
			return nil, nil, fmt.Errorf("configuration in %s: %w", file, err)
		}
	}
	model, err := buildModel(tc.Model, func(params map[string]*ts.Tensor) error { return statedict.Load(file, params) })
	return model, &tc, err
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
