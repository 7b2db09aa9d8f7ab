package main

import (
	"fmt"
	"path/filepath"

	"torchlab/internal/metrics"
	"torchlab/internal/train"
	"torchlab/plots"
)

// drawPlots draws the accuracy and loss curves in out from its metrics.csv;
// split (nil: bare names) says what each series measures, for the legends.
func drawPlots(out string, split *train.Split) error {
	t, err := metrics.Read(filepath.Join(out, "metrics.csv"))
	if err != nil {
		return err
	}
	series := map[string][]plots.Series{} // by column, in split order
	for _, col := range []string{"accuracy", "loss"} {
		for _, name := range []string{"train", "val", "test"} {
			x, y, err := t.Series("iteration", col, "split", name)
			if err != nil {
				return err
			}
			if len(x) == 0 {
				if name == "val" { // a run with --val-fraction 0
					continue
				}
				return fmt.Errorf("%s: no %s rows", filepath.Join(out, "metrics.csv"), name)
			}
			if col == "accuracy" {
				for i := range y {
					y[i] *= 100
				}
			}
			series[col] = append(series[col], plots.Series{Name: split.Legend(name), X: x, Y: y})
		}
	}
	acc := series["accuracy"]
	tr, te := acc[0], acc[len(acc)-1]
	for _, f := range []struct {
		file, title, ylabel string
		s                   []plots.Series
	}{
		{"test_accuracy.png", "Char-LSTM tweet sentiment: accuracy, " + te.Name, "accuracy (%)", []plots.Series{te}},
		{"train_accuracy.png", "Char-LSTM tweet sentiment: accuracy, " + tr.Name, "accuracy (%)", []plots.Series{tr}},
		{"accuracy.png", "Char-LSTM tweet sentiment: accuracy", "accuracy (%)", acc},
		{"loss.png", "Char-LSTM tweet sentiment: NLL loss", "loss (nats)", series["loss"]},
	} {
		if err := plots.Lines(filepath.Join(out, f.file), f.title, "iteration", f.ylabel, f.s...); err != nil {
			return err
		}
	}
	return nil
}
