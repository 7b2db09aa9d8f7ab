package main

import (
	"context"
	"encoding/json"
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
	"torchlab/models/vgg"
	"torchlab/torch/checkpoint"
	"torchlab/torch/memstat"
	"torchlab/torch/optim"
	"torchlab/torch/tensors"
)

var metricsHeader = []string{"epoch", "step", "split", "loss", "accuracy", "seconds"}

// result is what a training session did, for tests and the summary.
type result struct {
	FirstStep   int       // global step this session started at
	Losses      []float64 // training loss of each step of this session
	Interrupted bool
	Final       map[string]float64
}

// session is the state of one training run in this process.
type session struct {
	cfg           config
	model         *vgg.VGG
	named         map[string]*ts.Tensor
	opt           *optim.Optimizer
	train, test   *split
	trainEval     *split
	data          datasets.Source
	metrics       *metrics.Writer
	log           io.Writer
	stepsPerEpoch int
	totalSteps    int
	priorSeconds  float64 // training time of earlier sessions (from the checkpoint)
	began         time.Time
	final         map[string]float64
}

// train runs (or resumes) training as cfg says, writing metrics, figures,
// checkpoints and summary.json. Cancelling ctx saves a checkpoint and
// returns without error.
func train(ctx context.Context, cfg config, logw io.Writer) (*result, error) {
	started := time.Now()
	if cfg.Resume {
		saved, err := savedConfig(cfg.checkpointDir())
		if err != nil {
			return nil, err
		}
		cfg = resumeConfig(saved, cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s, err := newSession(cfg, logw)
	if err != nil {
		return nil, err
	}
	defer s.close()
	step := 0
	if cfg.Resume {
		meta, err := checkpoint.Load(cfg.checkpointDir(), s.named, s.opt)
		if err != nil {
			return nil, fmt.Errorf("resume: %w", err)
		}
		step, s.priorSeconds = int(meta.Step), meta.Seconds
		fmt.Fprintf(logw, "resuming at step %d (epoch %.2f) from %s\n", step, float64(step)/float64(s.stepsPerEpoch), cfg.checkpointDir())
	}
	res, err := s.loop(ctx, step)
	if err != nil {
		return nil, err
	}
	if _, ok := s.final["test_accuracy"]; ok {
		// Evaluations were made, so metrics.csv has rows to draw.
		if err := drawFigures(cfg.Out); err != nil {
			return nil, err
		}
	}
	sum := run.Summary{
		Command: run.CommandLine(), Started: started, Finished: time.Now(),
		Seconds: s.seconds(), Config: cfg, Data: s.data, Results: s.final,
		Notes: []string{
			fmt.Sprintf("train loss/accuracy: eval mode on a fixed stratified sample of %d training images", s.trainEval.n),
			fmt.Sprintf("learning rate: %s from %g over %d steps (%d epochs of %d steps)", cfg.Schedule, cfg.LR, s.totalSteps, cfg.Epochs, s.stepsPerEpoch),
		},
	}
	if res.Interrupted {
		sum.Notes = append(sum.Notes, fmt.Sprintf("stopped at step %d of %d; continue with --resume", int(s.final["steps"]), s.totalSteps))
	}
	return res, run.WriteSummary(cfg.Out, sum)
}

// savedConfig reads the configuration stored with the checkpoint in dir.
func savedConfig(dir string) (config, error) {
	meta, err := checkpoint.ReadMeta(dir)
	if err != nil {
		return config{}, fmt.Errorf("resume: %w", err)
	}
	var c config
	if err := json.Unmarshal(meta.Config, &c); err != nil {
		return config{}, fmt.Errorf("resume: configuration in %s: %w", dir, err)
	}
	return c, nil
}

// resumeConfig is the checkpoint's configuration with the settings that do
// not change the result (where files are, threads, when to stop) taken
// from the command line.
func resumeConfig(saved, flags config) config {
	c := saved
	c.DataDir, c.Out, c.CheckpointDir = flags.DataDir, flags.Out, flags.CheckpointDir
	c.Threads, c.BLASThreads = flags.Threads, flags.BLASThreads
	c.Resume, c.MaxSteps, c.EvalBatchSize = true, flags.MaxSteps, flags.EvalBatchSize
	return c
}

// newSession loads the data and builds the model, optimiser and metrics.
func newSession(cfg config, logw io.Writer) (*session, error) {
	src, err := datasets.Locate(cfg.DataDir, "mnist")
	if err != nil {
		return nil, err
	}
	dir := src.Dir
	s := &session{cfg: cfg, log: logw, began: time.Now(), final: map[string]float64{}, data: src}
	t0 := time.Now()
	if s.train, err = loadSplit(dir, true, cfg.Subset, cfg.Seed); err != nil {
		return nil, err
	}
	if s.test, err = loadSplit(dir, false, cfg.TestSubset, cfg.Seed); err != nil {
		s.close()
		return nil, err
	}
	if s.trainEval, err = s.train.sample(cfg.TrainEvalSize, cfg.Seed+1); err != nil {
		s.close()
		return nil, err
	}
	fmt.Fprintf(logw, "MNIST from %s: %d training, %d test images (%dx%d), train metrics on %d, loaded in %.1fs\n",
		dir, s.train.n, s.test.n, imageSize, imageSize, s.trainEval.n, time.Since(t0).Seconds())

	vs := nn.NewVarStore(gotch.CPU)
	if s.model, err = vgg.New(vs.Root(), cfg.Model); err != nil {
		s.close()
		return nil, err
	}
	if s.named, err = tensors.Named(vs); err != nil {
		s.close()
		return nil, err
	}
	oc := optim.Config{Name: cfg.Optimizer, LR: cfg.LR, Momentum: cfg.Momentum, WeightDecay: cfg.WeightDecay}
	if oc.Name == "adam" {
		oc.Momentum = 0
	}
	if s.opt, err = optim.New(oc, s.named); err != nil {
		s.close()
		return nil, err
	}
	s.stepsPerEpoch = (s.train.n + cfg.BatchSize - 1) / cfg.BatchSize
	s.totalSteps = cfg.Epochs * s.stepsPerEpoch
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		s.close()
		return nil, err
	}
	if s.metrics, err = metrics.Create(filepath.Join(cfg.Out, "metrics.csv"), metricsHeader, cfg.Resume); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *session) close() {
	if s.metrics != nil {
		s.metrics.Close()
	}
	if s.trainEval != nil && s.trainEval != s.train {
		s.trainEval.drop()
	}
	for _, sp := range []*split{s.train, s.test} {
		if sp != nil {
			sp.drop()
		}
	}
}

// seconds is the training time so far, over all sessions.
func (s *session) seconds() float64 { return s.priorSeconds + time.Since(s.began).Seconds() }

// loop trains from step to the end (or --max-steps, or ctx's end),
// evaluating and checkpointing at every epoch's end.
func (s *session) loop(ctx context.Context, step int) (*result, error) {
	cfg, n, B := s.cfg, s.train.n, s.cfg.BatchSize
	end := s.totalSteps
	if cfg.MaxSteps > 0 {
		end = min(end, cfg.MaxSteps)
	}
	res := &result{FirstStep: step}
	imagesDone := func(step int) int { return step/s.stepsPerEpoch*n + min(step%s.stepsPerEpoch*B, n) }
	bar := progress.NewFrom(s.log, imagesDone(step), cfg.Epochs*n, "train", progress.WithUnit("img"))
	defer bar.Finish()
	var trainSeconds float64 // in training steps only, for images/s
	defer func() {
		s.final["steps"] = float64(step)
		if trainSeconds > 0 {
			s.final["images_per_second"] = float64(imagesDone(step)-imagesDone(res.FirstStep)) / trainSeconds
		}
	}()
	for step < end {
		epoch := step / s.stepsPerEpoch
		order := epochOrder(n, cfg.Seed, epoch)
		epochStart := time.Now()
		var sumLoss float64
		var correct, seen int64
		for i := step % s.stepsPerEpoch; i < s.stepsPerEpoch && step < end; i++ {
			if ctx.Err() != nil {
				res.Interrupted = true
				fmt.Fprintf(s.log, "\ninterrupted at step %d: saving a checkpoint\n", step)
				return res, s.save(step)
			}
			s.opt.SetLR(lrAt(cfg.Schedule, cfg.LR, step, s.totalSteps))
			idx := order[i*B : min((i+1)*B, n)]
			t0 := time.Now()
			loss, c, err := s.step(idx)
			if err != nil {
				return nil, fmt.Errorf("step %d: %w", step, err)
			}
			trainSeconds += time.Since(t0).Seconds()
			step++
			res.Losses = append(res.Losses, loss)
			sumLoss += loss * float64(len(idx))
			correct, seen = correct+c, seen+int64(len(idx))
			bar.Update(imagesDone(step),
				progress.Field{Name: "epoch", Value: float64(epoch + 1), Format: "%.0f"},
				progress.Field{Name: "loss", Value: sumLoss / float64(seen), Format: "%.4f"},
				progress.Field{Name: "acc", Value: float64(correct) / float64(seen), Format: "%.4f"})
			epochEnd := step%s.stepsPerEpoch == 0
			evalNow := epochEnd || (cfg.EvalEvery > 0 && step%cfg.EvalEvery == 0)
			if !evalNow {
				continue
			}
			resume := bar.Pause() // evaluations and checkpoints are not training speed
			if err := s.evaluate(step); err != nil {
				return nil, err
			}
			if epochEnd {
				s.final["epoch_seconds"] = time.Since(epochStart).Seconds()
				if err := s.endEpoch(step); err != nil {
					return nil, err
				}
			}
			resume()
		}
	}
	res.Interrupted = step < s.totalSteps
	if step%s.stepsPerEpoch != 0 {
		// Stopped by --max-steps mid-epoch: keep the place.
		return res, s.save(step)
	}
	return res, nil
}

// step trains on the examples at idx.
func (s *session) step(idx []int64) (float64, int64, error) {
	x, y, err := s.train.batch(idx) // [B, 1, 32, 32], [B]
	if err != nil {
		return 0, 0, err
	}
	defer x.MustDrop()
	defer y.MustDrop()
	return trainStep(s.model, s.opt, x, y)
}

// evaluate measures both splits in eval mode and writes their rows.
func (s *session) evaluate(step int) error {
	epoch := float64(step) / float64(s.stepsPerEpoch)
	for _, e := range []struct {
		name string
		data *split
	}{{"train", s.trainEval}, {"test", s.test}} {
		loss, acc, err := evaluate(s.model, e.data, s.cfg.EvalBatchSize)
		if err != nil {
			return err
		}
		if err := s.metrics.Write(epoch, step, e.name, loss, acc, s.seconds()); err != nil {
			return err
		}
		s.final[e.name+"_loss"], s.final[e.name+"_accuracy"] = loss, acc
	}
	s.final["epoch"] = epoch
	fmt.Fprintf(s.log, "\nepoch %.2f (step %d): train loss %.5f acc %.4f | test loss %.5f acc %.4f\n",
		epoch, step, s.final["train_loss"], s.final["train_accuracy"], s.final["test_loss"], s.final["test_accuracy"])
	return nil
}

// endEpoch saves a checkpoint, redraws the figures and records memory.
func (s *session) endEpoch(step int) error {
	if err := s.save(step); err != nil {
		return err
	}
	if err := drawFigures(s.cfg.Out); err != nil {
		return err
	}
	rss, err := memstat.RSS()
	if err != nil {
		return err
	}
	epoch := step / s.stepsPerEpoch
	s.final[fmt.Sprintf("rss_mb_epoch_%d", epoch)] = float64(rss) / (1 << 20)
	if peak, err := memstat.PeakRSS(); err == nil {
		s.final["peak_rss_mb"] = float64(peak) / (1 << 20)
	}
	fmt.Fprintf(s.log, "epoch %d done in %.0fs; RSS %.0f MB\n", epoch, s.final["epoch_seconds"], float64(rss)/(1<<20))
	return nil
}

// save writes a checkpoint of the state after step steps.
func (s *session) save(step int) error {
	meta := checkpoint.Meta{Step: int64(step), Epoch: step / s.stepsPerEpoch, Seed: s.cfg.Seed, Seconds: s.seconds()}
	if err := checkpoint.Save(s.cfg.checkpointDir(), meta, s.cfg, s.named, s.opt); err != nil {
		return fmt.Errorf("save checkpoint at step %d: %w", step, err)
	}
	return nil
}
