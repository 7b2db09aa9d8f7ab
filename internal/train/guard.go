package train

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/spf13/pflag"
)

// What a Guard does with a diverged step (--on-divergence).
const (
	OnDivergenceStop = "stop" // end the run with an error; the last checkpoint is kept as it was
	OnDivergenceSkip = "skip" // drop the step's gradients and go on
)

// GuardConfig is the divergence guard's flags, shared by every command.
type GuardConfig struct {
	OnDivergence string  `json:"on_divergence"`     // stop or skip
	Factor       float64 `json:"divergence_factor"` // a loss above Factor x the running median diverges (0: only non-finite losses)
}

// AddGuardFlags registers --on-divergence and --divergence-factor on fs.
func AddGuardFlags(fs *pflag.FlagSet, c *GuardConfig) {
	fs.StringVar(&c.OnDivergence, "on-divergence", OnDivergenceStop,
		"what a diverged step does (a non-finite loss, or one above --divergence-factor x the median of the last steps): stop (an error; the last checkpoint is kept) or skip (its update is dropped, the step counted in summary.json)")
	fs.Float64Var(&c.Factor, "divergence-factor", 100, "a step's loss above this many times the median of the last 100 losses diverges (0: only non-finite losses)")
}

// Check rejects an unknown policy or a factor in (0, 1]. An empty policy
// (a configuration saved before the guard) is stop.
func (c GuardConfig) Check() error {
	switch c.OnDivergence {
	case "", OnDivergenceStop, OnDivergenceSkip:
	default:
		return fmt.Errorf("--on-divergence must be %s or %s (got %q)", OnDivergenceStop, OnDivergenceSkip, c.OnDivergence)
	}
	if !(c.Factor == 0 || c.Factor > 1) {
		return fmt.Errorf("--divergence-factor must be 0 or > 1 (got %v)", c.Factor)
	}
	return nil
}

// guardWindow is how many recent accepted losses the median is taken over,
// and guardMinSeen how many it needs before the factor applies (until then
// only a non-finite loss diverges).
const (
	guardWindow  = 100
	guardMinSeen = 20
)

// Guard watches every step's loss before its update is applied. A step
// diverges when its loss is NaN or infinite, or (after guardMinSeen steps)
// above Factor times the median of the last guardWindow accepted losses.
// In a data-parallel run every rank asks its Guard about its own loss and
// all of them take the same decision (Ranks.AnyTrue), so the replicas stay
// equal. The zero value is not usable: build it with NewGuard.
type Guard struct {
	cfg    GuardConfig
	ranks  Ranks
	recent []float64
	events []Divergence
}

// Divergence is one diverged step.
type Divergence struct {
	Step   int     // 1-based, as the log counts steps
	Loss   float64 // this rank's loss
	Median float64 // of the last accepted losses
	Action string  // stopped or skipped
}

// DivergedError is the error of a step that diverged under
// --on-divergence stop.
type DivergedError struct{ Divergence }

func (e *DivergedError) Error() string {
	return fmt.Sprintf("training diverged at step %d: %s; stopped without saving, so the last checkpoint is the state before it (try a smaller --lr, --clip-grad-norm, or --on-divergence skip)",
		e.Step, e.describe())
}

func (d Divergence) describe() string {
	if math.IsNaN(d.Loss) || math.IsInf(d.Loss, 0) {
		return fmt.Sprintf("loss %v", d.Loss)
	}
	return fmt.Sprintf("loss %.4g is %.3gx the median %.4g of the last steps", d.Loss, d.Loss/d.Median, d.Median)
}

// ErrDiverged matches a DivergedError with errors.Is.
var ErrDiverged = errors.New("training diverged")

func (e *DivergedError) Is(target error) bool { return target == ErrDiverged }

// NewGuard returns a Guard for cfg; ranks is the run's process group (nil:
// one process).
func NewGuard(cfg GuardConfig, ranks Ranks) (*Guard, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	return &Guard{cfg: cfg, ranks: ranks}, nil
}

// Accept is asked with step's loss (step 0-based) after backward and before
// the optimiser's update. It returns true when the update may go ahead;
// false when the step diverged and is to be skipped (the caller drops its
// gradients); and a *DivergedError when the run must stop.
func (g *Guard) Accept(step int, loss float64) (bool, error) {
	median := g.median()
	bad := math.IsNaN(loss) || math.IsInf(loss, 0) ||
		(g.cfg.Factor > 0 && len(g.recent) >= guardMinSeen && loss > g.cfg.Factor*median && median > 0)
	if g.ranks != nil {
		var err error
		if bad, err = g.ranks.AnyTrue(bad); err != nil {
			return false, fmt.Errorf("divergence check at step %d: %w", step+1, err)
		}
	}
	if !bad {
		g.recent = append(g.recent, loss)
		if len(g.recent) > guardWindow {
			g.recent = g.recent[1:]
		}
		return true, nil
	}
	d := Divergence{Step: step + 1, Loss: loss, Median: median, Action: "skipped"}
	if g.cfg.OnDivergence == OnDivergenceStop {
		d.Action = "stopped"
		g.events = append(g.events, d)
		return false, &DivergedError{d}
	}
	g.events = append(g.events, d)
	return false, nil
}

// Events returns the diverged steps seen so far.
func (g *Guard) Events() []Divergence { return slices.Clone(g.events) }

// Describe is a log line for the last diverged step ("" if none).
func (g *Guard) Describe() string {
	if len(g.events) == 0 {
		return ""
	}
	d := g.events[len(g.events)-1]
	return fmt.Sprintf("step %d diverged (%s): %s (--on-divergence %s)", d.Step, d.describe(), d.Action, g.cfg.OnDivergence)
}

func (g *Guard) median() float64 {
	if len(g.recent) == 0 {
		return 0
	}
	s := slices.Clone(g.recent)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// DivergenceNote is the summary.json note for a run's diverged steps ("" if none).
func DivergenceNote(events []Divergence) string {
	if len(events) == 0 {
		return ""
	}
	steps := make([]string, 0, min(len(events), 10))
	for _, d := range events[:min(len(events), 10)] {
		steps = append(steps, fmt.Sprint(d.Step))
	}
	more := ""
	if len(events) > 10 {
		more = fmt.Sprintf(" and %d more", len(events)-10)
	}
	return fmt.Sprintf("%d diverged step(s) %s: steps %s%s", len(events), events[0].Action, strings.Join(steps, ", "), more)
}

// Updater is the part of an optimiser Update needs (torch/optim.Optimizer).
type Updater interface {
	Step() error
	ZeroGrad() error
}

// Update applies opt's update for step (0-based) after asking the guard
// about its loss: a step that diverged under skip has its gradients
// dropped instead (skipped is true); under stop it is a *DivergedError. A
// nil Guard always updates.
func (g *Guard) Update(step int, loss float64, opt Updater) (skipped bool, err error) {
	if g != nil {
		ok, err := g.Accept(step, loss)
		if err != nil {
			return false, err
		}
		if !ok {
			return true, opt.ZeroGrad()
		}
	}
	return false, opt.Step()
}
