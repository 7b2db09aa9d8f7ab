package main

import (
	"fmt"
	"path/filepath"

	"torchlab/internal/runrec"
	"torchlab/plots"
)

// figure is one of the curves drawn from metrics.csv: the assignment's
// four (one split each) and the two that put train, validation and test
// side by side.
type figure struct {
	file, column, label string
	splits              []string
	logY                bool
}

var figures = []figure{
	{runrec.FigTrainLoss, runrec.ColLoss, "cross-entropy loss (nats)", []string{runrec.Train}, true},
	{runrec.FigTestLoss, runrec.ColLoss, "cross-entropy loss (nats)", []string{runrec.Test}, true},
	{runrec.FigTrainAccuracy, runrec.ColAccuracy, "accuracy (%)", []string{runrec.Train}, false},
	{runrec.FigTestAccuracy, runrec.ColAccuracy, "accuracy (%)", []string{runrec.Test}, false},
	{runrec.FigLoss, runrec.ColLoss, "cross-entropy loss (nats)", []string{runrec.Train, runrec.Val, runrec.Test}, true},
	{runrec.FigAccuracy, runrec.ColAccuracy, "accuracy (%)", []string{runrec.Train, runrec.Val, runrec.Test}, false},
}

// drawFigures redraws the figures in out from out/metrics.csv; split (nil:
// bare names) says what each series measures, for titles and legends. The
// x axis is epochs, fractional when --eval-every evaluated mid-epoch. A run
// without validation rows (--val-fraction 0) has no "val" series.
func drawFigures(out string, split *runrec.Split) error {
	path := filepath.Join(out, runrec.MetricsFile)
	tab, err := runrec.ReadMetrics(path)
	if err != nil {
		return fmt.Errorf("figures: %w", err)
	}
	for _, f := range figures {
		var series []plots.Series
		logY := f.logY
		for _, name := range f.splits {
			x, y, err := tab.Series(runrec.ColEpoch, f.column, runrec.ColSplit, name)
			if err != nil {
				return fmt.Errorf("figures: %s: %w", path, err)
			}
			if len(x) == 0 {
				if name == runrec.Val {
					continue
				}
				return fmt.Errorf("figures: %s has no %s rows", path, name)
			}
			for i := range y {
				if f.column == runrec.ColAccuracy {
					y[i] *= 100
				}
				logY = logY && y[i] > 0
			}
			series = append(series, plots.Series{Name: split.Legend(name), X: x, Y: y})
		}
		title := "VGG11 on MNIST: " + f.column
		if len(series) == 1 {
			title += ", " + series[0].Name
		}
		opts := plots.LineOptions{Title: title, XLabel: "epoch", YLabel: f.label, LogY: logY}
		if err := plots.LinesWith(filepath.Join(out, f.file), opts, series...); err != nil {
			return fmt.Errorf("figures: %w", err)
		}
	}
	return nil
}
