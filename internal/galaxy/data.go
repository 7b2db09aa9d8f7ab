// Package galaxy is the Galaxy Zoo data as the galaxy commands use it: the
// images loaded once and split into train, validation and test
// deterministically, held as tensors, and their batches; and the galaxy
// classifier's configuration and accuracy, shared by the classifier's
// command and the VAE's judge of its samples.
package galaxy

import (
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/sugarme/gotch/ts"

	"torchlab/datasets"
	"torchlab/internal/runrec"
	"torchlab/models/vae"
	"torchlab/torch/tensors"
)

// Options selects and prepares the Galaxy Zoo images.
type Options struct {
	DataDir, CacheDir string
	Crop, Size        int
	Workers, Limit    int
	SkipBad           bool
	TestFraction      float64
	ValFraction       float64 // of the training galaxies
	Seed              int64
	Conditional       bool
}

// Data is the train/validation/test split, each split in one tensor
// (the validation ones nil for --val-fraction 0).
type Data struct {
	Source              datasets.Source
	Size                int
	NTrain, NVal, NTest int
	TrainX, ValX, TestX *ts.Tensor // [N, 3, S, S] in [0,1]
	TrainCond, ValCond  *ts.Tensor // [N, classes] one-hot, conditional runs only
	TestCond            *ts.Tensor
	TrainY, ValY, TestY []int64 // classes
	TrainIDs, TestIDs   []int64 // GalaxyIDs
}

// EvalSet is one split's images, to be evaluated under its metrics.csv name.
type EvalSet struct {
	Name    string
	X, Cond *ts.Tensor // [N, 3, S, S], [N, classes] (nil: not conditional)
	N       int
}

// EvalSets returns the named splits ("train", "val", "test") that hold
// images, in the order given.
func (d *Data) EvalSets(names ...string) []EvalSet {
	all := map[string]EvalSet{runrec.Train: {runrec.Train, d.TrainX, d.TrainCond, d.NTrain},
		runrec.Val: {runrec.Val, d.ValX, d.ValCond, d.NVal}, runrec.Test: {runrec.Test, d.TestX, d.TestCond, d.NTest}}
	var out []EvalSet
	for _, name := range names {
		if s := all[name]; s.N > 0 {
			out = append(out, s)
		}
	}
	return out
}

// ValSeed draws the validation split; the test split uses seed.
func ValSeed(seed int64) int64 { return seed + 2 }

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
	tr, va, err := datasets.StratifiedSplit(classes, n, ValSeed(seed))
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

// Load loads (or reads from the cache) the images, logs the class
// counts to lg and splits them deterministically.
func Load(o Options, lg *log.Logger) (*Data, error) {
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
	lg.Printf("classes: %s", CountsLine(set.Classes))
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
	d := &Data{Size: o.Size, NTrain: len(train), NVal: len(val), NTest: len(test), Source: src}
	if d.TrainX, d.TrainY, d.TrainIDs, err = gather(set, train); err != nil {
		return nil, err
	}
	if len(val) > 0 {
		if d.ValX, d.ValY, _, err = gather(set, val); err != nil {
			d.Drop()
			return nil, err
		}
	}
	if d.TestX, d.TestY, d.TestIDs, err = gather(set, test); err != nil {
		return nil, err
	}
	if o.Conditional {
		if d.TrainCond, err = vae.OneHot(d.TrainY, datasets.NumClasses); err != nil {
			return nil, err
		}
		if d.TestCond, err = vae.OneHot(d.TestY, datasets.NumClasses); err != nil {
			return nil, err
		}
		if d.ValX != nil {
			if d.ValCond, err = vae.OneHot(d.ValY, datasets.NumClasses); err != nil {
				return nil, err
			}
		}
	}
	lg.Printf("split (seed %d): %d train, %d validation (%.3g of the training galaxies, stratified by class), %d test; train classes: %s",
		o.Seed, d.NTrain, d.NVal, o.ValFraction, d.NTest, CountsLine(ClassesOf(d.TrainY)))
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
func (d *Data) Batch(x, cond *ts.Tensor, idx []int64) (xb, cb *ts.Tensor, err error) {
	it, err := tensors.FromInt64(idx, int64(len(idx)))
	if err != nil {
		return nil, nil, err
	}
	defer it.MustDrop()
	if xb, err = x.IndexSelect(0, it, false); err != nil { // [B, 3, S, S]
		return nil, nil, err
	}
	if cond != nil {
		if cb, err = cond.IndexSelect(0, it, false); err != nil { // [B, classes]
			xb.MustDrop()
			return nil, nil, err
		}
	}
	return xb, cb, nil
}

// Drop frees the tensors.
func (d *Data) Drop() {
	for _, t := range []*ts.Tensor{d.TrainX, d.ValX, d.TestX, d.TrainCond, d.ValCond, d.TestCond} {
		if t != nil {
			t.MustDrop()
		}
	}
}

func ClassesOf(y []int64) []datasets.Class {
	out := make([]datasets.Class, len(y))
	for i, c := range y {
		out[i] = datasets.Class(c)
	}
	return out
}

func CountsLine(classes []datasets.Class) string {
	n := datasets.ClassCounts(classes)
	parts := make([]string, len(n))
	for c, k := range n {
		parts[c] = fmt.Sprintf("%s %d", datasets.Class(c), k)
	}
	return strings.Join(parts, ", ")
}

// StepsPerEpoch counts the batches of an epoch over n examples; a last
// batch of one image is dropped because BatchNorm cannot train on it.
func StepsPerEpoch(n, batch int) int64 {
	steps := n / batch
	if n%batch >= 2 {
		steps++
	}
	return int64(max(steps, 1))
}

// BatchIndices returns the training indices of batch b of an epoch whose
// order is order.
func BatchIndices(order []int, b int64, batch int) []int64 {
	start := int(b) * batch
	end := min(start+batch, len(order))
	idx := make([]int64, end-start)
	for i := range idx {
		idx[i] = int64(order[start+i])
	}
	return idx
}
