package main

import (
	"fmt"
	"path/filepath"

	"torchlab/internal/runrec"
	"torchlab/plots"
)

// drawPlots draws the accuracy and loss curves in out from its metrics.csv;
// split (nil: bare names) says what each series measures, for the legends.
func drawPlots(out string, split *runrec.Split) error {
	t, err := runrec.ReadMetrics(filepath.Join(out, runrec.MetricsFile))
	if err != nil {
		return err
	}
	series := map[string][]plots.Series{} // by column, in split order
	for _, col := range []string{runrec.ColAccuracy, runrec.ColLoss} {
		for _, name := range []string{runrec.Train, runrec.Val, runrec.Test} {
			x, y, err := t.Series(runrec.ColStep, col, runrec.ColSplit, name)
			if err != nil {
				return err
			}
			if len(x) == 0 {
				if name == runrec.Val { // a run with --val-fraction 0
					continue
				}
				return fmt.Errorf("%s: no %s rows", filepath.Join(out, runrec.MetricsFile), name)
			}
			if col == runrec.ColAccuracy {
				for i := range y {
					y[i] *= 100
				}
			}
			series[col] = append(series[col], plots.Series{Name: split.Legend(name), X: x, Y: y})
		}
	}
	acc := series[runrec.ColAccuracy]
	tr, te := acc[0], acc[len(acc)-1]
	for _, f := range []struct {
		file, title, ylabel string
		s                   []plots.Series
	}{
		{runrec.FigTestAccuracy, "Char-LSTM tweet sentiment: accuracy, " + te.Name, "accuracy (%)", []plots.Series{te}},
		{runrec.FigTrainAccuracy, "Char-LSTM tweet sentiment: accuracy, " + tr.Name, "accuracy (%)", []plots.Series{tr}},
		{runrec.FigAccuracy, "Char-LSTM tweet sentiment: accuracy", "accuracy (%)", acc},
		{runrec.FigLoss, "Char-LSTM tweet sentiment: NLL loss", "loss (nats)", series[runrec.ColLoss]},
	} {
		if err := plots.Lines(filepath.Join(out, f.file), f.title, "iteration", f.ylabel, f.s...); err != nil {
			return err
		}
	}
	return nil
}
