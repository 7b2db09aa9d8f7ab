package main

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"

	"torchlab/datasets"
)

// corpus is an encoded tweet file: codes per tweet and labels.
type corpus struct {
	Seqs   [][]uint8
	Labels []int64
}

// loadCorpus reads and encodes a tweets CSV, logging skipped rows.
func loadCorpus(path string, maxLen int, skipBad bool, logf func(string, ...any)) (*corpus, error) {
	set, err := datasets.ReadTweets(path, skipBad)
	if err != nil {
		return nil, err
	}
	if set.Skipped > 0 {
		logf("%s: skipped %d malformed records (starting on lines %v)", path, set.Skipped, firstFew(set.SkippedLines, 10))
	}
	if len(set.Texts) == 0 {
		return nil, fmt.Errorf("%s: no tweets", path)
	}
	return &corpus{Seqs: datasets.EncodeTexts(set.Texts, maxLen), Labels: set.Labels}, nil
}

func firstFew(v []int, n int) []int { return v[:min(n, len(v))] }

// subset returns the tweets at idx.
func (c *corpus) subset(idx []int) ([][]uint8, []int64) {
	seqs := make([][]uint8, len(idx))
	labels := make([]int64, len(idx))
	for j, i := range idx {
		seqs[j], labels[j] = c.Seqs[i], c.Labels[i]
	}
	return seqs, labels
}

// splitVal holds out round(fraction*n) tweets for validation, stratified
// by label and drawn from seed (datasets.StratifiedSplit); val is nil for
// fraction 0, and train is then c itself.
func (c *corpus) splitVal(fraction float64, seed int64) (train, val *corpus, err error) {
	n, err := datasets.ValCount(len(c.Labels), fraction)
	if err != nil || n == 0 {
		return c, nil, err
	}
	tr, va, err := datasets.StratifiedSplit(c.Labels, n, seed)
	if err != nil {
		return nil, nil, err
	}
	train, val = &corpus{}, &corpus{}
	train.Seqs, train.Labels = c.subset(tr)
	val.Seqs, val.Labels = c.subset(va)
	return train, val, nil
}

// sample is a fixed random sample of n of the corpus's tweets (all of them
// when n is 0 or at least the corpus size), drawn from seed alone.
func (c *corpus) sample(n int, seed uint64) ([][]uint8, []int64) {
	if n <= 0 || n >= len(c.Seqs) {
		return c.Seqs, c.Labels
	}
	perm := rand.New(rand.NewPCG(seed, 0x7261696e)).Perm(len(c.Seqs))[:n]
	sort.Ints(perm)
	return c.subset(perm)
}

// sampler gives the batch of every iteration as a pure function of (seed,
// iteration), so a resumed run draws exactly the batches an uninterrupted
// one would have.
type sampler struct {
	lengths []int // tweet lengths, for bucketing
	batch   int
	pool    int // batches per length-sorted pool; 0 for none
	seed    uint64

	epoch   int // epoch whose batches are cached
	batches [][]int
}

func newSampler(lengths []int, batch, pool int, seed uint64) (*sampler, error) {
	if len(lengths) < batch {
		return nil, fmt.Errorf("%d training tweets, fewer than one batch of %d", len(lengths), batch)
	}
	return &sampler{lengths: lengths, batch: batch, pool: pool, seed: seed, epoch: -1}, nil
}

// perEpoch is the number of full batches in an epoch (the remainder of the
// permutation is left out).
func (s *sampler) perEpoch() int { return len(s.lengths) / s.batch }

// at returns the tweet indices of the batch of iteration it (0-based).
func (s *sampler) at(it int) []int {
	epoch := it / s.perEpoch()
	if epoch != s.epoch {
		s.batches, s.epoch = s.layout(epoch), epoch
	}
	return s.batches[it%s.perEpoch()]
}

// layout cuts epoch's permutation into batches.
func (s *sampler) layout(epoch int) [][]int {
	r := rand.New(rand.NewPCG(s.seed, uint64(epoch)))
	perm := r.Perm(len(s.lengths))[:s.perEpoch()*s.batch]
	if s.pool > 0 {
		size := s.pool * s.batch
		for start := 0; start < len(perm); start += size {
			p := perm[start:min(start+size, len(perm))]
			sort.SliceStable(p, func(a, b int) bool { return s.lengths[p[a]] > s.lengths[p[b]] })
		}
	}
	batches := make([][]int, s.perEpoch())
	for b := range batches {
		batches[b] = perm[b*s.batch : (b+1)*s.batch : (b+1)*s.batch]
	}
	if s.pool > 0 {
		// Sorted pools put long batches first; shuffle so length does not
		// follow a pattern through the epoch.
		r.Shuffle(len(batches), func(a, b int) { batches[a], batches[b] = batches[b], batches[a] })
	}
	return batches
}

// dataPaths fills in the default train and test files under the data
// folder and says where they came from (nil when both were given as files).
func dataPaths(cfg *Config) (*datasets.Source, error) {
	if cfg.Train != "" && cfg.Test != "" {
		return nil, nil
	}
	src, err := datasets.Locate(cfg.DataDir, "tweets")
	if err != nil {
		return nil, err
	}
	if cfg.Train == "" {
		cfg.Train = filepath.Join(src.Dir, "tweetstrain.csv")
	}
	if cfg.Test == "" {
		cfg.Test = filepath.Join(src.Dir, "tweetstest.csv")
	}
	return &src, nil
}
