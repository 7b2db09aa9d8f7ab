package main

import (
	"fmt"
	"path/filepath"

	"torchlab/internal/metrics"
	"torchlab/plots"
)

// figure is one of the four curves drawn from metrics.csv.
type figure struct {
	file, split, column, label string
	logY                       bool
}

var figures = []figure{
	{"train_loss.png", "train", "loss", "cross-entropy loss (nats)", true},
	{"test_loss.png", "test", "loss", "cross-entropy loss (nats)", true},
	{"train_accuracy.png", "train", "accuracy", "accuracy (%)", false},
	{"test_accuracy.png", "test", "accuracy", "accuracy (%)", false},
}

// drawFigures redraws the four figures in out from out/metrics.csv. The x
// axis is epochs, fractional when --eval-every evaluated mid-epoch.
func drawFigures(out string) error {
	path := filepath.Join(out, "metrics.csv")
	tab, err := metrics.Read(path)
	if err != nil {
		return fmt.Errorf("figures: %w", err)
	}
	for _, f := range figures {
		x, y, err := tab.Series("epoch", f.column, "split", f.split)
		if err != nil {
			return fmt.Errorf("figures: %s: %w", path, err)
		}
		if len(x) == 0 {
			return fmt.Errorf("figures: %s has no %s rows", path, f.split)
		}
		logY := f.logY
		for i := range y {
			if f.column == "accuracy" {
				y[i] *= 100
			}
			logY = logY && y[i] > 0
		}
		title := fmt.Sprintf("VGG11 on MNIST: %s %s", f.split, f.column)
		opts := plots.LineOptions{Title: title, XLabel: "epoch", YLabel: f.label, LogY: logY}
		if err := plots.LinesWith(filepath.Join(out, f.file), opts, plots.Series{Name: f.split, X: x, Y: y}); err != nil {
			return fmt.Errorf("figures: %w", err)
		}
	}
	return nil
}
