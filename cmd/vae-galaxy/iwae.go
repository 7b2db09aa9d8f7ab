package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/sugarme/gotch/ts"

	"torchlab/datasets"
	"torchlab/internal/cli"
	"torchlab/internal/progress"
	"torchlab/internal/runrec"
	"torchlab/internal/train"
	"torchlab/models/vae"
	"torchlab/torch/dist"
	"torchlab/torch/tensors"
	"torchlab/torch/torchrt"
)

// IWAEConfig is what the iwae subcommand needs.
type IWAEConfig struct {
	Out      string
	From     string // "best" (<out>/best) or "last" (<out>/checkpoint)
	K        int    // samples per image on the whole test split
	Subset   int    // images of the fixed subset (the test split's first)
	SubsetK  int    // samples per image on the subset
	Batch    int    // images per decoder call, times the samples chunk
	Chunk    int    // samples per image drawn at once
	DataDir  string
	CacheDir string
	Threads  int
	Seed     int64

	DistTimeout time.Duration // with torchlab-run: how long to wait for the other ranks
}

func parseIWAE(args []string, stdout, stderr io.Writer) (IWAEConfig, error) {
	var c IWAEConfig
	fs := command.FlagSet("iwae", stdout, stderr)
	fs.StringVar(&c.Out, "out", "", "run folder; iwae.json is written there")
	fs.StringVar(&c.From, "from", "best", "model to score: best (best validation -ELBO, <out>/best) or last (<out>/checkpoint)")
	fs.IntVar(&c.K, "k", 100, "importance samples per image on the whole test split")
	fs.IntVar(&c.Subset, "subset-size", 100, "images of the fixed subset scored again with --subset-k (the test split's first; 0: none)")
	if err := cli.Rename(fs, "subset", "subset-size"); err != nil {
		return c, err
	}
	fs.IntVar(&c.SubsetK, "subset-k", 1000, "importance samples per image on the subset")
	fs.IntVar(&c.Batch, "batch", 4, "images encoded at once")
	fs.IntVar(&c.Chunk, "chunk", 100, "samples per image decoded at once (batch*chunk images per decoder call)")
	fs.StringVar(&c.DataDir, "data-dir", "", "data folder (default: the run's)")
	fs.StringVar(&c.CacheDir, "cache-dir", "", "image cache folder (default: the run's)")
	fs.IntVar(&c.Threads, "threads", runtime.NumCPU(), "libtorch intra-op threads")
	fs.Int64Var(&c.Seed, "seed", 1, "seed of the importance samples (each batch of images reseeds with it and its first image, so N ranks draw what one process draws)")
	fs.DurationVar(&c.DistTimeout, "dist-timeout", dist.Timeout, "under torchlab-run (WORLD_SIZE set): how long to wait for the other ranks; the ranks share the batches of images")
	if err := command.Parse(fs, args, false); err != nil {
		return c, err
	}
	if err := errors.Join(
		cli.Need("out", `""`, c.Out != "", "given: the run folder to score"),
		cli.OneOf("from", c.From, "best", "last"),
		cli.Need("k", c.K, c.K >= 1, ">= 1"),
		cli.Need("subset-k", c.SubsetK, c.SubsetK >= 1, ">= 1"),
		cli.Need("subset-size", c.Subset, c.Subset >= 0, ">= 0"),
		cli.Need("batch", c.Batch, c.Batch >= 1, ">= 1"),
		cli.Need("chunk", c.Chunk, c.Chunk >= 1, ">= 1"),
		cli.Need("threads", c.Threads, c.Threads >= 0, ">= 0 (0: one per core)"),
	); err != nil {
		return c, err
	}
	return c, nil
}

const logisticNote = "discretised logistic decoder over the 256 values of each 8-bit pixel and channel: a bound on the probability of the 8-bit test image, in the literature's bits/dim."

const bernoulliNote = "Bernoulli decoder on pixel values in [0,1]: the bound is on the model's own (unnormalised for non-binary pixels) likelihood, the quantity its training loss estimates; compare architectures with it, not with discrete 8-bit image models."

// runIWAE scores the test split of a trained run.
func runIWAE(cfg IWAEConfig) error {
	if _, err := torchrt.Init(torchrt.Config{Threads: cfg.Threads, Seed: cfg.Seed}); err != nil {
		return err
	}
	torchrt.SetBLASThreads(1) // as in training: OpenBLAS's threads would fight libtorch's
	// The group only shares the images out: cli.Common's --out rewrite for
	// ranks > 0 does not touch cfg.Out, which every rank reads the run from.
	par, err := (&cli.Common{DistTimeout: cfg.DistTimeout}).JoinGroup()
	if err != nil {
		return err
	}
	defer par.Leave()
	dir := filepath.Join(cfg.Out, "checkpoint")
	if cfg.From == "best" {
		dir = train.BestDir(cfg.Out)
	}
	run, err := loadRun(cfg.Out, dir, cfg.DataDir, cfg.CacheDir)
	if err != nil {
		return err
	}
	defer run.data.Drop()
	x, cond, n := run.data.TestX, run.data.TestCond, run.data.NTest
	lik := run.model.Config.Likelihood
	if lik == "" {
		lik = vae.Bernoulli
	}
	note := bernoulliNote
	if lik == vae.Logistic {
		note = logisticNote
	}
	rep := runrec.IWAE{Run: cfg.Out, Model: dir, Step: run.step, Split: "test", Dims: imageDims(run.cfg), Likelihood: string(lik),
		Note: note, Ranks: par.World(), Command: cli.CommandLine()}
	log.Printf("iwae: %s (step %d), %d test images, k=%d", dir, run.step, n, cfg.K)
	bounds, elbos, secs, err := scoreImages(par, run.model, x, cond, n, cfg.K, cfg)
	if err != nil {
		return err
	}
	rep.Test = summarise(bounds, elbos, cfg.K, secs, rep.Dims)
	var subsetBounds []float64
	log.Printf("iwae: test -log p(x) <= %.2f nats (%.4f bits/dim), -ELBO %.2f", rep.Test.NLL, rep.Test.NLLBits, rep.Test.ELBO)
	if m := min(cfg.Subset, n); m > 0 {
		at := summarise(bounds[:m], elbos[:m], cfg.K, 0, rep.Dims)
		rep.SubsetAt = &at
		log.Printf("iwae: the first %d test images, k=%d", m, cfg.SubsetK)
		sb, se, ss, err := scoreImages(par, run.model, x, cond, m, cfg.SubsetK, cfg)
		if err != nil {
			return err
		}
		subsetBounds = sb
		sub := summarise(sb, se, cfg.SubsetK, ss, rep.Dims)
		rep.Subset = &sub
		log.Printf("iwae: subset -log p(x) <= %.2f nats at k=%d, %.2f at k=%d", sub.NLL, cfg.SubsetK, at.NLL, cfg.K)
	}
	if !par.Lead() {
		return nil
	}
	raw, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(cfg.Out, "iwae.json")
	if err := os.WriteFile(path, append(raw, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	log.Printf("wrote %s", path)
	return writeImageScores(filepath.Join(cfg.Out, iwaeImagesFile), run.data.TestIDs, run.data.TestY, bounds, elbos, subsetBounds, cfg)
}

// iwaeImagesFile holds each test image's scores, so that two models scored
// on the same split can be compared image by image (a paired difference).
const iwaeImagesFile = "iwae_images.csv"

// writeImageScores writes one row per test image: its GalaxyID, class, the
// bound at k and the k-sample ELBO (nats), and the bound at subset-k for
// the subset's images (empty for the others).
func writeImageScores(path string, ids, classes []int64, bounds, elbos, subset []float64, cfg IWAEConfig) error {
	var b strings.Builder
	fmt.Fprintf(&b, "galaxy_id,class,log_p_bound_k%d,elbo_k%d,log_p_bound_k%d\n", cfg.K, cfg.K, cfg.SubsetK)
	for i := range bounds {
		sub := ""
		if i < len(subset) {
			sub = strconv.FormatFloat(subset[i], 'f', 4, 64)
		}
		fmt.Fprintf(&b, "%d,%s,%.4f,%.4f,%s\n", ids[i], datasets.Class(classes[i]), bounds[i], elbos[i], sub)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	log.Printf("wrote %s", path)
	return nil
}

// scoreImages returns the bound and the K-sample ELBO of each of the first
// n images of x (and cond), with the seconds it took. The images go in
// batches of cfg.Batch; each rank scores its contiguous share of the
// batches, and a sum over the ranks gives every rank all the scores. Each
// batch draws its samples from the seed and its first image alone, so the
// scores do not depend on how many ranks there are.
func scoreImages(par *cli.Parallel, m *vae.VAE, x, cond *ts.Tensor, n, k int, cfg IWAEConfig) (bounds, elbos []float64, secs float64, err error) {
	start := time.Now()
	batches := (n + cfg.Batch - 1) / cfg.Batch
	from, to := par.Share(batches)
	first, last := min(from*cfg.Batch, n), min(to*cfg.Batch, n)
	out := io.Writer(os.Stderr)
	if !par.Lead() {
		out = io.Discard // rank 0's bar stands for all
	}
	bar := progress.New(out, last-first, fmt.Sprintf("iwae k=%d", k), progress.WithUnit("images"))
	scores := make([]float64, 2*n) // bounds, then ELBOs; zero outside this rank's share
	err = torchrt.NoGrad(func() error {
		for i := first; i < last; i += cfg.Batch {
			size := int64(min(cfg.Batch, n-i))
			// Seeds of different --seed values stay apart for up to a
			// million images. The subset's k=1000 pass starts from the same
			// seeds as the k=100 pass, so its first 100 samples per image
			// are the k=100 ones: the bound's move from k=100 to 1000 is
			// measured on nested samples.
			torchrt.ManualSeed(cfg.Seed*1_000_003 + int64(i))
			b, e, err := scoreBatch(m, x, cond, int64(i), size, int64(k), int64(cfg.Chunk))
			if err != nil {
				return fmt.Errorf("iwae: test images %d-%d: %w", i, i+int(size), err)
			}
			copy(scores[i:], b)
			copy(scores[n+i:], e)
			bar.Update(i + int(size) - first)
		}
		return nil
	})
	if ferr := bar.Finish(); err == nil {
		err = ferr
	}
	if err != nil {
		return nil, nil, 0, err
	}
	if scores, err = par.Sum(scores...); err != nil {
		return nil, nil, 0, fmt.Errorf("iwae: gather the ranks' scores: %w", err)
	}
	return scores[:n], scores[n:], time.Since(start).Seconds(), nil
}

func scoreBatch(m *vae.VAE, x, cond *ts.Tensor, first, size, k, chunk int64) (bounds, elbos []float64, err error) {
	xb, err := x.Narrow(0, first, size, false)
	if err != nil {
		return nil, nil, err
	}
	defer xb.MustDrop()
	var cb *ts.Tensor
	if cond != nil {
		if cb, err = cond.Narrow(0, first, size, false); err != nil {
			return nil, nil, err
		}
		defer cb.MustDrop()
	}
	b, e, err := m.ImportanceWeighted(xb, cb, k, chunk)
	if err != nil {
		return nil, nil, err
	}
	defer b.MustDrop()
	defer e.MustDrop()
	if bounds, err = tensors.Float64s(b); err != nil {
		return nil, nil, err
	}
	elbos, err = tensors.Float64s(e)
	return bounds, elbos, err
}

// summarise averages per-image bounds into a runrec.Bound (as negative
// log-likelihoods).
func summarise(bounds, elbos []float64, k int, secs float64, dims int64) runrec.Bound {
	var b, e float64
	for i := range bounds {
		b += bounds[i]
		e += elbos[i]
	}
	n := float64(len(bounds))
	b, e = -b/n, -e/n
	return runrec.Bound{Images: len(bounds), K: k, NLL: b, NLLBits: vae.BitsPerDim(-b, dims), ELBO: e,
		ELBOBits: vae.BitsPerDim(-e, dims), Seconds: math.Round(secs*10) / 10}
}

func imageDims(c Config) int64 { return 3 * int64(c.ImageSize) * int64(c.ImageSize) }
