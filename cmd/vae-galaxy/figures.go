package main

import (
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/datasets"
	"torchlab/internal/metrics"
	"torchlab/models/vae"
	"torchlab/plots"
	"torchlab/torch/checkpoint"
	"torchlab/torch/tensors"
	"torchlab/torch/torchrt"
)

// Figure file names in --out.
const (
	figCurve      = "recon_curve.png"
	figRecon      = "reconstructions.png"
	figLatent     = "latent_pca.png"
	figSamples    = "class_samples.png"
	figSamplesAll = "class_samples_all.png"
	figFilters    = "weights_filters.png"
	figMatrix     = "weights_matrix.png"
	figCompare    = "recon_compare.png"
)

// samplesPerRow is the number of tiles in a row of the sample figures.
const samplesPerRow = 8

// drawAll draws every figure of a trained model into out and adds the
// sample-quality numbers to res. It returns notes for summary.json.
func drawAll(out string, m *vae.VAE, named map[string]*ts.Tensor, d *galaxyData, className string, res map[string]float64) ([]string, error) {
	class, err := datasets.ParseClass(className)
	if err != nil {
		return nil, err
	}
	if err := drawCurves(out); err != nil {
		return nil, err
	}
	var notes []string
	err = torchrt.NoGrad(func() error {
		// Figures draw fresh noise; a fixed seed makes them redraw identically.
		torchrt.ManualSeed(1)
		if err := drawReconstructions(out, m, d); err != nil {
			return err
		}
		trainMu, err := encodeMeans(m, d.trainX, d.trainCond)
		if err != nil {
			return err
		}
		if err := drawLatent(out, m, d, trainMu); err != nil {
			return err
		}
		n, err := drawSamples(out, m, d, trainMu, class, res)
		notes = append(notes, n...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return notes, drawWeights(out, m, named)
}

// drawCurves plots train and test reconstruction error against steps.
func drawCurves(out string) error {
	series, err := reconSeries(out, "")
	if err != nil {
		return err
	}
	return reconChart(filepath.Join(out, figCurve), "Reconstruction error ("+filepath.Base(out)+")", series)
}

// reconChart draws recon curves with the first evaluation of each cut off
// the top when it lies above the rest: the first epoch's training error
// (~4,500 nats at 64x64, against ~2,760 later) would otherwise squeeze the
// later epochs, where the architectures differ, into a few pixels.
func reconChart(path, title string, series []plots.Series) error {
	opts := plots.LineOptions{Title: title, XLabel: "training step", YLabel: "BCE summed over pixels (nats/image)"}
	if top, ok := plots.TopAfter(1, series...); ok {
		opts.YMax = &top
		opts.Title += ", first epoch off the top"
	}
	return plots.LinesWith(path, opts, series...)
}

// reconSeries reads the train and test recon curves of a run's metrics.csv;
// prefix names them in a comparison.
func reconSeries(dir, prefix string) ([]plots.Series, error) {
	tab, err := metrics.Read(filepath.Join(dir, "metrics.csv"))
	if err != nil {
		return nil, err
	}
	var out []plots.Series
	for _, split := range []string{"train", "test"} {
		x, y, err := tab.Series("step", "recon", "split", split)
		if err != nil {
			return nil, err
		}
		if len(x) > 0 {
			out = append(out, plots.Series{Name: prefix + split, X: x, Y: y})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: metrics.csv has no rows yet", dir)
	}
	return out, nil
}

// drawCompare puts several runs' recon curves into one figure.
func drawCompare(out string, dirs []string) error {
	var all []plots.Series
	for _, dir := range dirs {
		s, err := reconSeries(dir, filepath.Base(filepath.Clean(dir))+" ")
		if err != nil {
			return err
		}
		all = append(all, s...)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	path := filepath.Join(out, figCompare)
	if err := reconChart(path, "Reconstruction error by architecture", all); err != nil {
		return err
	}
	log.Printf("wrote %s", path)
	return nil
}

// drawReconstructions shows test images above their reconstructions from
// z = mu (the mean of q(z|x), no sampling noise).
func drawReconstructions(out string, m *vae.VAE, d *galaxyData) error {
	x, cond := d.testX, d.testCond
	if d.nTest == 0 {
		x, cond = d.trainX, d.trainCond
	}
	n := min(samplesPerRow, x.MustSize()[0])
	xb := x.MustNarrow(0, 0, n, false)
	defer xb.MustDrop()
	var cb *ts.Tensor
	if cond != nil {
		cb = cond.MustNarrow(0, 0, n, false)
		defer cb.MustDrop()
	}
	eps := ts.MustZeros([]int64{n, m.Config.ZDim}, gotch.Float, gotch.CPU)
	defer eps.MustDrop()
	logits, mu, logvar, err := m.Forward(xb, cb, eps, false)
	if err != nil {
		return err
	}
	defer mu.MustDrop()
	defer logvar.MustDrop()
	rec := logits.MustSigmoid(true)
	defer rec.MustDrop()
	orig, err := toImages(xb)
	if err != nil {
		return err
	}
	recon, err := toImages(rec)
	if err != nil {
		return err
	}
	return plots.ImageGrid(filepath.Join(out, figRecon), "Test images (top) and reconstructions from z = mu (bottom)",
		[][]plots.Image{orig, recon}, []string{"original", "reconstruction"})
}

// encodeMeans returns the encoder means of all rows of x, [N*z] row-major.
func encodeMeans(m *vae.VAE, x, cond *ts.Tensor) ([]float32, error) {
	n := x.MustSize()[0]
	var out []float32
	for start := int64(0); start < n; start += 256 {
		size := min(256, n-start)
		xb := x.MustNarrow(0, start, size, false)
		var cb *ts.Tensor
		if cond != nil {
			cb = cond.MustNarrow(0, start, size, false)
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
func drawLatent(out string, m *vae.VAE, d *galaxyData, mu []float32) error {
	z := int(m.Config.ZDim)
	px, py, frac, err := pca2(mu, d.nTrain, z)
	if err != nil {
		return err
	}
	groups := make([]plots.ScatterGroup, datasets.NumClasses)
	for c := range groups {
		groups[c].Name = datasets.Class(c).String()
	}
	for i, c := range d.trainY {
		groups[c].X = append(groups[c].X, px[i])
		groups[c].Y = append(groups[c].Y, py[i])
	}
	var kept []plots.ScatterGroup
	for _, g := range groups {
		if len(g.X) > 0 {
			kept = append(kept, g)
		}
	}
	return plots.Scatter(filepath.Join(out, figLatent), "Encoder means of the training images, PCA",
		fmt.Sprintf("PC 1 (%.0f%% of variance)", 100*frac[0]), fmt.Sprintf("PC 2 (%.0f%% of variance)", 100*frac[1]), kept)
}

// classSampler generates images of a class.
type classSampler struct {
	name string
	gen  func(class datasets.Class, n int64) (*ts.Tensor, error) // probabilities [n, 3, S, S]
}

// samplers are the ways this model can generate a class: always sampling
// around the class's region of latent space (a diagonal Gaussian fitted to
// the encoder means of its training images); for a conditional model also
// the prior N(0, I) decoded with the class.
func samplers(m *vae.VAE, d *galaxyData, trainMu []float32) []classSampler {
	z := int(m.Config.ZDim)
	decode := func(zs *ts.Tensor, class datasets.Class) (*ts.Tensor, error) {
		var cond *ts.Tensor
		if m.Config.Conditional {
			cls := make([]int64, zs.MustSize()[0])
			for i := range cls {
				cls[i] = int64(class)
			}
			var err error
			if cond, err = vae.OneHot(cls, datasets.NumClasses); err != nil {
				return nil, err
			}
			defer cond.MustDrop()
		}
		logits, err := m.Decode(zs, cond, false)
		if err != nil {
			return nil, err
		}
		return logits.MustSigmoid(true), nil
	}
	region := classSampler{name: "latent region", gen: func(class datasets.Class, n int64) (*ts.Tensor, error) {
		var rows []float32
		k := 0
		for i, c := range d.trainY {
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
			zs := ts.MustRandn([]int64{n, m.Config.ZDim}, gotch.Float, gotch.CPU)
			defer zs.MustDrop()
			return decode(zs, class)
		}})
	}
	return out
}

// drawSamples draws generated images of the chosen class beside training
// originals of it, the same for every class, and measures how often a
// nearest-neighbour classifier on the training pixels assigns each sample
// to the class it was generated for.
func drawSamples(out string, m *vae.VAE, d *galaxyData, trainMu []float32, class datasets.Class, res map[string]float64) ([]string, error) {
	gens := samplers(m, d, trainMu)
	originals := func(c datasets.Class, n int) ([]plots.Image, error) {
		var idx []int64
		for i, y := range d.trainY {
			if datasets.Class(y) == c && len(idx) < n {
				idx = append(idx, int64(i))
			}
		}
		if len(idx) == 0 {
			return nil, nil
		}
		xb, _, err := d.batch(d.trainX, nil, idx)
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
			p, err := g.gen(class, samplesPerRow)
			if err != nil {
				return nil, err
			}
			img, err := toImages(p)
			p.MustDrop()
			if err != nil {
				return nil, err
			}
			rows = append(rows, img)
			labels = append(labels, fmt.Sprintf("%s %d", g.name, r+1))
		}
	}
	if err := plots.ImageGrid(filepath.Join(out, figSamples), fmt.Sprintf("Class %s: training originals and generated samples", class), rows, labels); err != nil {
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
			p, err := g.gen(c, 4)
			if err != nil {
				return nil, err
			}
			img, err := toImages(p)
			p.MustDrop()
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
	if err := plots.ImageGrid(filepath.Join(out, figSamplesAll), title, rows, labels); err != nil {
		return nil, err
	}
	return sampleAgreement(d, gens, res)
}

// knnK is the number of neighbours of the pixel-space classifier that
// judges generated samples.
const knnK = 5

// sampleAgreement generates 32 images per class (classes with at least 2
// training images) with each sampler and reports the fraction that a 5-NN
// classifier on the training pixels assigns to the requested class; as a
// yardstick, also that classifier's accuracy on the real test images.
func sampleAgreement(d *galaxyData, gens []classSampler, res map[string]float64) ([]string, error) {
	train := d.trainX.MustFlatten(1, -1, false) // [N, D]
	defer train.MustDrop()
	var notes []string
	if d.nTest > 0 {
		test := d.testX.MustFlatten(1, -1, false)
		acc, err := knnAgreement(train, d.trainY, test, d.testY)
		test.MustDrop()
		if err != nil {
			return nil, err
		}
		res["knn_test_accuracy"] = acc
		notes = append(notes, fmt.Sprintf("%d-NN pixel classifier accuracy on real test images: %.3f", knnK, acc))
	}
	counts := datasets.ClassCounts(classesOf(d.trainY))
	for _, g := range gens {
		var hits, total float64
		for c := datasets.Class(0); c < datasets.NumClasses; c++ {
			if counts[c] < 2 {
				continue
			}
			p, err := g.gen(c, 32)
			if err != nil {
				return nil, err
			}
			q := p.MustFlatten(1, -1, true)
			want := make([]int64, 32)
			for i := range want {
				want[i] = int64(c)
			}
			agree, err := knnAgreement(train, d.trainY, q, want)
			q.MustDrop()
			if err != nil {
				return nil, err
			}
			hits += 32 * agree
			total += 32
		}
		key := "samples_knn_agreement_" + map[string]string{"latent region": "latent_region", "cvae prior": "cvae_prior"}[g.name]
		res[key] = hits / total
		notes = append(notes, fmt.Sprintf("samples (%s) classified as their class by %d-NN: %.3f", g.name, knnK, hits/total))
	}
	for _, n := range notes {
		log.Print(n)
	}
	return notes, nil
}

// knnAgreement classifies the rows of query by majority vote of their knnK
// nearest training rows (Euclidean, ties to the nearest) and returns the
// fraction equal to want.
func knnAgreement(train *ts.Tensor, trainY []int64, query *ts.Tensor, want []int64) (float64, error) {
	hits := 0
	n := query.MustSize()[0]
	for start := int64(0); start < n; start += 128 {
		size := min(128, n-start)
		q := query.MustNarrow(0, start, size, false)
		dist := ts.MustCdist(q, train, 2, nil) // [size, N]
		q.MustDrop()
		vals, idx := dist.MustTopk(knnK, 1, false, true, true)
		vals.MustDrop()
		nn, err := tensors.Int64s(idx)
		idx.MustDrop()
		if err != nil {
			return 0, err
		}
		for i := range size {
			votes := map[int64]int{}
			best, bestVotes := int64(-1), 0
			for k := range int64(knnK) {
				c := trainY[nn[i*knnK+k]]
				votes[c]++
				if votes[c] > bestVotes {
					best, bestVotes = c, votes[c]
				}
			}
			if best == want[start+i] {
				hits++
			}
		}
	}
	return float64(hits) / float64(n), nil
}

// drawWeights draws the first layer's filters (and, for conv, the decoder's
// last layer) as image tiles and weight matrices as heat maps.
func drawWeights(out string, m *vae.VAE, named map[string]*ts.Tensor) error {
	var filters, matrices []string
	switch m.Config.Arch {
	case "conv":
		filters = []string{"encoder.net.0.weight", "decoder.net.12.weight"}
		matrices = []string{"fc_mu.weight"}
	case "resnet":
		// The first block's 1x1 skip weights are colour mixes, not
		// pictures, and a grid needs tiles of one size: show them as a matrix.
		filters = []string{"encoder.blocks.0.conv1.weight"}
		matrices = []string{"fc_mu.weight", "encoder.blocks.0.skip.weight"}
	case "mlp":
		filters = []string{"encoder.net.0.weight"}
		matrices = []string{"encoder.net.2.weight", "fc_mu.weight"}
	}
	var rows [][]plots.Image
	var labels []string
	for _, name := range filters {
		w, ok := named[name]
		if !ok {
			return fmt.Errorf("no weight %s", name)
		}
		tiles, err := filterTiles(w, m.Config)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		// Up to 16 tiles per row keeps the grid readable.
		for i := 0; i < len(tiles); i += 16 {
			rows = append(rows, tiles[i:min(i+16, len(tiles))])
			labels = append(labels, fmt.Sprintf("%s %d-%d", name, i, min(i+16, len(tiles))-1))
		}
	}
	if err := plots.ImageGrid(filepath.Join(out, figFilters), m.Config.Arch+": filters of the image-side layers (each tile min-max normalised)", rows, labels); err != nil {
		return err
	}
	for i, name := range matrices {
		w := named[name]
		s := w.MustSize()
		v, err := tensors.Float32s(w)
		if err != nil {
			return err
		}
		vals := make([]float64, len(v))
		for j, x := range v {
			vals[j] = float64(x)
		}
		path := filepath.Join(out, figMatrix)
		if i > 0 {
			path = filepath.Join(out, fmt.Sprintf("weights_matrix_%d.png", i+1))
		}
		if err := plots.Heatmap(path, fmt.Sprintf("%s: %s [%d x %d]", m.Config.Arch, name, s[0], s[1]), int(s[0]), int(s[1]),
			vals, "input unit", "output unit"); err != nil {
			return err
		}
	}
	return nil
}

// filterTiles turns a weight into RGB tiles: a conv weight [out, 3, k, k]
// gives one tile per output channel, a transposed conv [in, 3, k, k] one per
// input channel, and an MLP's first layer [H, 3*S*S] one image-sized tile
// per hidden unit (the first 32).
func filterTiles(w *ts.Tensor, cfg vae.Config) ([]plots.Image, error) {
	s := w.MustSize()
	v, err := tensors.Float32s(w)
	if err != nil {
		return nil, err
	}
	var c, h, wd, n int
	switch {
	case len(s) == 4 && s[1] == 3:
		n, c, h, wd = int(s[0]), 3, int(s[2]), int(s[3])
	case len(s) == 4:
		n, c, h, wd = int(s[0]), 1, int(s[2]), int(s[3]) // grey tiles of the first input channel
	case len(s) == 2 && s[1] == cfg.Channels*cfg.ImageSize*cfg.ImageSize:
		n, c, h, wd = min(int(s[0]), 32), int(cfg.Channels), int(cfg.ImageSize), int(cfg.ImageSize)
	default:
		return nil, fmt.Errorf("cannot show a weight of shape %v as image tiles", s)
	}
	stride := int(w.Numel()) / int(s[0])
	out := make([]plots.Image, n)
	for i := range n {
		out[i] = plots.Image{C: c, H: h, W: wd, Pix: plots.NormalizeTile(v[i*stride : i*stride+c*h*wd])}
	}
	return out, nil
}

// toImages copies a [N, C, H, W] tensor in [0,1] into plot tiles.
func toImages(x *ts.Tensor) ([]plots.Image, error) {
	s := x.MustSize()
	v, err := tensors.Float32s(x)
	if err != nil {
		return nil, err
	}
	stride := int(s[1] * s[2] * s[3])
	out := make([]plots.Image, s[0])
	for i := range out {
		out[i] = plots.Image{C: int(s[1]), H: int(s[2]), W: int(s[3]), Pix: v[i*stride : (i+1)*stride]}
	}
	return out, nil
}

// buildModel makes the model of cfg in a new VarStore on dev and returns it
// with its variables by name.
func buildModel(cfg vae.Config, dev gotch.Device) (*vae.VAE, *nn.VarStore, map[string]*ts.Tensor, error) {
	vs := nn.NewVarStore(dev)
	m, err := vae.New(vs.Root(), cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	named, err := tensors.Named(vs)
	if err != nil {
		return nil, nil, nil, err
	}
	return m, vs, named, nil
}

// runPlots redraws a run's figures from metrics.csv and its checkpoint, or
// with --compare draws several runs' curves together.
func runPlots(pc PlotsConfig) error {
	if _, err := torchrt.Init(torchrt.Config{Threads: pc.Threads, Seed: 1}); err != nil {
		return err
	}
	if len(pc.Compare) > 0 {
		return drawCompare(pc.Out, pc.Compare)
	}
	ckDir := filepath.Join(pc.Out, "checkpoint")
	meta, err := checkpoint.ReadMeta(ckDir)
	if err != nil {
		return err
	}
	var cfg Config
	if err := json.Unmarshal(meta.Config, &cfg); err != nil {
		return fmt.Errorf("read %s: %w", ckDir, err)
	}
	if pc.DataDir != "" {
		cfg.DataDir = pc.DataDir
	}
	if pc.CacheDir != "" {
		cfg.CacheDir = pc.CacheDir
	}
	if pc.Class != "" {
		cfg.Class = pc.Class
	}
	m, _, named, err := buildModel(cfg.modelConfig(), gotch.CPU) // redrawing: the CPU is enough
	if err != nil {
		return err
	}
	if _, err := checkpoint.Load(ckDir, named, nil); err != nil {
		return err
	}
	data, err := loadData(cfg.dataOptions())
	if err != nil {
		return err
	}
	defer data.Drop()
	res := map[string]float64{}
	if _, err := drawAll(pc.Out, m, named, data, cfg.Class, res); err != nil {
		return err
	}
	keys := make([]string, 0, len(res))
	for k := range res {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		log.Printf("%s = %.4f", k, res[k])
	}
	log.Printf("figures redrawn in %s", pc.Out)
	return nil
}
