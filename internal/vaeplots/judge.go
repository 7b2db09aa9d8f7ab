package vaeplots

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/datasets"
	"torchlab/internal/galaxy"
	"torchlab/internal/runrec"
	"torchlab/internal/train"
	"torchlab/models/galaxycnn"
	"torchlab/torch/checkpoint"
	"torchlab/torch/tensors"
)

// Judge is the trained galaxy classifier (galaxy-classifier's best
// validation model) that says which class a generated image looks like.
type Judge struct {
	net *galaxycnn.Net
	dir string
	// sameTest is whether the VAE run's test split is the classifier's: the
	// same seed, test fraction, limit and crop. Only then may the classifier
	// be measured on the run's test images; another seed's test split holds
	// galaxies the classifier trained on.
	sameTest bool
	seed     int64
	testAcc  float64 // the classifier's accuracy on its own test split (summary.json)
	// recall is the classifier's recall of each class on its real test
	// images (summary.json's test_accuracy_<class>), the ceiling of what
	// samples of that class can score.
	recall map[datasets.Class]float64
}

// TestSplit is what decides a VAE run's test galaxies: its split seed, test
// fraction, galaxy limit and crop.
type TestSplit struct {
	Seed         int64
	TestFraction float64
	Limit, Crop  int
}

// LoadJudge loads the best model of the classifier run in dir and checks
// that it takes the VAE run's images (imageSize square); split is the VAE
// run's test split, on which the classifier is measured only when it is
// the classifier's own.
func LoadJudge(dir string, imageSize int, split TestSplit) (*Judge, error) {
	best := train.BestDir(dir)
	meta, err := checkpoint.ReadMeta(best)
	if err != nil {
		return nil, fmt.Errorf("judge: %w", err)
	}
	var ccfg galaxy.ClassifierConfig
	if err := json.Unmarshal(meta.Config, &ccfg); err != nil {
		return nil, fmt.Errorf("judge: read %s: %w", best, err)
	}
	if ccfg.ImageSize != imageSize {
		return nil, fmt.Errorf("judge: the classifier in %s takes %dx%d images, the VAE makes %dx%d", dir, ccfg.ImageSize, ccfg.ImageSize, imageSize, imageSize)
	}
	vs := nn.NewVarStore(gotch.CPU)
	net, err := galaxycnn.New(vs.Root(), ccfg.NetConfig())
	if err != nil {
		return nil, err
	}
	named, err := tensors.Named(vs)
	if err != nil {
		return nil, err
	}
	if _, err := checkpoint.Load(best, named, nil); err != nil {
		return nil, fmt.Errorf("judge: %w", err)
	}
	summary, err := runrec.Read(dir)
	if err != nil {
		return nil, fmt.Errorf("judge: %w", err)
	}
	acc, ok := summary.Results[runrec.TestAccuracy]
	if !ok {
		return nil, fmt.Errorf("judge: %s has no %s", filepath.Join(dir, runrec.SummaryFile), runrec.TestAccuracy)
	}
	same := TestSplit{Seed: ccfg.DataSeed(), TestFraction: ccfg.TestFraction, Limit: ccfg.Limit, Crop: ccfg.Crop} == split
	recall := map[datasets.Class]float64{}
	for c := datasets.Class(0); c < datasets.NumClasses; c++ {
		if r, ok := summary.Results[runrec.PerClass(runrec.TestAccuracy, c.String())]; ok {
			recall[c] = r
		}
	}
	return &Judge{net: net, dir: dir, sameTest: same, seed: ccfg.DataSeed(), testAcc: acc, recall: recall}, nil
}

// agreement is the share of images x the classifier assigns to the
// classes want.
func (j *Judge) agreement(x *ts.Tensor, want []int64) (float64, error) {
	acc, _, err := galaxy.Accuracy(j.net, x, want)
	return acc, err
}

// minScoredRecall is the real-test recall below which a class is left out
// of the normalised sample score: samples of a class the classifier never
// recognises on real images cannot be recognised either.
const minScoredRecall = 0.05

// sampleScale puts a per-class sample score on the scale from chance to
// the classifier's ceiling, over the classes it recognises on real test
// images (recall above minScoredRecall) that have samples (hits[c] out of
// n[c]): chance is 1/len(scored) (a generator that ignores the class
// scores at most that), the ceiling is the mean real-test recall over
// them. The normalised score is (score - chance) / (ceiling - chance);
// lo and hi bound its bootstrap 95 % interval (each class's samples
// resampled, a fixed seed).
type sampleScale struct {
	Scored                 []datasets.Class
	Chance, Ceiling, Score float64
	Normalised, Lo, Hi     float64
}

func (j *Judge) scale(hits, n map[datasets.Class]int) (sampleScale, bool) {
	var s sampleScale
	for c := datasets.Class(0); c < datasets.NumClasses; c++ {
		if r, ok := j.recall[c]; ok && r > minScoredRecall && n[c] > 0 {
			s.Scored = append(s.Scored, c)
			s.Ceiling += r
		}
	}
	k := float64(len(s.Scored))
	if k < 2 {
		return s, false
	}
	s.Chance, s.Ceiling = 1/k, s.Ceiling/k
	if s.Ceiling <= s.Chance {
		return s, false
	}
	norm := func(score float64) float64 { return (score - s.Chance) / (s.Ceiling - s.Chance) }
	for _, c := range s.Scored {
		s.Score += float64(hits[c]) / float64(n[c]) / k
	}
	s.Normalised = norm(s.Score)
	rng := rand.New(rand.NewPCG(1, 7))
	const draws = 2000
	boots := make([]float64, draws)
	for b := range boots {
		m := 0.0
		for _, c := range s.Scored {
			p, got := float64(hits[c])/float64(n[c]), 0
			for range n[c] {
				if rng.Float64() < p {
					got++
				}
			}
			m += float64(got) / float64(n[c]) / k
		}
		boots[b] = norm(m)
	}
	slices.Sort(boots)
	s.Lo, s.Hi = boots[draws*25/1000], boots[draws*975/1000-1]
	return s, true
}
