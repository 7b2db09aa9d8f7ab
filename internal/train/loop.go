// Package train is the one training loop of torchlab's commands. A command
// supplies a Task (one optimiser step, an evaluation, a checkpoint) and a
// Plan (how many steps, when to evaluate and save); Run does the rest the
// same way for all: the progress bar with its ETA, paused around
// evaluations and checkpoints; Ctrl-C/SIGTERM (a cancelled context) saving
// a checkpoint; resuming from a checkpoint's step. OpenMetrics drops the
// metrics rows a killed run wrote after its last checkpoint, ResumeConfig
// is the one resume policy, and WriteSummary writes summary.json with the
// same keys and units in every command.
package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"torchlab/internal/progress"
	"torchlab/torch/memstat"
)

// Task is what a command plugs into the loop.
type Task interface {
	// Step runs optimiser step `step` (0-based over the whole run) and
	// returns its batch loss and the progress fields to show.
	Step(step int) (StepReport, error)
	// Evaluate measures the model after `done` steps and writes its
	// metrics rows.
	Evaluate(done int) error
	// Save writes a checkpoint of the state after `done` steps; seconds is
	// the training time of the whole run so far.
	Save(done int, seconds float64) error
}

// StepReport is what one step tells the loop.
type StepReport struct {
	Loss   float64
	Fields []progress.Field
	// Skipped says the step diverged and its update was dropped
	// (Guard.Accept said so); the loop logs it and counts it.
	Skipped bool
}

// Plan says how long the run is and when it evaluates and saves.
type Plan struct {
	Label string // progress bar label
	Unit  string // progress unit ("it", "img", "step")

	Start int // steps done by earlier sessions (the checkpoint's step)
	Total int // steps of the whole run
	Stop  int // stop (with a checkpoint) after this many steps in all; 0: Total

	// EvaluateAt and SaveAt say after which steps to evaluate and to
	// checkpoint (Every builds the usual one). The loop always evaluates
	// after the last step of the run or at Stop, and saves when it stops.
	EvaluateAt, SaveAt func(done int) bool
	EvaluateFirst      bool // evaluate (and save) before the first step of a fresh run

	// Units converts steps into progress units (images, say); nil: steps.
	Units func(done int) int

	PriorSeconds float64 // training time of earlier sessions

	AfterStep     func(done int, loss float64) // tests: after every step
	AfterEvaluate func(done int) error         // e.g. figures at an epoch's end

	// StopEarly, asked on rank 0 after each evaluation, ends the run there
	// (with a checkpoint) when it returns a reason, e.g. validation has not
	// improved for a patience; "" goes on.
	StopEarly func(done int) string

	// Guard is the divergence guard the Task asks before each update; the
	// loop logs the steps it skipped. nil: no guard.
	Guard *Guard

	// Profile, when set, profiles a few of this session's steps on rank 0
	// (NewProfiler); nil: none.
	Profile *Profiler

	// Ranks is the process group of a data-parallel run; nil: one process.
	// Every rank steps and evaluates (the Task shares the work and reduces
	// the results); only rank 0 shows progress, saves checkpoints and runs
	// AfterEvaluate. A stop (Ctrl-C, SIGTERM) on any rank stops all of them
	// after the same step.
	Ranks Ranks
}

// Ranks is what the loop needs of a process group (torch/dist.Group).
type Ranks interface {
	Rank() int
	// AnyTrue is true on every rank when v is true on any rank.
	AnyTrue(v bool) (bool, error)
	// Sync, called on every rank after each evaluation (and after rank 0's
	// AfterEvaluate), fails unless every rank holds the same model as rank
	// 0, and gives every rank rank 0's random state.
	Sync() error
}

// releaseEvery is how many steps apart Run hands freed memory back to the
// kernel (memstat.ReleaseFreedPages). It bounds the resident memory of a
// run whose tensor sizes vary by step (the padded LSTM would otherwise
// grow with every step) and costs a steady run one step's page faults per
// releaseEvery steps. The measurements behind it: docs/performance.md,
// "A third of the CPU in page faults".
const releaseEvery = 250

// Every returns a predicate true every n steps (never for n <= 0).
func Every(n int) func(done int) bool {
	return func(done int) bool { return n > 0 && done%n == 0 }
}

// Result is what Run did.
type Result struct {
	Start        int       // steps done by earlier sessions (Plan.Start)
	Done         int       // steps done in all
	Interrupted  bool      // stopped by the context before Total
	StepSeconds  float64   // this process's time inside Task.Step
	Seconds      float64   // training time of the whole run (evaluations included)
	Losses       []float64 // this process's step losses
	Skipped      int       // steps whose update the Guard dropped (this session)
	StoppedEarly string    // why Plan.StopEarly ended the run ("" if it did not)
}

// Run trains from p.Start to p.Total (or p.Stop) and returns how far it got.
// A cancelled ctx stops it between steps with a checkpoint: Result says
// Interrupted, and the error is nil.
func Run(ctx context.Context, p Plan, t Task, w io.Writer) (Result, error) {
	began := time.Now()
	res := Result{Start: p.Start, Done: p.Start}
	seconds := func() float64 { return p.PriorSeconds + time.Since(began).Seconds() }
	units := p.Units
	if units == nil {
		units = func(done int) int { return done }
	}
	stop := p.Total
	if p.Stop > 0 {
		stop = min(stop, p.Stop)
	}
	at := func(f func(int) bool, done int) bool { return f != nil && f(done) }
	lead := p.Ranks == nil || p.Ranks.Rank() == 0
	if !lead {
		w = io.Discard
	}
	saved := -1
	save := func() error {
		if saved == res.Done || !lead {
			return nil
		}
		if err := t.Save(res.Done, seconds()); err != nil {
			return fmt.Errorf("save checkpoint at step %d: %w", res.Done, err)
		}
		saved = res.Done
		return nil
	}
	evaluate := func() error {
		if err := t.Evaluate(res.Done); err != nil {
			return fmt.Errorf("evaluate at step %d: %w", res.Done, err)
		}
		if p.AfterEvaluate != nil && lead {
			if err := p.AfterEvaluate(res.Done); err != nil {
				return err
			}
		}
		if p.Ranks != nil {
			if err := p.Ranks.Sync(); err != nil {
				return fmt.Errorf("after step %d: %w", res.Done, err)
			}
		}
		return nil
	}

	stopEarly := func() (string, error) {
		if p.StopEarly == nil {
			return "", nil
		}
		why := ""
		if lead {
			why = p.StopEarly(res.Done)
		}
		if p.Ranks != nil {
			stop, err := p.Ranks.AnyTrue(why != "")
			if err != nil {
				return "", fmt.Errorf("after step %d: %w", res.Done, err)
			}
			if stop && why == "" {
				why = "rank 0 stopped early"
			}
		}
		return why, nil
	}

	if p.EvaluateFirst && p.Start == 0 {
		if err := evaluate(); err != nil {
			return res, err
		}
		if err := save(); err != nil {
			return res, err
		}
	}
	bar := progress.NewFrom(w, units(p.Start), units(stop), p.Label, progress.WithUnit(p.Unit))
	stopped := func() (bool, error) {
		if p.Ranks == nil {
			return ctx.Err() != nil, nil
		}
		return p.Ranks.AnyTrue(ctx.Err() != nil)
	}
	for res.Done < stop {
		halt, err := stopped()
		if err != nil {
			_ = bar.Finish()
			return res, fmt.Errorf("before step %d: %w", res.Done+1, err)
		}
		if halt {
			_ = bar.Finish()
			fmt.Fprintf(w, "interrupted at step %d: saving a checkpoint\n", res.Done)
			res.Interrupted, res.Seconds = true, seconds()
			return res, save()
		}
		if lead {
			if err := p.Profile.beforeStep(res.Done - p.Start); err != nil {
				_ = bar.Finish()
				return res, err
			}
		}
		t0 := time.Now()
		rep, err := t.Step(res.Done)
		if err == nil && lead {
			err = p.Profile.afterStep(time.Since(t0).Seconds())
		}
		if err != nil {
			_ = bar.Finish()
			if errors.Is(err, ErrDiverged) {
				fmt.Fprintf(w, "%v\n", err)
				return res, err
			}
			return res, fmt.Errorf("step %d: %w", res.Done+1, err)
		}
		if rep.Skipped {
			res.Skipped++
			if p.Guard != nil {
				fmt.Fprintf(w, "\n%s\n", p.Guard.Describe())
			}
		}
		res.StepSeconds += time.Since(t0).Seconds()
		res.Done++
		res.Losses = append(res.Losses, rep.Loss)
		if res.Done%releaseEvery == 0 {
			if err := memstat.ReleaseFreedPages(); err != nil {
				_ = bar.Finish()
				return res, fmt.Errorf("after step %d: %w", res.Done, err)
			}
		}
		if p.AfterStep != nil {
			p.AfterStep(res.Done, rep.Loss)
		}
		bar.Update(units(res.Done), rep.Fields...)
		evalNow := at(p.EvaluateAt, res.Done) || res.Done == stop
		saveNow := at(p.SaveAt, res.Done)
		if !evalNow && !saveNow {
			continue
		}
		resume := bar.Pause() // evaluations and checkpoints are not training speed
		if evalNow {
			if err := evaluate(); err != nil {
				_ = bar.Finish()
				return res, err
			}
			why, err := stopEarly()
			if err != nil {
				_ = bar.Finish()
				return res, err
			}
			if why != "" && res.Done < stop {
				_ = bar.Finish()
				fmt.Fprintf(w, "stopping early after step %d: %s\n", res.Done, why)
				res.StoppedEarly, res.Seconds = why, seconds()
				return res, save()
			}
		}
		if saveNow {
			if err := save(); err != nil {
				_ = bar.Finish()
				return res, err
			}
		}
		resume()
	}
	if err := bar.Finish(); err != nil {
		return res, err
	}
	if err := p.Profile.finish(); err != nil {
		return res, err
	}
	res.Seconds = seconds()
	return res, save()
}
