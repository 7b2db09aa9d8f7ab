package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/datasets"
	"torchlab/internal/cli"
	"torchlab/internal/metrics"
	"torchlab/internal/progress"
	"torchlab/internal/train"
	"torchlab/models/charlstm"
	"torchlab/torch/checkpoint"
	"torchlab/torch/memstat"
	"torchlab/torch/optim"
	"torchlab/torch/tensors"
)

var metricsHeader = []string{"iteration", "split", "loss", "accuracy", "seconds"}

func checkpointDir(out string) string { return filepath.Join(out, "checkpoint") }

// session is a training run's state between iterations.
type session struct {
	cfg          *trainConfig
	data         *datasets.Source // nil when resumed or given files
	logf         func(string, ...any)
	model        *charlstm.Model
	params       map[string]*ts.Tensor
	opt          *optim.Optimizer
	guard        *train.Guard
	trainSet     *corpus // the training CSV less the validation split
	valSet       *corpus // nil for --val-fraction 0
	testSet      *corpus
	best         *train.Best // nil without a validation split
	sampleSeqs   [][]uint8   // fixed training sample for train accuracy
	sampleLabels []int64
	batches      *sampler
	metrics      *metrics.Writer
	start        int     // iterations done before this process
	priorSeconds float64 // training seconds before this process
	clock        time.Time
	runLoss      float64 // moving average of the batch loss, for the progress bar
	results      map[string]float64
	par          *cli.Parallel // nil: one process
}

// runTrain runs (or resumes) a training run as cfg says, writing to
// cfg.Out; Ctrl-C saves a checkpoint, writes the summary and returns
// cli.ErrInterrupted.
func runTrain(ctx context.Context, cfg *trainConfig, stderr io.Writer) error {
	started := time.Now()
	par, err := cfg.JoinGroup()
	if err != nil {
		return err
	}
	defer par.Leave()
	stderr = par.Log(stderr)
	s, err := openSession(cfg, func(format string, a ...any) { cli.Logf(stderr, format, a...) })
	if err != nil {
		return err
	}
	defer s.close()
	s.par = par
	if s.guard, err = train.NewGuard(cfg.GuardConfig, par.Ranks()); err != nil {
		return err
	}
	if s.start, err = par.Replicate(s.params, s.opt, s.start); err != nil {
		return err
	}
	plan := train.Plan{Profile: train.NewProfiler(cfg.ProfileConfig, cfg.Out), Label: "train", Unit: "it", Start: s.start, Total: cfg.Iterations,
		EvaluateFirst: true, EvaluateAt: train.Every(cfg.EvalEvery), SaveAt: train.Every(cfg.EvalEvery),
		PriorSeconds: s.priorSeconds, AfterStep: cfg.afterStep, Ranks: par.Ranks(), Guard: s.guard}
	res, err := train.Run(ctx, plan, s, stderr)
	if err != nil {
		return err
	}
	if !par.Lead() {
		if res.Interrupted {
			return cli.ErrInterrupted
		}
		return nil
	}
	note := ""
	if res.Interrupted {
		note = fmt.Sprintf("stopped at iteration %d of %d; continue with --resume", res.Done, cfg.Iterations)
	} else if err := drawPlots(cfg.Out, s.split()); err != nil {
		return err
	}
	if err := s.writeSummary(started, res, note); err != nil {
		return err
	}
	if res.Interrupted {
		return cli.ErrInterrupted
	}
	return nil
}

// Step runs optimiser step it on its batch (train.Task).
func (s *session) Step(it int) (train.StepReport, error) {
	idx := cli.Shard(s.par, s.batches.at(it))
	seqs, labels := s.trainSet.subset(idx)
	if s.cfg.CharDropout > 0 {
		seqs = dropChars(seqs, idx, s.cfg.Seed, it, s.cfg.CharDropout)
	}
	s.opt.SetLR(optim.ScheduledLR(s.cfg.Schedule, s.cfg.LR, it, s.cfg.Iterations))
	loss, skipped, err := trainStep(s.model, s.opt, s.guard, it, seqs, labels)
	if err != nil {
		return train.StepReport{}, err
	}
	if skipped {
		return train.StepReport{Loss: loss, Skipped: true}, nil
	}
	if s.par.World() > 1 {
		sum, err := s.par.Sum(loss)
		if err != nil {
			return train.StepReport{}, err
		}
		loss = sum[0] / float64(s.par.World()) // the whole batch's
	}
	s.runLoss = smooth(s.runLoss, loss, it == s.start)
	return train.StepReport{Loss: loss, Fields: []progress.Field{{Name: "loss", Value: s.runLoss, Format: "%.4f"}}}, nil
}

// smooth is an exponential moving average of the batch loss for the
// progress bar.
func smooth(avg, loss float64, first bool) float64 {
	if first {
		return loss
	}
	return avg + 0.02*(loss-avg)
}

// openSession loads the data, builds the model and optimiser, and restores
// the checkpoint when resuming.
func openSession(cfg *trainConfig, logf func(string, ...any)) (*session, error) {
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return nil, err
	}
	src, err := dataPaths(cfg)
	if err != nil {
		return nil, err
	}
	s := &session{cfg: cfg, logf: logf, results: map[string]float64{}, data: src}
	if s.trainSet, err = loadCorpus(cfg.Train, cfg.MaxLen, cfg.SkipBad, logf); err != nil {
		return nil, err
	}
	if s.testSet, err = loadCorpus(cfg.Test, cfg.MaxLen, cfg.SkipBad, logf); err != nil {
		return nil, err
	}
	if src != nil && src.Sample {
		logf("%s", src.Note(fmt.Sprintf("%d training and %d test tweets", len(s.trainSet.Seqs), len(s.testSet.Seqs))))
	}
	if s.trainSet, s.valSet, err = s.trainSet.splitVal(cfg.ValFraction, cfg.Seed); err != nil {
		return nil, err
	}
	logf("%d training tweets, %d validation (%.3g of the training file, stratified by label, seed %d), %d test tweets, max length %d",
		len(s.trainSet.Seqs), s.valSize(), cfg.ValFraction, cfg.Seed, len(s.testSet.Seqs), cfg.MaxLen)
	lengths := make([]int, len(s.trainSet.Seqs))
	for i, seq := range s.trainSet.Seqs {
		lengths[i] = len(seq)
	}
	if s.batches, err = newSampler(lengths, cfg.BatchSize, cfg.Bucket, uint64(cfg.Seed)); err != nil {
		return nil, err
	}
	s.sampleSeqs, s.sampleLabels = s.trainSet.sample(cfg.TrainSample, uint64(cfg.Seed))

	dev, err := cfg.TorchDevice()
	if err != nil {
		return nil, err
	}
	vs := nn.NewVarStore(dev)
	if s.model, err = charlstm.New(vs.Root(), cfg.Model); err != nil {
		return nil, err
	}
	if s.params, err = tensors.Named(vs); err != nil {
		s.model.Drop()
		return nil, err
	}
	if s.opt, err = optim.New(optim.Config{Name: cfg.Optimizer, LR: cfg.LR, WeightDecay: cfg.WeightDecay}, s.params); err != nil {
		s.model.Drop()
		return nil, err
	}
	if cfg.Resume {
		meta, err := checkpoint.Load(checkpointDir(cfg.Out), s.params, s.opt)
		if err != nil {
			s.model.Drop()
			return nil, err
		}
		s.start, s.priorSeconds = int(meta.Step), meta.Seconds
		if s.start > cfg.Iterations {
			s.model.Drop()
			return nil, fmt.Errorf("--resume: checkpoint is at iteration %d, beyond --iterations %d", s.start, cfg.Iterations)
		}
		logf("resumed at iteration %d from %s", s.start, meta.Found)
	}
	if err := cfg.InitWeights(s.params, logf); err != nil {
		s.model.Drop()
		return nil, err
	}
	if s.metrics, err = train.OpenMetrics(filepath.Join(cfg.Out, "metrics.csv"), metricsHeader, "iteration", cfg.Resume, s.start); err != nil {
		s.model.Drop()
		return nil, err
	}
	if s.valSet != nil {
		if s.best, err = train.OpenBest(cfg.Out, "val_accuracy", true, cfg.Resume); err != nil {
			s.close()
			return nil, err
		}
	}
	s.clock = time.Now()
	return s, nil
}

func (s *session) close() {
	s.metrics.Close()
	s.model.Drop()
}

// seconds is the training time so far, over all resumed parts.
func (s *session) seconds() float64 { return s.priorSeconds + time.Since(s.clock).Seconds() }

// Save checkpoints the run after step iterations (train.Task).
func (s *session) Save(step int, seconds float64) error {
	m := checkpoint.Meta{Step: int64(step), Seed: s.cfg.Seed, Seconds: seconds}
	return checkpoint.Save(checkpointDir(s.cfg.Out), m, s.cfg, s.params, s.opt)
}

// split says what the run trains, validates and tests on.
func (s *session) split() *train.Split {
	return &train.Split{Train: len(s.trainSet.Seqs), Val: s.valSize(), Test: len(s.testSet.Seqs), Unit: "tweets",
		ValFraction: s.cfg.ValFraction, ValSeed: s.cfg.Seed, StratifiedBy: "label",
		TrainEval: train.Count(len(s.sampleSeqs)) + "-tweet sample, eval mode"}
}

// valSize is the number of validation tweets.
func (s *session) valSize() int {
	if s.valSet == nil {
		return 0
	}
	return len(s.valSet.Seqs)
}

// Evaluate writes the train-sample, validation and test metrics after it
// iterations, keeps the best validation model, and logs them with the
// resident memory (train.Task).
func (s *session) Evaluate(it int) error {
	type split struct {
		name   string
		seqs   [][]uint8
		labels []int64
	}
	splits := []split{{"train", s.sampleSeqs, s.sampleLabels}}
	if s.valSet != nil {
		splits = append(splits, split{"val", s.valSet.Seqs, s.valSet.Labels})
	}
	splits = append(splits, split{"test", s.testSet.Seqs, s.testSet.Labels})
	at := map[string]float64{}
	for _, split := range splits {
		loss, acc, err := s.evaluate(split.seqs, split.labels)
		if err != nil {
			return fmt.Errorf("evaluate %s at iteration %d: %w", split.name, it, err)
		}
		if err := s.metrics.Write(it, split.name, loss, acc, s.seconds()); err != nil {
			return err
		}
		s.results[split.name+"_loss"], s.results[split.name+"_accuracy"] = loss, acc
		at[split.name+"_loss"], at[split.name+"_accuracy"] = loss, acc
	}
	r := s.results
	s.logf("iteration %d: train loss %.4f accuracy %.4f, val loss %.4f accuracy %.4f, test loss %.4f accuracy %.4f",
		it, r["train_loss"], r["train_accuracy"], r["val_loss"], r["val_accuracy"], r["test_loss"], r["test_accuracy"])
	if s.best != nil && s.par.Lead() {
		kept, err := s.best.Offer(it, at, func(dir string) error {
			m := checkpoint.Meta{Step: int64(it), Seed: s.cfg.Seed, Seconds: s.seconds()}
			return checkpoint.Save(dir, m, s.cfg, s.params, nil)
		})
		if err != nil {
			return err
		}
		if kept {
			s.logf("iteration %d: best validation accuracy so far, model kept in %s", it, s.best.Dir)
		}
	}
	// Resident memory is a diagnostic: without /proc it is left out, said once.
	if rss, err := memstat.RSS(); err == nil {
		mib := float64(rss) / (1 << 20)
		s.logf("iteration %d: RSS %.0f MiB", it, mib)
		if _, ok := r["rss_mib_first_eval"]; !ok {
			r["rss_mib_first_eval"] = mib
		}
		r["rss_mib_last_eval"] = mib
	} else if _, ok := r["rss_mib_last_eval"]; !ok && it == s.start {
		s.logf("resident memory not measured: %v", err)
	}
	r["iterations"] = float64(it)
	return nil
}

// evaluate is the mean loss and the accuracy on the tweets; in a
// data-parallel run each rank measures its share and the sums are added.
func (s *session) evaluate(seqs [][]uint8, labels []int64) (loss, acc float64, err error) {
	if s.par.World() == 1 {
		return s.model.Evaluate(seqs, labels, s.cfg.EvalBatch)
	}
	first, last := s.par.Share(len(seqs))
	n := float64(last - first)
	if n > 0 {
		if loss, acc, err = s.model.Evaluate(seqs[first:last], labels[first:last], s.cfg.EvalBatch); err != nil {
			return 0, 0, err
		}
	}
	sums, err := s.par.Sum(loss*n, acc*n)
	if err != nil {
		return 0, 0, err
	}
	return sums[0] / float64(len(seqs)), sums[1] / float64(len(seqs)), nil
}

// writeSummary writes summary.json after the run res.
func (s *session) writeSummary(started time.Time, res train.Result, note string) error {
	train.CommonResults(s.results, res)
	s.best.Results(s.results)
	sum := train.Summary{
		Command: cli.CommandLine(), Started: started.UTC(), Finished: time.Now().UTC(),
		Seconds: res.Seconds, Config: s.cfg, Results: s.results,
		Seed: s.cfg.Seed, Best: s.best,
		Split: s.split(),
	}
	if s.data != nil {
		sum.Data = s.data
	}
	if note != "" {
		sum.Notes = append(sum.Notes, note)
	}
	return train.WriteSummary(s.cfg.Out, sum)
}
