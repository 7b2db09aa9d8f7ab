// Package vaeplots draws and scores what a trained galaxy VAE shows: its
// learning curves (one run, or several runs and seeds together), test
// reconstructions, latent views (PCA, t-SNE, LDA and a k-NN table), class
// samples judged by a k-NN or the galaxy classifier, and its weights. It
// takes the model and the data; vae-galaxy's train and plots call it.
package vaeplots

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"torchlab/datasets"
	"torchlab/internal/analysis"
	"torchlab/internal/galaxy"
	"torchlab/internal/runrec"
	"torchlab/models/vae"
	"torchlab/plots"
	"torchlab/torch/tensors"
	"torchlab/torch/torchrt"
)

// samplesPerRow is the number of tiles in a row of the sample figures.
const samplesPerRow = 8

// DrawAll draws every figure of a trained model into out and adds the
// sample-quality numbers to res, judged by j (nil: the 5-NN). It returns
// notes for summary.json.
func DrawAll(out string, m *vae.VAE, named map[string]*ts.Tensor, d *galaxy.Data, className string, res map[string]float64, split *runrec.Split, j *Judge) ([]string, error) {
	class, err := datasets.ParseClass(className)
	if err != nil {
		return nil, err
	}
	if err := drawCurves(out, split); err != nil {
		return nil, err
	}
	var notes []string
	err = torchrt.NoGrad(func() error {
		// Figures draw fresh noise; a fixed seed makes them redraw identically.
		torchrt.ManualSeed(1)
		if err := drawReconstructions(out, m, d); err != nil {
			return err
		}
		if m.Hier != nil {
			notes = append(notes, skippedHier)
			log.Printf("%s", skippedHier)
			if err := drawPriorSamples(out, m, d); err != nil {
				return err
			}
			if !m.Config.Conditional {
				return nil
			}
			n, err := sampleAgreement(d, []classSampler{priorSampler(m)}, res, j)
			notes = append(notes, n...)
			return err
		}
		trainMu, err := encodeMeans(m, d.TrainX, d.TrainCond)
		if err != nil {
			return err
		}
		if err := drawLatent(out, m, d, trainMu); err != nil {
			return err
		}
		testMu, err := encodeMeans(m, d.TestX, d.TestCond)
		if err != nil {
			return err
		}
		if err := drawLatentViews(out, m, d, trainMu, testMu, res); err != nil {
			return err
		}
		n, err := drawSamples(out, m, d, trainMu, class, res, j)
		notes = append(notes, n...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return notes, DrawWeights(out, m, named)
}

// skippedHier says which figures a hierarchical model does not get.
const skippedHier = "resnet-iaf: the latent figures and numbers (PCA, t-SNE, LDA, k-NN, active units) and the class samples around class means are skipped: " +
	"they read one Gaussian latent's encoder means and decode z drawn around class means, and resnet-iaf has a global and a spatial group with IAF posteriors; " +
	"prior_samples.png shows samples of its prior instead; a conditional model's, decoded with each class, are judged as the \"prior\" samples"

// drawCurves plots the train, validation and test reconstruction error
// against steps; split names the series.
func drawCurves(out string, split *runrec.Split) error {
	series, err := reconSeries(out, split, runrec.Train, runrec.TrainFull, runrec.Val, runrec.Test)
	if err != nil {
		return err
	}
	return reconChart(filepath.Join(out, runrec.FigReconCurve), "Reconstruction error ("+filepath.Base(out)+")", 1, series)
}

// reconChart draws recon curves with the first skip evaluations of each
// cut off the top when they lie above the rest (reconOptions).
func reconChart(path, title string, skip int, series []plots.Series) error {
	return plots.LinesWith(path, reconOptions(title, skip, series), series...)
}

// reconOptions fixes a recon chart's Y maximum so that the first skip
// evaluations of each series leave the top when they lie above the rest:
// the first epoch's training error (~4,500 nats at 64x64, against ~2,760
// later) would otherwise squeeze the later epochs, where the architectures
// differ, into a few pixels. A run's own figure skips one epoch; the
// comparison of long runs skips compareSkip (compareCut), because the mlp
// is still ~150 nats above its end after its first epoch, while the models
// differ by 10-50.
func reconOptions(title string, skip int, series []plots.Series) plots.LineOptions {
	opts := plots.LineOptions{Title: title, XLabel: "training step", YLabel: "BCE summed over pixels (nats/image)"}
	if top, ok := plots.TopAfter(skip, series...); ok {
		opts.YMax = &top
		if skip == 1 {
			opts.Title += ", first epoch off the top"
		} else {
			opts.Title += fmt.Sprintf(", first %d epochs off the top", skip)
		}
	}
	return opts
}

// compareSkip is how many of each run's first evaluations (epochs) the
// comparison figure cuts off the top when the runs are long enough; short
// runs (make demo's) cut only their first (compareCut).
const compareSkip = 20

// compareCut is how many first epochs the comparison of series cuts off
// the top: compareSkip when the longest series has at least twice as many
// points, else 1.
func compareCut(series []plots.Series) int {
	longest := 0
	for _, s := range series {
		longest = max(longest, len(s.Y))
	}
	if longest >= 2*compareSkip {
		return compareSkip
	}
	return 1
}

// reconSeries reads the recon curves of the named metrics.csv splits of a
// run ("train": the running mean, runrec.TrainFull, "val", "test"); those
// the run has no rows of are left out. split (nil: bare names) says what
// each measures.
func reconSeries(dir string, split *runrec.Split, names ...string) ([]plots.Series, error) {
	tab, err := runrec.ReadMetrics(filepath.Join(dir, runrec.MetricsFile))
	if err != nil {
		return nil, err
	}
	var out []plots.Series
	for _, name := range names {
		x, y, err := tab.Series(runrec.ColStep, runrec.ColRecon, runrec.ColSplit, name)
		if err != nil {
			return nil, err
		}
		if len(x) == 0 {
			continue
		}
		label := split.Legend(name)
		if short, ok := compareLegend[name]; ok && split == nil {
			label = short
		}
		out = append(out, plots.Series{Name: label, X: x, Y: y})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: metrics.csv has no rows of %s yet", dir, strings.Join(names, ", "))
	}
	return out, nil
}

// compareLegend names the two train series where no split says more (a run
// from before splits were recorded).
var compareLegend = map[string]string{runrec.Train: "train (running mean)", runrec.TrainFull: "train (whole split, eval mode)"}

// DrawCompare puts several runs' validation and test recon curves into one
// figure (the training curves stay in each run's own figure: with them the
// comparison of four models would hold 16 curves). Runs in
// folders of the same name (seed1/conv and seed2/conv: one architecture and
// variant, several seeds) become one curve per split, their mean at each
// step with a band over their range, so that a difference between
// architectures can be read against the spread between seeds.
func DrawCompare(out string, dirs []string) error {
	var names []string
	byName := map[string][][]plots.Series{}
	for _, dir := range dirs {
		name := filepath.Base(filepath.Clean(dir))
		s, err := reconSeries(dir, nil, runrec.Val, runrec.Test)
		if err != nil {
			return err
		}
		if _, ok := byName[name]; !ok {
			names = append(names, name)
		}
		byName[name] = append(byName[name], s)
	}
	var all []plots.Series
	for _, name := range names {
		merged, err := mergeSeeds(name, byName[name])
		if err != nil {
			return err
		}
		all = append(all, merged...)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	path := filepath.Join(out, runrec.FigReconCompare)
	if err := reconChart(path, "Validation and test reconstruction error by model", compareCut(all), all); err != nil {
		return err
	}
	log.Printf("wrote %s", path)
	return nil
}

// mergeSeeds names the series of one or more runs of the same model: one
// run's as they are, several runs' series of the same split as their mean
// and range (plots.Spread).
func mergeSeeds(name string, runs [][]plots.Series) ([]plots.Series, error) {
	var labels []string
	bySplit := map[string][]plots.Series{}
	for _, run := range runs {
		for _, s := range run {
			if _, ok := bySplit[s.Name]; !ok {
				labels = append(labels, s.Name)
			}
			bySplit[s.Name] = append(bySplit[s.Name], s)
		}
	}
	var out []plots.Series
	for _, label := range labels {
		same := bySplit[label]
		if len(same) == 1 {
			s := same[0]
			s.Name = name + " " + label
			if len(runs) > 1 {
				s.Name += fmt.Sprintf(" (1 of %d seeds)", len(runs))
			}
			out = append(out, s)
			continue
		}
		s, err := plots.Spread(fmt.Sprintf("%s %s (%d seeds: mean and range)", name, label, len(same)), same...)
		if err != nil {
			return nil, err
		}
		// Spread keeps the steps every seed has; say so where a seed ran on.
		if end := s.X[len(s.X)-1]; slices.ContainsFunc(same, func(r plots.Series) bool { return slices.Max(r.X) > end }) {
			s.Name = strings.TrimSuffix(s.Name, ")") + fmt.Sprintf(" to step %.0f, the shortest seed's end)", end)
		}
		out = append(out, s)
	}
	return out, nil
}

// drawReconstructions shows test images above their reconstructions from
// z = mu (the mean of q(z|x), no sampling noise; resnet-iaf: each group's
// Gaussian mean, through its flow).
func drawReconstructions(out string, m *vae.VAE, d *galaxy.Data) error {
	x, cond := d.TestX, d.TestCond
	if d.NTest == 0 {
		x, cond = d.TrainX, d.TrainCond
	}
	s, err := x.Size()
	if err != nil {
		return err
	}
	n := min(samplesPerRow, s[0])
	xb, cb, err := batchRows(x, cond, 0, n)
	if err != nil {
		return err
	}
	defer xb.MustDrop()
	if cb != nil {
		defer cb.MustDrop()
	}
	eps, err := ts.Zeros([]int64{n, m.Config.NoiseDim()}, gotch.Float, gotch.CPU)
	if err != nil {
		return err
	}
	defer eps.MustDrop()
	fwd, err := m.ForwardT(vae.Input{X: xb, Class: cb, Eps: eps}, false)
	if err != nil {
		return err
	}
	rec, err := m.Mean(fwd.Logits)
	fwd.Drop()
	if err != nil {
		return err
	}
	defer rec.MustDrop()
	orig, err := toImages(xb)
	if err != nil {
		return err
	}
	recon, err := toImages(rec)
	if err != nil {
		return err
	}
	return plots.ImageGrid(filepath.Join(out, runrec.FigReconstruction), "Test images (top) and reconstructions from z = mu (bottom)",
		[][]plots.Image{orig, recon}, []string{"original", "reconstruction"})
}

// batchRows are rows [start, start+size) of x and of cond (nil: none), views
// the caller drops.
func batchRows(x, cond *ts.Tensor, start, size int64) (xb, cb *ts.Tensor, err error) {
	if xb, err = x.Narrow(0, start, size, false); err != nil {
		return nil, nil, err
	}
	if cond != nil {
		if cb, err = cond.Narrow(0, start, size, false); err != nil {
			xb.MustDrop()
			return nil, nil, err
		}
	}
	return xb, cb, nil
}

// encodeMeans returns the encoder means of all rows of x, [N*z] row-major.
func encodeMeans(m *vae.VAE, x, cond *ts.Tensor) ([]float32, error) {
	s, err := x.Size()
	if err != nil {
		return nil, err
	}
	n := s[0]
	var out []float32
	for start := int64(0); start < n; start += 256 {
		xb, cb, err := batchRows(x, cond, start, min(256, n-start))
		if err != nil {
			return nil, err
		}
		mu, logvar, err := m.Encode(xb, cb, false)
		xb.MustDrop()
		if cb != nil {
			cb.MustDrop()
		}
		if err != nil {
			return nil, err
		}
		v, err := tensors.Float32s(mu)
		mu.MustDrop()
		logvar.MustDrop()
		if err != nil {
			return nil, err
		}
		out = append(out, v...)
	}
	return out, nil
}

// drawLatent scatters the first two principal components of the training
// images' encoder means, one colour per class.
func drawLatent(out string, m *vae.VAE, d *galaxy.Data, mu []float32) error {
	z := int(m.Config.ZDim)
	px, py, frac, err := analysis.PCA2(mu, d.NTrain, z)
	if err != nil {
		return err
	}
	return plots.Scatter(filepath.Join(out, runrec.FigLatentPCA), "Encoder means of the training images, PCA",
		fmt.Sprintf("PC 1 (%.0f%% of variance)", 100*frac[0]), fmt.Sprintf("PC 2 (%.0f%% of variance)", 100*frac[1]), classGroups(px, py, d.TrainY))
}
