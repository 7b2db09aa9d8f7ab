// Package optim implements torch.optim's SGD and Adam on named parameters,
// update for update as PyTorch 1.13 computes them (see torch/fused), with
// their state exposed by name so a checkpoint can save and restore it.
//
// gotch's optimisers wrap libtorch's C++ ones, whose state cannot be read
// back; a run resumed from such a checkpoint would restart Adam's moments.
package optim

import (
	"fmt"
	"math"
	"sort"

	"github.com/sugarme/gotch/ts"

	"torchlab/torch/fused"
	"torchlab/torch/opprofile"
	"torchlab/torch/torchrt"
)

// Config selects and configures an optimiser.
type Config struct {
	Name        string  `json:"name"` // "sgd" or "adam"
	LR          float64 `json:"lr"`
	Momentum    float64 `json:"momentum,omitempty"` // sgd
	Nesterov    bool    `json:"nesterov,omitempty"` // sgd
	WeightDecay float64 `json:"weight_decay,omitempty"`
	Beta1       float64 `json:"beta1,omitempty"` // adam, default 0.9
	Beta2       float64 `json:"beta2,omitempty"` // adam, default 0.999
	Eps         float64 `json:"eps,omitempty"`   // adam, default 1e-8
}

// Optimizer updates a fixed set of named parameters from their gradients.
type Optimizer struct {
	cfg    Config
	names  []string
	params []*ts.Tensor
	// Per parameter: SGD's momentum buffer, or Adam's two moments.
	buf, expAvg, expAvgSq []*ts.Tensor
	// Per parameter, the updates it has had: a parameter without a gradient
	// at a step is skipped, as torch.optim skips it, so Adam's bias
	// correction and SGD's first momentum count each parameter's own.
	counts   []int64
	steps    int64 // Step calls
	sync     Sync
	clip     float64 // max gradient 2-norm (SetClipGradNorm); 0: none
	gradNorm float64 // the last step's gradient norm before clipping, when clip > 0 or measure
	measure  bool    // SetMeasureGradNorm
}

// New builds an optimiser over params (name -> tensor), in name order. Only
// tensors that require grad are taken.
func New(cfg Config, params map[string]*ts.Tensor) (*Optimizer, error) {
	switch cfg.Name {
	case "sgd":
	case "adam":
		if cfg.Beta1 == 0 {
			cfg.Beta1 = 0.9
		}
		if cfg.Beta2 == 0 {
			cfg.Beta2 = 0.999
		}
		if cfg.Eps == 0 {
			cfg.Eps = 1e-8
		}
	default:
		return nil, fmt.Errorf("unknown optimizer %q (want sgd or adam)", cfg.Name)
	}
	if cfg.LR <= 0 || cfg.Momentum < 0 || cfg.WeightDecay < 0 {
		return nil, fmt.Errorf("optimizer %s: lr must be > 0, momentum and weight decay >= 0 (have %+v)", cfg.Name, cfg)
	}
	o := &Optimizer{cfg: cfg}
	names := make([]string, 0, len(params))
	for n, p := range params {
		if rg, err := p.RequiresGrad(); err == nil && rg {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, fmt.Errorf("optimizer %s: no trainable parameters", cfg.Name)
	}
	for _, n := range names {
		p := params[n]
		o.names = append(o.names, n)
		o.params = append(o.params, p)
		var err error
		switch {
		case cfg.Name == "adam":
			var avg, sq *ts.Tensor
			if avg, err = p.ZerosLike(false); err == nil {
				o.expAvg = append(o.expAvg, avg)
				if sq, err = p.ZerosLike(false); err == nil {
					o.expAvgSq = append(o.expAvgSq, sq)
				}
			}
		case cfg.Momentum != 0:
			var buf *ts.Tensor
			if buf, err = p.ZerosLike(false); err == nil {
				o.buf = append(o.buf, buf)
			}
		}
		if err != nil {
			for _, t := range append(append(o.buf, o.expAvg...), o.expAvgSq...) {
				t.MustDrop()
			}
			return nil, fmt.Errorf("optimizer %s: state of %s: %w", cfg.Name, n, err)
		}
	}
	o.counts = make([]int64, len(o.params))
	return o, nil
}

// Config returns the configuration with defaults filled in.
func (o *Optimizer) Config() Config { return o.cfg }

// SetLR changes the learning rate, for schedules.
func (o *Optimizer) SetLR(lr float64) { o.cfg.LR = lr }

// Steps counts the Step calls made so far (restored by Load).
func (o *Optimizer) Steps() int64 { return o.steps }

// ParamSteps is each parameter's own update count, by name: its Adam step.
func (o *Optimizer) ParamSteps() map[string]int64 {
	out := make(map[string]int64, len(o.names))
	for i, n := range o.names {
		out[n] = o.counts[i]
	}
	return out
}

// ZeroGrad zeroes every parameter's gradient.
func (o *Optimizer) ZeroGrad() error {
	for i, p := range o.params {
		if err := fused.ZeroGrad(p); err != nil {
			return fmt.Errorf("zero grad of %s: %w", o.names[i], err)
		}
	}
	return nil
}

// Sync is what a data-parallel run does around each update: average the
// gradients over the processes before it (torch/dist.Replicas), share
// buffers after it.
type Sync interface {
	BeforeUpdate() error
	AfterUpdate() error
}

// SetSync makes every Step call s around its update; nil: no sync.
func (o *Optimizer) SetSync(s Sync) { o.sync = s }

// SetClipGradNorm makes every Step first scale the gradients, averaged over
// the processes of a data-parallel run, to a 2-norm of at most max
// (torch.nn.utils.clip_grad_norm_); 0 turns it off.
func (o *Optimizer) SetClipGradNorm(max float64) { o.clip = max }

// SetMeasureGradNorm makes every Step measure the gradients' 2-norm (what
// GradNorm returns) even without clipping, at the cost of one pass over
// the gradients.
func (o *Optimizer) SetMeasureGradNorm(on bool) { o.measure = on }

// GradNorm is the 2-norm of the gradients of the last Step before clipping
// (0 unless SetClipGradNorm or SetMeasureGradNorm is on).
func (o *Optimizer) GradNorm() float64 { return o.gradNorm }

// Step updates every parameter from its gradient.
// Under an op profile (torch/opprofile) the gradients' all-reduce and the
// update show as the phases "collectives" and "optimizer step".
func (o *Optimizer) Step() error {
	if o.sync != nil {
		if err := inScope("collectives", o.sync.BeforeUpdate); err != nil {
			return err
		}
	}
	if err := inScope("optimizer step", o.clipAndUpdate); err != nil {
		return err
	}
	if o.sync != nil {
		return inScope("collectives", o.sync.AfterUpdate)
	}
	return nil
}

func inScope(name string, f func() error) error {
	end, err := opprofile.Scope(name)
	if err != nil {
		return err
	}
	if err := f(); err != nil {
		_ = end()
		return err
	}
	return end()
}

func (o *Optimizer) clipAndUpdate() error {
	if o.clip > 0 || o.measure {
		norm, err := fused.ClipGradNorm(o.params, o.clip) // clip 0 measures only
		if err != nil {
			return err
		}
		o.gradNorm = norm
	}
	return o.update()
}

func (o *Optimizer) update() error {
	o.steps++
	c := o.cfg
	for i, p := range o.params {
		has, err := fused.HasGrad(p)
		if err != nil {
			return fmt.Errorf("%s step of %s: %w", c.Name, o.names[i], err)
		}
		if !has {
			continue
		}
		if c.Name == "adam" {
			err = fused.AdamStep(p, o.expAvg[i], o.expAvgSq[i], o.counts[i]+1, c.LR, c.Beta1, c.Beta2, c.Eps, c.WeightDecay, fused.CacheChunk)
		} else {
			var buf *ts.Tensor
			if o.buf != nil {
				buf = o.buf[i]
			}
			err = fused.SGDStep(p, buf, o.counts[i] > 0, c.LR, c.Momentum, 0, c.WeightDecay, c.Nesterov, fused.CacheChunk)
		}
		if err != nil {
			return fmt.Errorf("%s step of %s: %w", c.Name, o.names[i], err)
		}
		o.counts[i]++
	}
	return nil
}

// State returns the optimiser's tensors by name ("exp_avg.<param>", ...)
// plus its step count, for checkpoints. The tensors are the live ones.
func (o *Optimizer) State() (map[string]*ts.Tensor, int64) {
	return o.state(o.counts), o.steps
}

// state names the live state tensors of parameters with the given update
// counts (an SGD parameter not yet updated has no momentum buffer).
func (o *Optimizer) state(counts []int64) map[string]*ts.Tensor {
	out := map[string]*ts.Tensor{}
	for i, n := range o.names {
		switch {
		case o.expAvg != nil:
			out["exp_avg."+n] = o.expAvg[i]
			out["exp_avg_sq."+n] = o.expAvgSq[i]
		case o.buf != nil && counts[i] > 0:
			out["momentum_buffer."+n] = o.buf[i]
		}
	}
	return out
}

// Buffers lists every state tensor the optimiser holds (moments, momentum
// buffers, used yet or not), in a fixed order, and SetSteps sets the step
// counts: together they copy one optimiser's state into another's, as a
// data-parallel run does from rank 0 to the others.
func (o *Optimizer) Buffers() []*ts.Tensor {
	return append(append(append([]*ts.Tensor{}, o.expAvg...), o.expAvgSq...), o.buf...)
}

// Counts is each parameter's update count in Buffers' order of parameters.
func (o *Optimizer) Counts() []int64 { return append([]int64{}, o.counts...) }

// SetSteps sets the Step calls made and each parameter's update count (as
// Counts gives them; nil: steps for every parameter).
func (o *Optimizer) SetSteps(steps int64, counts []int64) error {
	if counts != nil && len(counts) != len(o.counts) {
		return fmt.Errorf("optimizer: %d step counts for %d parameters", len(counts), len(o.counts))
	}
	o.steps = steps
	for i := range o.counts {
		o.counts[i] = steps
		if counts != nil {
			o.counts[i] = counts[i]
		}
	}
	return nil
}

// Load restores state saved from State: values are copied into the live
// tensors, and every expected entry must be present with the right shape.
// paramSteps are the parameters' own update counts (ParamSteps); nil, as in
// checkpoints written before they were kept, means steps for every one.
// An SGD parameter without a saved momentum buffer has had no update.
func (o *Optimizer) Load(state map[string]*ts.Tensor, steps int64, paramSteps map[string]int64) error {
	counts := make([]int64, len(o.names))
	for i, n := range o.names {
		counts[i] = steps
		if paramSteps != nil {
			c, ok := paramSteps[n]
			if !ok {
				return fmt.Errorf("optimizer: no step count for %s in the checkpoint", n)
			}
			counts[i] = c
		}
		if o.buf != nil {
			if _, ok := state["momentum_buffer."+n]; !ok {
				counts[i] = 0
			}
		}
	}
	live := o.state(counts)
	for name, dst := range live {
		src, ok := state[name]
		if !ok {
			return fmt.Errorf("optimizer state %s missing from checkpoint", name)
		}
		a, err := src.Size()
		if err != nil {
			return fmt.Errorf("optimizer state %s: %w", name, err)
		}
		b, err := dst.Size()
		if err != nil {
			return fmt.Errorf("optimizer state %s: %w", name, err)
		}
		if fmt.Sprint(a) != fmt.Sprint(b) {
			return fmt.Errorf("optimizer state %s: checkpoint shape %v, model %v", name, a, b)
		}
		if err := copyInto(dst, src); err != nil {
			return fmt.Errorf("optimizer state %s: %w", name, err)
		}
	}
	for name := range state {
		if _, ok := live[name]; !ok {
			return fmt.Errorf("checkpoint has optimizer state %s that this optimizer does not use", name)
		}
	}
	o.steps = steps
	copy(o.counts, counts)
	return nil
}

// copyInto copies src's values into dst in place, without recording grad.
func copyInto(dst, src *ts.Tensor) error {
	defer torchrt.SetGradEnabled(torchrt.SetGradEnabled(false))
	s := src
	if src.DType() != dst.DType() {
		var err error
		if s, err = src.Totype(dst.DType(), false); err != nil {
			return err
		}
		defer s.MustDrop()
	}
	// Shapes were checked by the caller, so Copy_ cannot fail here.
	dst.Copy_(s)
	return nil
}

// Schedules are the learning-rate schedules ScheduledLR knows.
var Schedules = []string{"constant", "cosine"}

// ScheduledLR is the learning rate of step (0-based) out of total under
// schedule: lr throughout ("constant"), or a cosine from lr at step 0 down
// to 0 at the last step ("cosine", PyTorch's CosineAnnealingLR with
// eta_min 0 and T_max total).
func ScheduledLR(schedule string, lr float64, step, total int) float64 {
	if schedule != "cosine" || total <= 0 {
		return lr
	}
	return lr * 0.5 * (1 + math.Cos(math.Pi*float64(step)/float64(total)))
}
