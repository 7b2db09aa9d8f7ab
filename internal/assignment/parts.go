// Package assignment knows the assignment's parts as `make assignment`
// (scripts/assignment.sh) runs them: the folder each part's run goes to,
// when that run is complete (so the script skips it, or resumes it from its
// checkpoint), and how its main result compares with the committed run.
// Write puts the parts' times, machines and results on one Markdown page,
// docs/results/assignment.md.
package assignment

import (
	"fmt"
	"strings"

	"torchlab/internal/runrec"
)

// Kind is what ran in a part, and so how its folder is read.
type Kind int

const (
	CNN    Kind = iota // cnn-calc --markdown into cnn-basics.md
	VGG                // vgg-mnist train: Want is epochs
	LSTM               // lstm-tweets train: Want is iterations
	VAE                // vae-galaxy train: Want is epochs
	Report             // report: report.md and report.html
)

// Part is one part of the assignment.
type Part struct {
	Name string // as PARTS names it: "vgg", "vae-mlp"
	Dir  string // its folder under the assignment's folder
	Kind Kind
	// Committed is the file, under the results folder, that the main result
	// is compared with: a summary.json, or cnn-basics.md for CNN.
	Committed string
	// Metric is the summary.json results key of the main result; Label
	// names it in the table.
	Metric, Label string
	// Percent shows the metric (a fraction) as a percentage, and then Tol
	// is in percentage points; otherwise Tol is relative to the committed
	// value (0.01: 1 %).
	Percent bool
	Tol     float64
	Why     string // why the tolerance is what it is
}

// File is what the CNN part writes, in its folder, and what the report
// part writes in its.
const (
	CNNFile    = "cnn-basics.md"
	ReportFile = "report.md"
)

// Parts are the assignment's parts in the order they run.
var Parts = []Part{
	{Name: "cnn", Dir: "cnn", Kind: CNN, Committed: CNNFile, Label: "answers (1)-(4)",
		Why: "the text is computed, not trained: it must equal the committed file"},
	{Name: "vgg", Dir: "vgg-mnist", Kind: VGG, Committed: "vgg-mnist/summary.json",
		Metric: runrec.BestOf(runrec.TestAccuracy), Label: "test accuracy at the best-validation epoch", Percent: true, Tol: 0.3,
		Why: "the binomial standard error of 10,000 test images at 99.3 % is 0.08 points; 0.3 is ~3.6 of them"},
	{Name: "lstm", Dir: "lstm-tweets", Kind: LSTM, Committed: "lstm-tweets/summary.json",
		Metric: runrec.BestOf(runrec.TestAccuracy), Label: "test accuracy at the best-validation iteration", Percent: true, Tol: 1.5,
		Why: "the binomial standard error of 9,934 test tweets at 75 % is 0.44 points; 1.5 is ~3.4 of them"},
	vaePart("mlp"), vaePart("conv"), vaePart("resnet"),
	{Name: "report", Dir: "report", Kind: Report, Label: "report.md and report.html",
		Why: "written from the parts above"},
}

// vaePart is the VAE of one architecture; its folder is vae-galaxy/ARCH, so
// that the report reads the three as one VAE folder of subfolders.
func vaePart(arch string) Part {
	return Part{Name: "vae-" + arch, Dir: "vae-galaxy/" + arch, Kind: VAE,
		Committed: "vae-galaxy/seed1/" + arch + "/summary.json",
		Metric:    runrec.BestOf(runrec.TestNegELBO), Label: "test -ELBO (nats/image) at the best-validation epoch", Tol: 0.01,
		Why: "a rerun of seed 1 on other kernels or threads is not bit-identical and its best epoch can move; the committed seeds 1 and 2 (each its own split and initialisation) differ by 34-71 nats/image (1.2-2.5 %)"}
}

// Find returns the part called name.
func Find(name string) (Part, error) {
	names := make([]string, len(Parts))
	for i, p := range Parts {
		if p.Name == name {
			return p, nil
		}
		names[i] = p.Name
	}
	return Part{}, fmt.Errorf("no part %q (the parts: %s)", name, strings.Join(names, " "))
}
