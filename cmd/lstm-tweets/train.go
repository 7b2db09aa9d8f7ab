package main

import (
	"context"
	"fmt"
	"log"
	"path/filepath"

	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/datasets"
	"torchlab/internal/cli"
	"torchlab/internal/progress"
	"torchlab/internal/runrec"
	"torchlab/internal/train"
	"torchlab/torch/checkpoint"
	"torchlab/torch/memstat"
	"torchlab/torch/optim"
	"torchlab/torch/tensors"
)

var metricsHeader = []string{runrec.ColStep, runrec.ColSplit, runrec.ColLoss, runrec.ColAccuracy, runrec.ColSeconds}

func checkpointDir(out string) string { return filepath.Join(out, "checkpoint") }

// task is a training run's data and model and the state between
// iterations: the loop's train.Task.
type task struct {
	cfg          Config
	sess         *train.Session
	data         *datasets.Source // nil when given files
	log          *log.Logger
	model        tweetModel
	trainSet     *corpus // the training CSV less the validation split
	valSet       *corpus // nil for --val-fraction 0
	testSet      *corpus
	sampleSeqs   [][]uint8 // fixed training sample for train accuracy
	sampleLabels []int64
	batches      *sampler
	runLoss      float64 // moving average of the batch loss, for the progress bar
	results      map[string]float64
	par          *cli.Parallel // nil: one process
}

// runTrain runs (or resumes) a training run as cfg says, writing to
// cfg.Out; a cancelled ctx (Ctrl-C) saves a checkpoint, writes the summary
// and returns train.ErrInterrupted.
func runTrain(ctx context.Context, cfg Config, lg *log.Logger) error {
	if err := cfg.Check(); err != nil {
		return err
	}
	su, par, err := cfg.StartRun(lg)
	if err != nil {
		return err
	}
	defer par.Leave()
	s, params, err := newTask(&cfg, su.Log)
	if err != nil {
		return err
	}
	defer s.model.Drop()
	s.par = par
	opt, err := optim.New(optim.Config{Name: cfg.Optimizer, LR: cfg.LR, WeightDecay: cfg.WeightDecay}, params)
	if err != nil {
		return err
	}
	su.Config, su.Columns, su.StepColumn = cfg, metricsHeader, runrec.ColStep
	if s.valSet != nil {
		su.Select, su.Higher = runrec.ValAccuracy, true
	}
	if s.sess, err = train.Open(su, params, opt); err != nil {
		return err
	}
	defer s.sess.Close()
	if s.sess.Start > cfg.Iterations {
		return fmt.Errorf("--resume: checkpoint is at iteration %d, beyond --iterations %d", s.sess.Start, cfg.Iterations)
	}
	plan := train.Plan{Label: "train", Unit: "it", Total: cfg.Iterations,
		EvaluateFirst: true, EvaluateAt: train.Every(cfg.EvalEvery), SaveAt: train.Every(cfg.EvalEvery),
		AfterStep: cfg.afterStep}
	res, err := s.sess.Run(ctx, plan, s)
	if err != nil {
		return err
	}
	if par.Lead() && !res.Interrupted {
		if err := drawPlots(cfg.Out, s.split()); err != nil {
			return err
		}
	}
	sum := runrec.Summary{Results: s.results, Split: s.split()}
	if s.data != nil {
		sum.Data = s.data
	}
	return s.sess.Finish(res, sum)
}

// Step runs optimiser step it on its batch (train.Task).
func (s *task) Step(it int) (train.StepReport, error) {
	idx := cli.Shard(s.par, s.batches.at(it))
	seqs, labels := s.trainSet.subset(idx)
	if s.cfg.CharDropout > 0 {
		seqs = dropChars(seqs, idx, s.cfg.Seed, it, s.cfg.CharDropout)
	}
	s.sess.Opt.SetLR(optim.ScheduledLR(s.cfg.Schedule, s.cfg.LR, it, s.cfg.Iterations))
	loss, skipped, err := trainStep(s.model, s.sess.Opt, s.sess.Guard, it, seqs, labels)
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
	s.runLoss = smooth(s.runLoss, loss, it == s.sess.Start)
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

// newTask loads the data and builds the model, whose variables are
// params; cfg gets the default data files.
func newTask(cfg *Config, lg *log.Logger) (s *task, params map[string]*ts.Tensor, err error) {
	src, err := dataPaths(cfg)
	if err != nil {
		return nil, nil, err
	}
	s = &task{cfg: *cfg, log: lg, results: map[string]float64{}, data: src}
	if s.trainSet, err = loadCorpus(cfg.Train, cfg.MaxLen, cfg.SkipBad, lg.Printf); err != nil {
		return nil, nil, err
	}
	if s.testSet, err = loadCorpus(cfg.Test, cfg.MaxLen, cfg.SkipBad, lg.Printf); err != nil {
		return nil, nil, err
	}
	if src != nil && src.Sample {
		lg.Printf("%s", src.Note(fmt.Sprintf("%d training and %d test tweets", len(s.trainSet.Seqs), len(s.testSet.Seqs))))
	}
	if s.trainSet, s.valSet, err = s.trainSet.splitVal(cfg.ValFraction, cfg.DataSeed()); err != nil {
		return nil, nil, err
	}
	lg.Printf("%d training tweets, %d validation (%.3g of the training file, stratified by label, split seed %d), %d test tweets, max length %d",
		len(s.trainSet.Seqs), s.valSize(), cfg.ValFraction, cfg.DataSeed(), len(s.testSet.Seqs), cfg.MaxLen)
	lengths := make([]int, len(s.trainSet.Seqs))
	for i, seq := range s.trainSet.Seqs {
		lengths[i] = len(seq)
	}
	if s.batches, err = newSampler(lengths, cfg.BatchSize, cfg.Bucket, uint64(cfg.Seed)); err != nil {
		return nil, nil, err
	}
	s.sampleSeqs, s.sampleLabels = s.trainSet.sample(cfg.TrainSample, uint64(cfg.DataSeed()))

	dev, err := cfg.TorchDevice()
	if err != nil {
		return nil, nil, err
	}
	vs := nn.NewVarStore(dev)
	if s.model, err = newTweetModel(vs.Root(), *cfg); err != nil {
		return nil, nil, err
	}
	if params, err = tensors.Named(vs); err != nil {
		s.model.Drop()
		return nil, nil, err
	}
	return s, params, nil
}

// Save checkpoints the run after step iterations (train.Task).
func (s *task) Save(step int, seconds float64) error {
	return s.sess.Save(checkpoint.Meta{Step: int64(step), Seconds: seconds})
}

// split says what the run trains, validates and tests on.
func (s *task) split() *runrec.Split {
	return &runrec.Split{Train: len(s.trainSet.Seqs), Val: s.valSize(), Test: len(s.testSet.Seqs), Unit: "tweets",
		ValFraction: s.cfg.ValFraction, ValSeed: s.cfg.DataSeed(), SplitSeed: s.cfg.DataSeed(), StratifiedBy: "label",
		TrainEval: runrec.Count(len(s.sampleSeqs)) + "-tweet sample, eval mode"}
}

// valSize is the number of validation tweets.
func (s *task) valSize() int {
	if s.valSet == nil {
		return 0
	}
	return len(s.valSet.Seqs)
}

// Evaluate writes the train-sample, validation and test metrics after it
// iterations, keeps the best validation model, and logs them with the
// resident memory (train.Task).
func (s *task) Evaluate(it int) error {
	type split struct {
		name   string
		seqs   [][]uint8
		labels []int64
	}
	splits := []split{{runrec.Train, s.sampleSeqs, s.sampleLabels}}
	if s.valSet != nil {
		splits = append(splits, split{runrec.Val, s.valSet.Seqs, s.valSet.Labels})
	}
	splits = append(splits, split{runrec.Test, s.testSet.Seqs, s.testSet.Labels})
	at := map[string]float64{}
	for _, split := range splits {
		loss, acc, err := s.evaluate(split.seqs, split.labels)
		if err != nil {
			return fmt.Errorf("evaluate %s at iteration %d: %w", split.name, it, err)
		}
		if err := s.sess.Metrics.Write(it, split.name, loss, acc, s.sess.Seconds()); err != nil {
			return err
		}
		s.results[runrec.Metric(split.name, runrec.Loss)], s.results[runrec.Metric(split.name, runrec.Accuracy)] = loss, acc
		at[runrec.Metric(split.name, runrec.Loss)], at[runrec.Metric(split.name, runrec.Accuracy)] = loss, acc
	}
	r := s.results
	s.log.Printf("iteration %d: train loss %.4f accuracy %.4f, val loss %.4f accuracy %.4f, test loss %.4f accuracy %.4f",
		it, r[runrec.TrainLoss], r[runrec.TrainAccuracy], r[runrec.ValLoss], r[runrec.ValAccuracy], r[runrec.TestLoss], r[runrec.TestAccuracy])
	kept, err := s.sess.Offer(it, at, checkpoint.Meta{Step: int64(it), Seconds: s.sess.Seconds()})
	if err != nil {
		return err
	}
	if kept {
		s.log.Printf("iteration %d: best validation accuracy so far, model kept in %s", it, s.sess.Best.Dir)
	}
	// Resident memory is a diagnostic: without /proc it is left out, said once.
	if rss, err := memstat.RSS(); err == nil {
		mib := float64(rss) / (1 << 20)
		s.log.Printf("iteration %d: RSS %.0f MiB", it, mib)
		if _, ok := r[runrec.RSSFirstEval]; !ok {
			r[runrec.RSSFirstEval] = mib
		}
		r[runrec.RSSLastEval] = mib
	} else if _, ok := r[runrec.RSSLastEval]; !ok && it == s.sess.Start {
		s.log.Printf("resident memory not measured: %v", err)
	}
	return nil
}

// evaluate is the mean loss and the accuracy on the tweets; in a
// data-parallel run each rank measures its share and the sums are added.
func (s *task) evaluate(seqs [][]uint8, labels []int64) (loss, acc float64, err error) {
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
