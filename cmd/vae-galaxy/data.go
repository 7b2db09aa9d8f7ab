package main

import (
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/sugarme/gotch/ts"

	"torchlab/datasets"
	"torchlab/internal/train"
	"torchlab/models/vae"
	"torchlab/torch/tensors"
)

// dataOptions selects and prepares the Galaxy Zoo images.
type dataOptions struct {
	DataDir, CacheDir string
	Crop, Size        int
	Workers, Limit    int
	SkipBad           bool
	TestFraction      float64
	ValFraction       float64 // of the training galaxies
	Seed              int64
	Conditional       bool
}

// galaxyData is the train/validation/test split, each split in one tensor
// (the validation ones nil for --val-fraction 0).
type galaxyData struct {
	source              datasets.Source
	size                int
	nTrain, nVal, nTest int
	trainX, valX, testX *ts.Tensor // [N, 3, S, S] in [0,1]
	trainCond, valCond  *ts.Tensor // [N, classes] one-hot, conditional runs only
	testCond            *ts.Tensor
	trainY, valY, testY []int64 // classes
	trainIDs, testIDs   []int64 // GalaxyIDs
}

// split says what a run of cfg trains, validates and tests on.
func (d *galaxyData) split(cfg Config) *train.Split {
	return &train.Split{Train: d.nTrain, Val: d.nVal, Test: d.nTest, Unit: "galaxies",
		ValFraction: cfg.ValFraction, ValSeed: valSeed(cfg.splitSeed()), SplitSeed: cfg.splitSeed(), StratifiedBy: "class",
		TrainEval: "running mean of batch losses"}
}

// evalSet is one split's images, to be evaluated under its metrics.csv name.
type evalSet struct {
	name    string
	x, cond *ts.Tensor
	n       int
}

// evalSets returns the named splits ("train", "val", "test") that hold
// images, in the order given.
func (d *galaxyData) evalSets(names ...string) []evalSet {
	all := map[string]evalSet{"train": {"train", d.trainX, d.trainCond, d.nTrain},
		"val": {"val", d.valX, d.valCond, d.nVal}, "test": {"test", d.testX, d.testCond, d.nTest}}
	var out []evalSet
	for _, name := range names {
		if s := all[name]; s.n > 0 {
			out = append(out, s)
		}
	}
	return out
}

// valSeed draws the validation split; the test split uses seed.
func valSeed(seed int64) int64 { return seed + 2 }

// carveVal holds out round(fraction*len(train)) of the training galaxies
// for validation, stratified by class (datasets.StratifiedSplit).
func carveVal(set *datasets.GalaxySet, train []int, fraction float64, seed int64) (rest, val []int, err error) {
	n, err := datasets.ValCount(len(train), fraction)
	if err != nil || n == 0 {
		return train, nil, err
	}
	classes := make([]int64, len(train))
	for k, i := range train {
		classes[k] = int64(set.Classes[i])
	}
	tr, va, err := datasets.StratifiedSplit(classes, n, valSeed(seed))
	if err != nil {
		return nil, nil, err
	}
	pickIdx := func(pos []int) []int {
		out := make([]int, len(pos))
		for k, p := range pos {
			out[k] = train[p]
		}
		return out
	}
	return pickIdx(tr), pickIdx(va), nil
}

// loadData loads (or reads from the cache) the images, logs the class
// counts to lg and splits them deterministically.
func loadData(o dataOptions, lg *log.Logger) (*galaxyData, error) {
	src, err := datasets.Locate(o.DataDir, "galaxyzoo")
	if err != nil {
		return nil, err
	}
	dir := src.Dir
	start := time.Now()
	set, err := datasets.LoadGalaxyZoo(datasets.GalaxyOptions{Dir: dir, Crop: o.Crop, Size: o.Size, Workers: o.Workers,
		CacheDir: o.CacheDir, SkipBad: o.SkipBad, Limit: o.Limit})
	if err != nil {
		return nil, err
	}
	how := "decoded"
	if set.FromCache {
		how = "read from cache"
	}
	lg.Printf("%d galaxies from %s (%dx%d, crop %d), %s in %.1fs", set.N, dir, o.Size, o.Size, o.Crop, how, time.Since(start).Seconds())
	if set.Skipped > 0 {
		lg.Printf("skipped %d missing or corrupt images (--skip-bad), e.g. %s", set.Skipped, set.SkippedFiles[0])
	}
	lg.Printf("classes: %s", countsLine(set.Classes))
	if note := src.Note(fmt.Sprintf("%d galaxies", set.N)); note != "" {
		lg.Print(note)
	}
	if set.N < 2 {
		return nil, fmt.Errorf("%s: %d usable galaxies, need at least 2", dir, set.N)
	}
	train, test, err := datasets.SplitTrainTest(set.N, o.TestFraction, o.Seed)
	if err != nil {
		return nil, err
	}
	train, val, err := carveVal(set, train, o.ValFraction, o.Seed)
	if err != nil {
		return nil, err
	}
	d := &galaxyData{size: o.Size, nTrain: len(train), nVal: len(val), nTest: len(test), source: src}
	if d.trainX, d.trainY, d.trainIDs, err = gather(set, train); err != nil {
		return nil, err
	}
	if len(val) > 0 {
		if d.valX, d.valY, _, err = gather(set, val); err != nil {
			d.Drop()
			return nil, err
		}
	}
	if d.testX, d.testY, d.testIDs, err = gather(set, test); err != nil {
		return nil, err
	}
	if o.Conditional {
		if d.trainCond, err = vae.OneHot(d.trainY, datasets.NumClasses); err != nil {
			return nil, err
		}
		if d.testCond, err = vae.OneHot(d.testY, datasets.NumClasses); err != nil {
			return nil, err
		}
		if d.valX != nil {
			if d.valCond, err = vae.OneHot(d.valY, datasets.NumClasses); err != nil {
				return nil, err
			}
		}
	}
	lg.Printf("split (seed %d): %d train, %d validation (%.3g of the training galaxies, stratified by class), %d test; train classes: %s",
		o.Seed, d.nTrain, d.nVal, o.ValFraction, d.nTest, countsLine(classesOf(d.trainY)))
	return d, nil
}

// gather copies the images at idx into one tensor [len(idx), 3, S, S].
func gather(set *datasets.GalaxySet, idx []int) (*ts.Tensor, []int64, []int64, error) {
	stride := 3 * set.Size * set.Size
	v := make([]float32, len(idx)*stride)
	y := make([]int64, len(idx))
	ids := make([]int64, len(idx))
	for k, i := range idx {
		copy(v[k*stride:(k+1)*stride], set.Images[i*stride:(i+1)*stride])
		y[k] = int64(set.Classes[i])
		ids[k] = set.IDs[i]
	}
	s := int64(set.Size)
	x, err := tensors.FromFloat32(v, int64(len(idx)), 3, s, s)
	return x, y, ids, err
}

// batch selects rows idx of x (and of cond, if not nil).
func (d *galaxyData) batch(x, cond *ts.Tensor, idx []int64) (xb, cb *ts.Tensor, err error) {
	it, err := tensors.FromInt64(idx, int64(len(idx)))
	if err != nil {
		return nil, nil, err
	}
	defer it.MustDrop()
	xb = x.MustIndexSelect(0, it, false) // [B, 3, S, S]
	if cond != nil {
		cb = cond.MustIndexSelect(0, it, false) // [B, classes]
	}
	return xb, cb, nil
}

// Drop frees the tensors.
func (d *galaxyData) Drop() {
	for _, t := range []*ts.Tensor{d.trainX, d.valX, d.testX, d.trainCond, d.valCond, d.testCond} {
		if t != nil {
			t.MustDrop()
		}
	}
}

func classesOf(y []int64) []datasets.Class {
	out := make([]datasets.Class, len(y))
	for i, c := range y {
		out[i] = datasets.Class(c)
	}
	return out
}

func countsLine(classes []datasets.Class) string {
	n := datasets.ClassCounts(classes)
	parts := make([]string, len(n))
	for c, k := range n {
		parts[c] = fmt.Sprintf("%s %d", datasets.Class(c), k)
	}
	return strings.Join(parts, ", ")
}
