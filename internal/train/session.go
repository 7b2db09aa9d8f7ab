package train

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/sugarme/gotch/ts"

	"torchlab/internal/metrics"
	"torchlab/internal/runrec"
	"torchlab/torch/checkpoint"
	"torchlab/torch/optim"
	"torchlab/torch/torchrt"
)

// ErrInterrupted is what a training run returns when Ctrl-C or SIGTERM
// (a cancelled context) stopped it after its checkpoint was saved.
var ErrInterrupted = errors.New("interrupted: checkpoint saved; continue with --resume")

// Group is what a Session needs of a data-parallel process group
// (cli.Parallel, whose methods also work on a nil value as one process).
type Group interface {
	// Lead is true on the rank that writes checkpoints and results.
	Lead() bool
	// Ranks is the group as the loop needs it (nil without a group).
	Ranks() Ranks
	// Replicate gives every rank rank 0's variables, optimiser state and
	// start step, and returns that step.
	Replicate(vars map[string]*ts.Tensor, opt *optim.Optimizer, start int) (int, error)
}

// Setup is what a command tells Open about its run.
type Setup struct {
	Command       string    // the command line, for summary.json
	Started       time.Time // when the run began, for summary.json (zero: when Open is called)
	Out           string    // the run's folder: metrics.csv, best/, summary.json
	CheckpointDir string    // "": <Out>/checkpoint
	Resume        bool      // continue from the checkpoint in CheckpointDir
	Seed          int64
	Config        any // the command's configuration, saved with every checkpoint and in summary.json
	Guard         GuardConfig
	Profile       ProfileConfig // an op profile of a few steps (NewProfiler)
	// InitWeights copies --init-from's weights into a new run's model
	// (nil: none).
	InitWeights func(vars map[string]*ts.Tensor) error
	Group       Group // nil: one process
	Log         *log.Logger

	Columns    []string // metrics.csv's header
	StepColumn string   // the column holding the step, for a resumed run's trim
	// Select is the validation metric that keeps the best model in
	// <Out>/best; "" keeps none.
	Select string
	Higher bool // Select is better higher (an accuracy), not lower (a loss)
}

// Session is one process's part of a training run: the set-up every command
// shares, done once by Open (the model's variables and optimiser, the
// divergence guard, the checkpoint resumed from, the process group's
// replicas, metrics.csv and the best-model selection), and the records it
// keeps (checkpoints, best/, summary.json). A command supplies its model,
// its Task (one step and one evaluation) and its Plan.
type Session struct {
	Setup
	Vars    map[string]*ts.Tensor
	Opt     *optim.Optimizer
	Guard   *Guard
	Metrics *metrics.Writer
	Best    *Best // nil when Select is ""
	// Start is the step this process starts at (the checkpoint's, or 0).
	Start int
	// Resumed is the checkpoint a resumed run continues (nil for a new run).
	Resumed *checkpoint.Meta
	began   time.Time
	plan    Plan // of Run, for Finish
}

// Open readies a run in su.Out for the model whose variables are vars and
// whose optimiser is opt (both built by the command, after the runtime is
// seeded): it restores the checkpoint when resuming, applies --init-from,
// replicates rank 0's state over the group, and opens metrics.csv and the
// best-model selection. Close releases what it opened.
func Open(su Setup, vars map[string]*ts.Tensor, opt *optim.Optimizer) (*Session, error) {
	if su.CheckpointDir == "" {
		su.CheckpointDir = filepath.Join(su.Out, "checkpoint")
	}
	if su.Log == nil {
		su.Log = log.Default()
	}
	s := &Session{Setup: su, Vars: vars, Opt: opt, began: time.Now()}
	if s.Started.IsZero() {
		s.Started = s.began
	}
	if err := os.MkdirAll(su.Out, 0o755); err != nil {
		return nil, err
	}
	var ranks Ranks
	if su.Group != nil {
		ranks = su.Group.Ranks()
	}
	var err error
	if s.Guard, err = NewGuard(su.Guard, ranks); err != nil {
		return nil, err
	}
	if su.Resume {
		if s.Resumed, err = checkpoint.Load(su.CheckpointDir, vars, opt); err != nil {
			return nil, fmt.Errorf("resume: %w", err)
		}
		s.Start = int(s.Resumed.Step)
		su.Log.Printf("resuming at step %d from %s", s.Start, s.Resumed.Found)
	}
	if su.InitWeights != nil {
		if err := su.InitWeights(vars); err != nil {
			return nil, err
		}
	}
	if su.Group != nil {
		if s.Start, err = su.Group.Replicate(vars, opt, s.Start); err != nil {
			return nil, err
		}
	}
	if s.Metrics, err = OpenMetrics(filepath.Join(su.Out, "metrics.csv"), su.Columns, su.StepColumn, su.Resume, s.Start); err != nil {
		return nil, err
	}
	if su.Select != "" {
		if s.Best, err = OpenBest(su.Out, su.Select, su.Higher, su.Resume); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// Close closes metrics.csv.
func (s *Session) Close() {
	if s.Metrics != nil {
		s.Metrics.Close()
	}
}

// Lead is true on the process that writes checkpoints and results.
func (s *Session) Lead() bool { return s.Group == nil || s.Group.Lead() }

// PriorSeconds is the training time of the sessions before this one.
func (s *Session) PriorSeconds() float64 {
	if s.Resumed == nil {
		return 0
	}
	return s.Resumed.Seconds
}

// PriorStepSeconds is the time earlier sessions spent in optimiser
// steps, where the command counts it (checkpoint.Meta.StepSeconds).
func (s *Session) PriorStepSeconds() float64 {
	if s.Resumed == nil {
		return 0
	}
	return s.Resumed.StepSeconds
}

// Seconds is the training time of the whole run so far, earlier sessions
// included (metrics.csv's seconds column).
func (s *Session) Seconds() float64 { return s.PriorSeconds() + time.Since(s.began).Seconds() }

// Run runs the loop (Run) from the session's start: Plan's Start,
// PriorSeconds, Guard and Ranks are the session's. It trains with
// libtorch's grad mode on, whatever this thread's mode was (a thread can
// inherit it off from code that ran on it before), and puts the mode back.
func (s *Session) Run(ctx context.Context, p Plan, t Task) (Result, error) {
	prev := torchrt.SetGradEnabled(true)
	defer torchrt.SetGradEnabled(prev)
	p.Start, p.PriorSeconds, p.Guard = s.Start, s.PriorSeconds(), s.Guard
	p.Profile = NewProfiler(s.Setup.Profile, s.Out)
	if s.Group != nil {
		p.Ranks = s.Group.Ranks()
	}
	s.plan = p
	return Run(ctx, p, t, s.Log.Writer())
}

// Save writes a checkpoint with the model, the optimiser and meta (its
// step, epoch and times; the seed is the run's) into CheckpointDir.
func (s *Session) Save(meta checkpoint.Meta) error {
	meta.Seed = s.Seed
	return checkpoint.Save(s.CheckpointDir, meta, s.Config, s.Vars, s.Opt)
}

// Offer keeps the model in best/ when the evaluation `at` after step is
// the best so far (Best.Offer), with meta in its checkpoint (the seed is
// the run's). Only the lead process keeps; it says whether it kept.
func (s *Session) Offer(step int, at map[string]float64, meta checkpoint.Meta) (bool, error) {
	if s.Best == nil || !s.Lead() {
		return false, nil
	}
	meta.Seed = s.Seed
	return s.Best.Offer(step, at, func(dir string) error {
		return checkpoint.Save(dir, meta, s.Config, s.Vars, nil)
	})
}

// RunToEnd runs p with t (Run) and ends the run: an interrupted one writes
// sum as the summary (Finish: the common results, no final evaluation of a
// model stopped mid-run) and returns ErrInterrupted; a finished one calls
// finish, which measures the model and calls Finish with its results.
func (s *Session) RunToEnd(ctx context.Context, p Plan, t Task, sum runrec.Summary, finish func(Result) error) error {
	res, err := s.Run(ctx, p, t)
	if err != nil {
		return err
	}
	if res.Interrupted {
		return s.Finish(res, sum)
	}
	return finish(res)
}

// Finish writes summary.json for the run res on the lead process: sum's
// results get the common keys (CommonResults) and the best step's
// metrics, its notes say why the run stopped before the end and which
// steps diverged. A run stopped by its context returns ErrInterrupted
// (wrapped) once the summary is written.
func (s *Session) Finish(res Result, sum runrec.Summary) error {
	if s.Lead() {
		if sum.Results == nil {
			sum.Results = map[string]float64{}
		}
		CommonResults(sum.Results, res)
		s.Best.Results(sum.Results)
		var notes []string
		if res.Done < s.plan.Total && res.StoppedEarly == "" {
			notes = append(notes, fmt.Sprintf("stopped at step %d of %d; continue with --resume", res.Done, s.plan.Total))
		}
		notes = append(notes, sum.Notes...)
		if n := DivergenceNote(s.Guard.Events()); n != "" {
			notes = append(notes, n)
		}
		if res.StoppedEarly != "" {
			notes = append(notes, fmt.Sprintf("stopped early after step %d of %d: %s", res.Done, s.plan.Total, res.StoppedEarly))
		}
		sum.Notes = notes
		sum.Command, sum.Config, sum.Seed = s.Command, s.Config, s.Seed
		if s.Best != nil {
			sum.Best = &s.Best.Best
		}
		sum.Started, sum.Finished = s.Started.UTC(), time.Now().UTC()
		sum.Seconds = res.Seconds
		if err := WriteSummary(s.Out, sum); err != nil {
			return err
		}
	}
	if res.Interrupted {
		return fmt.Errorf("step %d, %s: %w", res.Done, s.CheckpointDir, ErrInterrupted)
	}
	return nil
}
