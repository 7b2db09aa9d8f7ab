package vaeplots

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"torchlab/datasets"
	"torchlab/internal/analysis"
	"torchlab/internal/galaxy"
	"torchlab/internal/runrec"
	"torchlab/internal/tsne"
	"torchlab/models/vae"
	"torchlab/plots"
	"torchlab/torch/tensors"
)

// LatentTable is the file of the latent space's class table in a run's
// folder.
const LatentTable = "latent_classes.md"

// classGroups splits 2-D points by class into scatter groups, one per
// class that has points.
func classGroups(x, y []float64, classes []int64) []plots.ScatterGroup {
	groups := make([]plots.ScatterGroup, datasets.NumClasses)
	for c := range groups {
		groups[c].Name = datasets.Class(c).String()
	}
	for i, c := range classes {
		groups[c].X = append(groups[c].X, x[i])
		groups[c].Y = append(groups[c].Y, y[i])
	}
	var kept []plots.ScatterGroup
	for _, g := range groups {
		if len(g.X) > 0 {
			kept = append(kept, g)
		}
	}
	return kept
}

// drawLatentViews draws the t-SNE of the test images' encoder means and
// writes the per-class table of the latent space: how far apart the
// classes' centres are against their spread, and how often a 5-NN on the
// training means gets a test image's class right from its mean (the share
// of the class information the latent space keeps, by this measure).
func drawLatentViews(out string, m *vae.VAE, d *galaxy.Data, trainMu, testMu []float32, res map[string]float64) error {
	z := int(m.Config.ZDim)
	n := d.NTest
	if n < 4 {
		return nil // too few test images for either
	}
	perp := math.Min(30, float64(n-1)/3)
	emb, err := tsne.Embed(testMu, n, z, tsne.Options{Perplexity: perp, Seed: 1})
	if err != nil {
		return err
	}
	x, y := make([]float64, n), make([]float64, n)
	for i := range n {
		x[i], y[i] = emb[2*i], emb[2*i+1]
	}
	title := fmt.Sprintf("Encoder means of the %d test images, t-SNE (perplexity %.0f)", n, perp)
	if err := plots.Scatter(filepath.Join(out, runrec.FigLatentTSNE), title, "t-SNE 1", "t-SNE 2", classGroups(x, y, d.TestY)); err != nil {
		return err
	}
	if err := drawLDA(out, trainMu, d.TrainY, d.NTrain, testMu, d.TestY, n, z); err != nil {
		return err
	}
	acc, err := latentKNN(trainMu, d.TrainY, testMu, d.TestY, z)
	if err != nil {
		return err
	}
	res["latent_knn_test_accuracy"] = acc
	res[runrec.ActiveUnits] = float64(analysis.ActiveUnits(testMu, n, z, analysis.ActiveThreshold))
	return writeLatentTable(filepath.Join(out, LatentTable), trainMu, d.TrainY, z, acc)
}

// drawLDA draws the test images' encoder means on the two linear
// discriminant axes fitted on the training means and classes: a
// supervised view, where t-SNE is unsupervised, of how far the latent
// space separates the classes linearly.
func drawLDA(out string, trainMu []float32, trainY []int64, nTrain int, testMu []float32, testY []int64, nTest, z int) error {
	classes := map[int64]bool{}
	for _, c := range trainY {
		classes[c] = true
	}
	if z < 2 || len(classes) < 2 {
		return nil // nothing to separate
	}
	lda, err := analysis.FitLDA(trainMu, trainY, nTrain, z, 2, 1e-3)
	if err != nil {
		return err
	}
	p := lda.Project(testMu, nTest)
	x, y := make([]float64, nTest), make([]float64, nTest)
	for i := range nTest {
		x[i], y[i] = p[i][0], p[i][1]
	}
	title := fmt.Sprintf("Encoder means of the %d test images on the 2 LDA axes fitted on the training means", nTest)
	return plots.Scatter(filepath.Join(out, runrec.FigLatentLDA), title, "LDA 1", "LDA 2", classGroups(x, y, testY))
}

// latentKNN is the share of test means whose knnK nearest training means
// (Euclidean; analysis.KNN) vote for the test image's class.
func latentKNN(train []float32, trainY []int64, test []float32, testY []int64, z int) (float64, error) {
	tr, err := tensors.FromFloat32(train, int64(len(trainY)), int64(z))
	if err != nil {
		return 0, err
	}
	defer tr.MustDrop()
	q, err := tensors.FromFloat32(test, int64(len(testY)), int64(z))
	if err != nil {
		return 0, err
	}
	defer q.MustDrop()
	pred, err := analysis.KNN(tr, trainY, q, knnK)
	if err != nil {
		return 0, err
	}
	return analysis.Accuracy(pred, testY), nil
}

// writeLatentTable writes, per class, the number of training images, the
// distance of the class's mean code from the origin (the prior's mean),
// its spread (root-mean-square distance of the codes from their class
// mean) and the nearest other class's mean.
func writeLatentTable(path string, mu []float32, y []int64, z int, knnAcc float64) error {
	centre := make([][]float64, datasets.NumClasses)
	count := make([]int, datasets.NumClasses)
	for c := range centre {
		centre[c] = make([]float64, z)
	}
	for i, c := range y {
		count[c]++
		for k := range z {
			centre[c][k] += float64(mu[i*z+k])
		}
	}
	spread := make([]float64, datasets.NumClasses)
	for c := range centre {
		for k := range z {
			centre[c][k] /= math.Max(1, float64(count[c]))
		}
	}
	for i, c := range y {
		for k := range z {
			e := float64(mu[i*z+k]) - centre[c][k]
			spread[c] += e * e
		}
	}
	dist := func(a, b []float64) float64 {
		s := 0.0
		for k := range a {
			s += (a[k] - b[k]) * (a[k] - b[k])
		}
		return math.Sqrt(s)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Latent space by class (encoder means of the %d training images, %d dimensions)\n\n", len(y), z)
	fmt.Fprintf(&b, "A 5-NN on these means gets the class of %.1f %% of the test images right from their means.\n\n", 100*knnAcc)
	b.WriteString("| class | training images | \\|mean\\| | spread (RMS) | nearest other class | centre distance | distance / spread |\n|---|---:|---:|---:|---|---:|---:|\n")
	origin := make([]float64, z)
	for c := range centre {
		if count[c] == 0 {
			continue
		}
		s := math.Sqrt(spread[c] / float64(count[c]))
		near, nearD := "", math.Inf(1)
		for o := range centre {
			if o != c && count[o] > 0 {
				if dd := dist(centre[c], centre[o]); dd < nearD {
					near, nearD = datasets.Class(o).String(), dd
				}
			}
		}
		fmt.Fprintf(&b, "| %s | %d | %.2f | %.2f | %s | %.2f | %.2f |\n", datasets.Class(c), count[c], dist(centre[c], origin), s, near, nearD, nearD/s)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
