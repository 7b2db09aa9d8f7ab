package vaeplots

import (
	"fmt"
	"log"
	"math"
	"path/filepath"
	"strings"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"torchlab/datasets"
	"torchlab/internal/analysis"
	"torchlab/internal/galaxy"
	"torchlab/internal/runrec"
	"torchlab/models/vae"
	"torchlab/plots"
)

// classSampler generates images of a class.
type classSampler struct {
	name string
	gen  func(class datasets.Class, n int64) (*ts.Tensor, error) // probabilities [n, 3, S, S]
}

// images draws n samples of class c as plot tiles.
func (g classSampler) images(c datasets.Class, n int64) ([]plots.Image, error) {
	p, err := g.gen(c, n)
	if err != nil {
		return nil, err
	}
	defer p.MustDrop()
	return toImages(p)
}

// samplers are the ways this model can generate a class: always sampling
// around the class's region of latent space (a diagonal Gaussian fitted to
// the encoder means of its training images); for a conditional model also
// the prior N(0, I) decoded with the class.
func samplers(m *vae.VAE, d *galaxy.Data, trainMu []float32) []classSampler {
	z := int(m.Config.ZDim)
	decode := func(zs *ts.Tensor, class datasets.Class) (*ts.Tensor, error) {
		var cond *ts.Tensor
		if m.Config.Conditional {
			size, err := zs.Size()
			if err != nil {
				return nil, err
			}
			cls := make([]int64, size[0])
			for i := range cls {
				cls[i] = int64(class)
			}
			if cond, err = vae.OneHot(cls, datasets.NumClasses); err != nil {
				return nil, err
			}
			defer cond.MustDrop()
		}
		decoded, err := m.Decode(zs, cond, false)
		if err != nil {
			return nil, err
		}
		defer decoded.MustDrop()
		return m.Mean(decoded)
	}
	region := classSampler{name: "latent region", gen: func(class datasets.Class, n int64) (*ts.Tensor, error) {
		var rows []float32
		k := 0
		for i, c := range d.TrainY {
			if datasets.Class(c) == class {
				rows = append(rows, trainMu[i*z:(i+1)*z]...)
				k++
			}
		}
		g, err := vae.FitDiagGaussian(rows, k, z)
		if err != nil {
			return nil, fmt.Errorf("class %s: %w", class, err)
		}
		zs, err := g.Sample(n)
		if err != nil {
			return nil, err
		}
		defer zs.MustDrop()
		return decode(zs, class)
	}}
	out := []classSampler{region}
	if m.Config.Conditional {
		out = append(out, classSampler{name: "cvae prior", gen: func(class datasets.Class, n int64) (*ts.Tensor, error) {
			zs, err := ts.Randn([]int64{n, m.Config.ZDim}, gotch.Float, gotch.CPU)
			if err != nil {
				return nil, err
			}
			defer zs.MustDrop()
			return decode(zs, class)
		}})
	}
	return out
}

// drawSamples draws generated images of the chosen class beside training
// originals of it, the same for every class, and measures how often a
// nearest-neighbour classifier on the training pixels assigns each sample
// to the class it was generated for (the galaxy classifier j when given).
func drawSamples(out string, m *vae.VAE, d *galaxy.Data, trainMu []float32, class datasets.Class, res map[string]float64, j *Judge) ([]string, error) {
	gens := samplers(m, d, trainMu)
	originals := func(c datasets.Class, n int) ([]plots.Image, error) {
		var idx []int64
		for i, y := range d.TrainY {
			if datasets.Class(y) == c && len(idx) < n {
				idx = append(idx, int64(i))
			}
		}
		if len(idx) == 0 {
			return nil, nil
		}
		xb, _, err := d.Batch(d.TrainX, nil, idx)
		if err != nil {
			return nil, err
		}
		defer xb.MustDrop()
		return toImages(xb)
	}
	// The chosen class: a row of originals, then a row per sampler.
	orig, err := originals(class, samplesPerRow)
	if err != nil {
		return nil, err
	}
	if len(orig) == 0 {
		return nil, fmt.Errorf("class %s has no training images to sample around", class)
	}
	rows, labels := [][]plots.Image{orig}, []string{"originals"}
	for _, g := range gens {
		for r := range 2 {
			img, err := g.images(class, samplesPerRow)
			if err != nil {
				return nil, err
			}
			rows = append(rows, img)
			labels = append(labels, fmt.Sprintf("%s %d", g.name, r+1))
		}
	}
	if err := plots.ImageGrid(filepath.Join(out, runrec.FigClassSamples), fmt.Sprintf("Class %s: training originals and generated samples", class), rows, labels); err != nil {
		return nil, err
	}
	// Every class: 4 originals then 4 samples of each sampler in one row.
	rows, labels = nil, nil
	for c := datasets.Class(0); c < datasets.NumClasses; c++ {
		row, err := originals(c, 4)
		if err != nil {
			return nil, err
		}
		if len(row) < 2 {
			continue // too few images to fit a Gaussian
		}
		for _, g := range gens {
			img, err := g.images(c, 4)
			if err != nil {
				return nil, err
			}
			row = append(row, img...)
		}
		rows = append(rows, row)
		labels = append(labels, c.String())
	}
	title := "Per class: up to 4 originals, then 4 samples from the latent region"
	if m.Config.Conditional {
		title += ", then 4 from the CVAE prior"
	}
	if err := plots.ImageGrid(filepath.Join(out, runrec.FigClassSamplesAll), title, rows, labels); err != nil {
		return nil, err
	}
	return sampleAgreement(d, gens, res, j)
}

// drawPriorSamples draws samples of a resnet-iaf model's prior (z1 ~ N(0,
// I), z2 ~ p(z2|z1)): for a conditional model one row per class with
// training images, up to 4 originals then 8 samples decoded with the
// class; for an unconditional one two rows of 8.
func drawPriorSamples(out string, m *vae.VAE, d *galaxy.Data) error {
	prior := priorSampler(m)
	sample := func(c datasets.Class) ([]plots.Image, error) { return prior.images(c, samplesPerRow) }
	var rows [][]plots.Image
	var labels []string
	if !m.Config.Conditional {
		for r := range 2 {
			row, err := sample(0)
			if err != nil {
				return err
			}
			rows, labels = append(rows, row), append(labels, fmt.Sprintf("prior %d", r+1))
		}
		return plots.ImageGrid(filepath.Join(out, runrec.FigPriorSamples), "Samples of the prior: z1 ~ N(0, I), z2 ~ p(z2 | z1)", rows, labels)
	}
	for c := datasets.Class(0); c < datasets.NumClasses; c++ {
		var idx []int64
		for i, y := range d.TrainY {
			if datasets.Class(y) == c && len(idx) < 4 {
				idx = append(idx, int64(i))
			}
		}
		if len(idx) == 0 {
			continue
		}
		xb, _, err := d.Batch(d.TrainX, nil, idx)
		if err != nil {
			return err
		}
		row, err := toImages(xb)
		xb.MustDrop()
		if err != nil {
			return err
		}
		s, err := sample(c)
		if err != nil {
			return err
		}
		rows, labels = append(rows, append(row, s...)), append(labels, c.String())
	}
	return plots.ImageGrid(filepath.Join(out, runrec.FigPriorSamples), "Per class: up to 4 training originals, then 8 samples of the prior decoded with the class (FiLM)", rows, labels)
}

// priorSampler samples a resnet-iaf model's prior (z1 ~ N(0, I), z2 ~
// p(z2|z1)) and decodes it, with the class for a conditional model (FiLM);
// an unconditional model ignores the class.
func priorSampler(m *vae.VAE) classSampler {
	return classSampler{name: "prior", gen: func(c datasets.Class, n int64) (*ts.Tensor, error) {
		var cond *ts.Tensor
		if m.Config.Conditional {
			classes := make([]int64, n)
			for i := range classes {
				classes[i] = int64(c)
			}
			var err error
			if cond, err = vae.OneHot(classes, m.Config.NumClasses); err != nil {
				return nil, err
			}
			defer cond.MustDrop()
		}
		decoded, err := m.SamplePrior(n, cond)
		if err != nil {
			return nil, err
		}
		defer decoded.MustDrop()
		return m.Mean(decoded)
	}}
}

// knnK is the number of neighbours of the pixel-space classifier that
// judges generated samples.
const knnK = 5

// sampleAgreement generates 32 images per class (classes with at least 2
// training images) with each sampler and reports the fraction that a
// classifier assigns to the requested class; as a yardstick, also that
// classifier's accuracy on the real test images (for the galaxy CNN judging
// a run of another split, its accuracy on its own test split). The classifier is the
// trained galaxy CNN when j is given (galaxy-classifier), else a 5-NN
// on the training pixels.
func sampleAgreement(d *galaxy.Data, gens []classSampler, res map[string]float64, j *Judge) ([]string, error) {
	name, key := fmt.Sprintf("%d-NN pixel classifier", knnK), runrec.JudgeKNN
	classify := func(x *ts.Tensor, want []int64) (float64, error) {
		flat, err := x.Flatten(1, -1, false) // [M, D]
		if err != nil {
			return 0, err
		}
		defer flat.MustDrop()
		train, err := d.TrainX.Flatten(1, -1, false) // [N, D]
		if err != nil {
			return 0, err
		}
		defer train.MustDrop()
		pred, err := analysis.KNN(train, d.TrainY, flat, knnK)
		if err != nil {
			return 0, err
		}
		return analysis.Accuracy(pred, want), nil
	}
	if j != nil {
		name, key = "galaxy classifier ("+j.dir+")", runrec.JudgeCNN
		classify = j.agreement
	}
	var notes []string
	if j != nil && !j.sameTest {
		res[runrec.JudgeTestAccuracy(key)] = j.testAcc
		notes = append(notes, fmt.Sprintf("%s accuracy on its own test images (seed %d; this run's test split, of another seed, holds galaxies it trained on): %.3f",
			name, j.seed, j.testAcc))
	} else if d.NTest > 0 {
		acc, err := classify(d.TestX, d.TestY)
		if err != nil {
			return nil, err
		}
		res[runrec.JudgeTestAccuracy(key)] = acc
		notes = append(notes, fmt.Sprintf("%s accuracy on real test images: %.3f", name, acc))
	}
	counts := datasets.ClassCounts(galaxy.ClassesOf(d.TrainY))
	for _, g := range gens {
		var hits, total float64
		classHits, classN := map[datasets.Class]int{}, map[datasets.Class]int{}
		gkey := map[string]string{"latent region": runrec.GenLatentRegion, "cvae prior": runrec.GenCVAEPrior, "prior": runrec.GenPrior}[g.name]
		for c := datasets.Class(0); c < datasets.NumClasses; c++ {
			if counts[c] < 2 {
				continue
			}
			p, err := g.gen(c, 32)
			if err != nil {
				return nil, err
			}
			want := make([]int64, 32)
			for i := range want {
				want[i] = int64(c)
			}
			agree, err := classify(p, want)
			p.MustDrop()
			if err != nil {
				return nil, err
			}
			res[runrec.PerClass(runrec.SampleAgreement(key, gkey), c.String())] = agree
			hits += 32 * agree
			total += 32
			classHits[c], classN[c] = int(math.Round(32*agree)), 32
		}
		res[runrec.SampleAgreement(key, gkey)] = hits / total
		notes = append(notes, fmt.Sprintf("samples (%s) classified as their class by the %s: %.3f (a class-blind generator: %.3f on this average of %.0f classes)",
			g.name, name, hits/total, 32/total, total/32))
		if j == nil {
			continue
		}
		if sc, ok := j.scale(classHits, classN); ok {
			res[runrec.JudgeChance], res[runrec.JudgeCeiling] = sc.Chance, sc.Ceiling
			res[runrec.JudgeScore(gkey, runrec.ScoreScored)], res[runrec.JudgeScore(gkey, runrec.ScoreNormalised)], res[runrec.JudgeScore(gkey, runrec.ScoreNormalisedLo)], res[runrec.JudgeScore(gkey, runrec.ScoreNormalisedHi)] = sc.Score, sc.Normalised, sc.Lo, sc.Hi
			names := make([]string, len(sc.Scored))
			for i, c := range sc.Scored {
				names[i] = c.String()
			}
			notes = append(notes, fmt.Sprintf("samples (%s) on the %d classes the classifier recognises on real test images (%s; real-test recall above %.2f): %.3f against chance %.3f and the classifier's real-test ceiling %.3f, normalised %.3f (bootstrap 95 %% interval %.3f to %.3f)",
				g.name, len(sc.Scored), strings.Join(names, ", "), minScoredRecall, sc.Score, sc.Chance, sc.Ceiling, sc.Normalised, sc.Lo, sc.Hi))
		}
	}
	for _, n := range notes {
		log.Print(n)
	}
	return notes, nil
}
