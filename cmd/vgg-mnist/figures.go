package main

import (
	"fmt"
	"path/filepath"

	"torchlab/internal/metrics"
	"torchlab/internal/train"
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
	{"train_loss.png", "loss", "cross-entropy loss (nats)", []string{"train"}, true},
	{"test_loss.png", "loss", "cross-entropy loss (nats)", []string{"test"}, true},
	{"train_accuracy.png", "accuracy", "accuracy (%)", []string{"train"}, false},
	{"test_accuracy.png", "accuracy", "accuracy (%)", []string{"test"}, false},
	{"loss.png", "loss", "cross-entropy loss (nats)", []string{"train", "val", "test"}, true},
	{"accuracy.png", "accuracy", "accuracy (%)", []string{"train", "val", "test"}, false},
}

// drawFigures redraws the figures in out from out/metrics.csv; split (nil:
// bare names) says what each series measures, for titles and legends. The
// x axis is epochs, fractional when --eval-every evaluated mid-epoch. A run
// without validation rows (--val-fraction 0) has no "val" series.
func drawFigures(out string, split *train.Split) error {
	path := filepath.Join(out, "metrics.csv")
	tab, err := metrics.Read(path)
	if err != nil {
		return fmt.Errorf("figures: %w", err)
	}
	for _, f := range figures {
		var series []plots.Series
		logY := f.logY
		for _, name := range f.splits {
			x, y, err := tab.Series("epoch", f.column, "split", name)
			if err != nil {
				return fmt.Errorf("figures: %s: %w", path, err)
			}
			if len(x) == 0 {
				if name == "val" {
					continue
				}
				return fmt.Errorf("figures: %s has no %s rows", path, name)
			}
			for i := range y {
				if f.column == "accuracy" {
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
