package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/datasets"
	"torchlab/internal/metrics"
	"torchlab/internal/progress"
	"torchlab/internal/run"
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
	trainSet     *corpus
	testSet      *corpus
	sampleSeqs   [][]uint8 // fixed training sample for train accuracy
	sampleLabels []int64
	batches      *sampler
	metrics      *metrics.Writer
	start        int     // iterations done before this process
	priorSeconds float64 // training seconds before this process
	clock        time.Time
	results      map[string]float64
}

// train runs (or resumes) a training run as cfg says, writing to cfg.Out.
func train(ctx context.Context, cfg *trainConfig, stderr io.Writer) error {
	started := time.Now()
	s, err := openSession(cfg, func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) })
	if err != nil {
		return err
	}
	defer s.close()
	if s.start == 0 {
		if err := s.evaluate(0); err != nil {
			return err
		}
	}
	bar := progress.NewFrom(stderr, s.start, cfg.Iterations, "train")
	var stepSeconds, runLoss float64
	it := s.start
	for ; it < cfg.Iterations; it++ {
		if ctx.Err() != nil {
			_ = bar.Finish()
			if err := s.save(it); err != nil {
				return fmt.Errorf("save checkpoint after interrupt: %w", err)
			}
			if err := s.writeSummary(started, it, stepSeconds, run.ErrInterrupted.Error()); err != nil {
				return err
			}
			return run.ErrInterrupted
		}
		seqs, labels := s.trainSet.subset(s.batches.at(it))
		t0 := time.Now()
		loss, err := trainStep(s.model, s.opt, seqs, labels)
		if err != nil {
			return fmt.Errorf("iteration %d: %w", it+1, err)
		}
		stepSeconds += time.Since(t0).Seconds()
		if cfg.afterStep != nil {
			cfg.afterStep(it+1, loss)
		}
		runLoss = smooth(runLoss, loss, it == s.start)
		bar.Update(it+1, progress.Field{Name: "loss", Value: runLoss, Format: "%.4f"})
		if (it+1)%cfg.EvalEvery == 0 || it+1 == cfg.Iterations {
			resume := bar.Pause() // an evaluation is not training speed
			if err := s.evaluate(it + 1); err != nil {
				return err
			}
			resume()
		}
	}
	if err := bar.Finish(); err != nil {
		return err
	}
	if err := drawPlots(cfg.Out); err != nil {
		return err
	}
	return s.writeSummary(started, it, stepSeconds, "")
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
	var meta *checkpoint.Meta
	if cfg.Resume {
		var err error
		if meta, err = resumeConfig(cfg); err != nil {
			return nil, err
		}
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
	logf("%d training tweets, %d test tweets, max length %d", len(s.trainSet.Seqs), len(s.testSet.Seqs), cfg.MaxLen)
	if src != nil && src.Sample {
		logf("%s", src.Note(fmt.Sprintf("%d training and %d test tweets", len(s.trainSet.Seqs), len(s.testSet.Seqs))))
	}
	lengths := make([]int, len(s.trainSet.Seqs))
	for i, seq := range s.trainSet.Seqs {
		lengths[i] = len(seq)
	}
	if s.batches, err = newSampler(lengths, cfg.BatchSize, cfg.Bucket, uint64(cfg.Seed)); err != nil {
		return nil, err
	}
	s.sampleSeqs, s.sampleLabels = s.trainSet.sample(cfg.TrainSample, uint64(cfg.Seed))

	vs := nn.NewVarStore(gotch.CPU)
	if s.model, err = charlstm.New(vs.Root(), cfg.Model); err != nil {
		return nil, err
	}
	if s.params, err = tensors.Named(vs); err != nil {
		s.model.Drop()
		return nil, err
	}
	if s.opt, err = optim.New(optim.Config{Name: cfg.Optimizer, LR: cfg.LR}, s.params); err != nil {
		s.model.Drop()
		return nil, err
	}
	metricsPath := filepath.Join(cfg.Out, "metrics.csv")
	if meta != nil {
		if meta, err = checkpoint.Load(checkpointDir(cfg.Out), s.params, s.opt); err != nil {
			s.model.Drop()
			return nil, err
		}
		s.start, s.priorSeconds = int(meta.Step), meta.Seconds
		if err := trimMetrics(metricsPath, s.start); err != nil {
			s.model.Drop()
			return nil, err
		}
		logf("resumed at iteration %d", s.start)
	}
	if s.metrics, err = metrics.Create(metricsPath, metricsHeader, meta != nil); err != nil {
		s.model.Drop()
		return nil, err
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

// save checkpoints the run after step iterations.
func (s *session) save(step int) error {
	m := checkpoint.Meta{Step: int64(step), Seed: s.cfg.Seed, Seconds: s.seconds()}
	return checkpoint.Save(checkpointDir(s.cfg.Out), m, s.cfg, s.params, s.opt)
}

// evaluate writes the train-sample and test metrics after it iterations,
// logs them with the resident memory, and checkpoints.
func (s *session) evaluate(it int) error {
	for _, split := range []struct {
		name   string
		seqs   [][]uint8
		labels []int64
	}{{"train", s.sampleSeqs, s.sampleLabels}, {"test", s.testSet.Seqs, s.testSet.Labels}} {
		loss, acc, err := s.model.Evaluate(split.seqs, split.labels, s.cfg.EvalBatch)
		if err != nil {
			return fmt.Errorf("evaluate %s at iteration %d: %w", split.name, it, err)
		}
		if err := s.metrics.Write(it, split.name, loss, acc, s.seconds()); err != nil {
			return err
		}
		s.results[split.name+"_loss"], s.results[split.name+"_accuracy"] = loss, acc
	}
	r := s.results
	s.logf("iteration %d: train loss %.4f accuracy %.4f, test loss %.4f accuracy %.4f",
		it, r["train_loss"], r["train_accuracy"], r["test_loss"], r["test_accuracy"])
	// Resident memory is a diagnostic: without /proc it is left out, said once.
	if rss, err := memstat.RSS(); err == nil {
		s.logf("iteration %d: RSS %.0f MB", it, float64(rss)/1e6)
		if _, ok := r["rss_mb_first_eval"]; !ok {
			r["rss_mb_first_eval"] = float64(rss) / 1e6
		}
		r["rss_mb_last_eval"] = float64(rss) / 1e6
	} else if _, ok := r["rss_mb_last_eval"]; !ok && it == s.start {
		s.logf("resident memory not measured: %v", err)
	}
	r["iterations"] = float64(it)
	return s.save(it)
}

// writeSummary writes summary.json after it iterations; stepSeconds is
// the time this process spent in optimiser steps.
func (s *session) writeSummary(started time.Time, it int, stepSeconds float64, note string) error {
	cfg, results := s.cfg, s.results
	if stepSeconds > 0 {
		results["train_iterations_per_second"] = float64(it-s.start) / stepSeconds
	}
	if peak, err := memstat.PeakRSS(); err == nil {
		results["peak_rss_mb"] = float64(peak) / 1e6
	}
	sum := run.Summary{
		Command: run.CommandLine(), Started: started.UTC(), Finished: time.Now().UTC(),
		Seconds: time.Since(started).Seconds(), Config: cfg, Results: results,
	}
	if s.data != nil {
		sum.Data = s.data
	}
	if note != "" {
		sum.Notes = append(sum.Notes, note)
	}
	return run.WriteSummary(cfg.Out, sum)
}

// resumeConfig replaces cfg with the configuration saved in the checkpoint,
// keeping only --out, --iterations, --threads and --blas-threads from the
// command line, so the resumed run continues with the same data, batches
// and optimiser.
func resumeConfig(cfg *trainConfig) (*checkpoint.Meta, error) {
	dir := checkpointDir(cfg.Out)
	if !checkpoint.Exists(dir) {
		return nil, fmt.Errorf("--resume: no checkpoint in %s", dir)
	}
	meta, err := checkpoint.ReadMeta(dir)
	if err != nil {
		return nil, err
	}
	var saved trainConfig
	if err := json.Unmarshal(meta.Config, &saved); err != nil {
		return nil, fmt.Errorf("--resume: configuration in %s: %w", dir, err)
	}
	saved.Out, saved.Iterations, saved.Threads, saved.BLASThreads, saved.Resume = cfg.Out, cfg.Iterations, cfg.Threads, cfg.BLASThreads, true
	if int(meta.Step) > saved.Iterations {
		return nil, fmt.Errorf("--resume: checkpoint is at iteration %d, beyond --iterations %d", meta.Step, saved.Iterations)
	}
	*cfg = saved
	return meta, nil
}

// trimMetrics drops rows of the metrics file beyond iteration step, which a
// run killed between writing metrics and saving its checkpoint leaves.
func trimMetrics(path string, step int) error {
	t, err := metrics.Read(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	w, err := metrics.Create(path+".tmp", t.Header, false)
	if err != nil {
		return err
	}
	for row, rec := range t.Rows {
		iter, err := t.Float("iteration", row)
		if err != nil {
			return errors.Join(err, w.Close())
		}
		if int(iter) > step {
			continue
		}
		vals := make([]any, len(rec))
		for i, v := range rec {
			vals[i] = v
		}
		if err := w.Write(vals...); err != nil {
			return errors.Join(err, w.Close())
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}
