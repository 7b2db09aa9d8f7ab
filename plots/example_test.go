package plots_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"torchlab/plots"
)

func ExampleLines() {
	dir, err := os.MkdirTemp("", "plots-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	epochs := []float64{1, 2, 3, 4, 5}
	train := plots.Series{Name: "train", X: epochs, Y: []float64{0.92, 0.51, 0.37, 0.31, 0.28}}
	test := plots.Series{Name: "test", X: epochs, Y: []float64{0.83, 0.55, 0.46, 0.43, 0.42}}
	path := filepath.Join(dir, "loss.png")
	if err := plots.Lines(path, "MNIST MLP", "epoch", "cross-entropy loss (nats)", train, test); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("wrote", filepath.Base(path))
	// Output: wrote loss.png
}

func ExampleLinesWith() {
	dir, err := os.MkdirTemp("", "plots-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	steps := []float64{0, 100, 200, 300}
	loss := plots.Series{Name: "train", X: steps, Y: []float64{2.3, 0.4, 0.12, 0.05}}
	opts := plots.LineOptions{Title: "MNIST MLP", XLabel: "step", YLabel: "loss (nats)", LogY: true}
	if err := plots.LinesWith(filepath.Join(dir, "loss.svg"), opts, loss); err != nil {
		fmt.Println(err)
		return
	}

	// A log axis cannot show a zero loss; it is reported, not clamped.
	loss.Y[3] = 0
	err = plots.LinesWith(filepath.Join(dir, "bad.png"), opts, loss)
	fmt.Println(errors.Is(err, plots.ErrNonPositive))
	// Output: true
}
