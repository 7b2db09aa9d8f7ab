package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"torchlab/internal/runrec"
	"torchlab/torch/checkpoint"
	"torchlab/torch/durable"
)

// Best is the model selection of a run (its record, runrec.Best, is
// best.json): the model of the best step is kept in <out>/best, a
// checkpoint without optimiser state, with best.json beside it.
type Best struct {
	runrec.Best
}

// BestDir is where a run in out keeps its best checkpoint.
func BestDir(out string) string { return filepath.Join(out, "best") }

// OpenBest starts the model selection of the run in out. A fresh run
// removes an earlier run's best checkpoint; a resumed run keeps its best
// so far. (A run killed after keeping a best beyond its last checkpoint
// keeps that best: the resumed run repeats those steps from the same
// state and order, and replaces it only by a strictly better one.)
//
// On resume the record is the best.json beside the checkpoint that
// checkpoint.Load opens (the current one, or the previous one when the
// current cannot be read), and it must name that checkpoint's step.
// Offer writes best.json after the checkpoint's swap, so a run killed in
// between leaves a new checkpoint without a best.json: that unfinished
// Offer is undone (the checkpoint removed, the previous best kept), and
// the resumed run, repeating the step, offers it again.
func OpenBest(out, metric string, higher, resume bool) (*Best, error) {
	dir := BestDir(out)
	b := &Best{runrec.Best{Metric: metric, Higher: higher, Dir: dir}}
	if !resume {
		if err := checkpoint.Remove(dir); err != nil {
			return nil, fmt.Errorf("best checkpoint: %w", err)
		}
		return b, nil
	}
	saved, err := readBest(dir)
	if errors.Is(err, errUnfinished) {
		if err := os.RemoveAll(dir); err != nil {
			return nil, fmt.Errorf("best checkpoint: undo the unfinished save: %w", err)
		}
		saved, err = readBest(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("best checkpoint: %w", err)
	}
	if saved == nil {
		return b, nil
	}
	if saved.Metric != metric || saved.Higher != higher {
		return nil, fmt.Errorf("best checkpoint: %s selects on %s, this run on %s", dir, saved.Metric, metric)
	}
	saved.Dir = dir
	return saved, nil
}

// errUnfinished marks a best checkpoint in dir itself without a best.json:
// an Offer stopped after the swap.
var errUnfinished = errors.New("best checkpoint without its best.json")

// readBest reads the record of the best checkpoint in dir: nil when there
// is no checkpoint, errUnfinished (wrapped) when dir's own checkpoint has
// no best.json. A best.json that names another step than the checkpoint
// beside it is an error: no crash leaves one, so nothing is removed.
func readBest(dir string) (*Best, error) {
	if !checkpoint.Exists(dir) {
		return nil, nil
	}
	_, meta, err := checkpoint.Weights(dir)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(meta.Dir, runrec.BestFile)
	raw, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist) && meta.Dir == dir:
		return nil, fmt.Errorf("%w: %s", errUnfinished, dir)
	case err != nil:
		return nil, fmt.Errorf("%s: %w", meta.Found, err)
	}
	var saved Best
	if err := json.Unmarshal(raw, &saved); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if !saved.Found || int64(saved.Step) != meta.Step {
		return nil, fmt.Errorf("%s names step %d, the checkpoint beside it holds step %d", path, saved.Step, meta.Step)
	}
	return &saved, nil
}

// Better says whether value beats the best so far (NaN never does; a tie
// keeps the earlier step).
func (b *Best) Better(value float64) bool {
	switch {
	case math.IsNaN(value):
		return false
	case !b.Found:
		return true
	case b.Higher:
		return value > b.Value
	default:
		return value < b.Value
	}
}

// Offer records the evaluation after step: when metrics[b.Metric] is better
// than the best so far, save writes the model into b.Dir (checkpoint.Save,
// with the Meta's Step = step) and then best.json, beside it, records the
// step. It says whether the step became the best.
func (b *Best) Offer(step int, metrics map[string]float64, save func(dir string) error) (bool, error) {
	value, ok := metrics[b.Metric]
	if !ok {
		return false, fmt.Errorf("best checkpoint: no %s among the metrics", b.Metric)
	}
	if !b.Better(value) {
		return false, nil
	}
	if err := save(b.Dir); err != nil {
		return false, fmt.Errorf("best checkpoint at step %d: %w", step, err)
	}
	at := make(map[string]float64, len(metrics))
	for k, v := range metrics {
		at[k] = v
	}
	b.Found, b.Step, b.Value, b.At = true, step, value, at
	raw, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return false, err
	}
	if err := durable.WriteFile(filepath.Join(b.Dir, runrec.BestFile), append(raw, '\n'), 0o644); err != nil {
		return false, fmt.Errorf("best checkpoint: %w", err)
	}
	return true, nil
}

// Results adds the best step and its metrics to a summary's results, as
// best_step and best_<metric> (best_val_accuracy, best_test_accuracy, ...).
func (b *Best) Results(res map[string]float64) {
	if b == nil || !b.Found {
		return
	}
	res[runrec.BestStep] = float64(b.Step)
	for k, v := range b.At {
		res[runrec.BestOf(k)] = v
	}
}
