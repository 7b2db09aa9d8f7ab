package main

import (
	"fmt"
	"path/filepath"

	"torchlab/internal/metrics"
	"torchlab/plots"
)

// drawPlots draws the accuracy and loss curves in out from its metrics.csv.
func drawPlots(out string) error {
	t, err := metrics.Read(filepath.Join(out, "metrics.csv"))
	if err != nil {
		return err
	}
	series := map[string]plots.Series{}
	for _, col := range []string{"accuracy", "loss"} {
		for _, split := range []string{"train", "test"} {
			x, y, err := t.Series("iteration", col, "split", split)
			if err != nil {
				return err
			}
			if len(x) == 0 {
				return fmt.Errorf("%s: no %s rows", filepath.Join(out, "metrics.csv"), split)
			}
			if col == "accuracy" {
				for i := range y {
					y[i] *= 100
				}
			}
			series[col+"/"+split] = plots.Series{Name: split, X: x, Y: y}
		}
	}
	trainName := "train (fixed sample)"
	tr := series["accuracy/train"]
	tr.Name = trainName
	te := series["accuracy/test"]
	te.Name = "test (whole set)"
	for _, f := range []struct {
		file, title, ylabel string
		s                   []plots.Series
	}{
		{"test_accuracy.png", "Char-LSTM tweet sentiment: test accuracy", "accuracy (%)", []plots.Series{te}},
		{"train_accuracy.png", "Char-LSTM tweet sentiment: training accuracy (fixed sample)", "accuracy (%)", []plots.Series{tr}},
		{"accuracy.png", "Char-LSTM tweet sentiment: accuracy", "accuracy (%)", []plots.Series{tr, te}},
		{"loss.png", "Char-LSTM tweet sentiment: NLL loss", "loss (nats)", []plots.Series{
			{Name: trainName, X: series["loss/train"].X, Y: series["loss/train"].Y},
			{Name: "test (whole set)", X: series["loss/test"].X, Y: series["loss/test"].Y}}},
	} {
		if err := plots.Lines(filepath.Join(out, f.file), f.title, "iteration", f.ylabel, f.s...); err != nil {
			return err
		}
	}
	return nil
}
