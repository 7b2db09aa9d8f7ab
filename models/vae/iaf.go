package vae

import (
	"fmt"

	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/torch/layers"
	"torchlab/torch/tensors"
)

// Inverse autoregressive flow (Kingma et al. 2016, "Improved Variational
// Inference with Inverse Autoregressive Flow"): each step maps a latent
// sample z to
//
//	z' = sigma*z + (1-sigma)*m,  sigma = sigmoid(s),
//
// where (m, s) come from an autoregressive network of z (MADE masks:
// output i sees only the inputs before i in the step's ordering) and a
// context h from the encoder. dz'/dz is then triangular in that ordering
// with diagonal sigma, so log|det dz'/dz| = sum log sigma: the density of
// z' is that of z divided by prod sigma.
//
// The layers work on the last dimension of their inputs, so one step
// serves a flat latent [N, D] and a spatial one laid out [N, H, W, C]
// (autoregressive over the C channels of each pixel, a masked 1x1
// convolution).

// iafForgetBias is added to s so that a fresh step starts near the
// identity (sigma = sigmoid(2) = 0.88), as the paper's initialisation
// suggests: the flow starts as the Gaussian posterior and learns away
// from it.
const iafForgetBias = 2.0

// MaskedLinear is a linear layer whose weight is multiplied by a fixed 0/1
// mask before use (MADE, Germain et al. 2015): y = x (W*M)^T + b.
type MaskedLinear struct {
	Linear *layers.Linear
	Mask   *ts.Tensor // [out, in] of 0 and 1; not a parameter, not saved
}

// NewMaskedLinear creates "weight" and "bias" under p (initialised as
// torch.nn.Linear) and keeps mask [out][in].
func NewMaskedLinear(p *nn.Path, mask [][]float32) (*MaskedLinear, error) {
	out := int64(len(mask))
	if out == 0 || len(mask[0]) == 0 {
		return nil, fmt.Errorf("masked linear %v: empty mask", p.Paths())
	}
	in := int64(len(mask[0]))
	flat := make([]float32, 0, out*in)
	for i, row := range mask {
		if int64(len(row)) != in {
			return nil, fmt.Errorf("masked linear %v: mask row %d has %d values, want %d", p.Paths(), i, len(row), in)
		}
		flat = append(flat, row...)
	}
	lin, err := layers.NewLinear(p, in, out, true)
	if err != nil {
		return nil, err
	}
	m, err := tensors.FromFloat32(flat, out, in)
	if err != nil {
		return nil, fmt.Errorf("masked linear %v: %w", p.Paths(), err)
	}
	return &MaskedLinear{Linear: lin, Mask: m}, nil
}

// Forward maps [..., in] to [..., out].
func (l *MaskedLinear) Forward(x *ts.Tensor) (*ts.Tensor, error) {
	w, err := l.Linear.Weight.Mul(l.Mask, false) // [out, in]
	if err != nil {
		return nil, fmt.Errorf("masked linear: %w", err)
	}
	defer w.MustDrop()
	bias := l.Linear.Bias
	if bias == nil {
		bias = ts.None
	}
	y, err := ts.Linear(x, w, bias)
	if err != nil {
		return nil, fmt.Errorf("masked linear: %w", err)
	}
	return y, nil
}

// madeDegrees are the degrees of d autoregressive inputs (1..d, or d..1
// when reversed: the step's ordering) and of h hidden units (cycling
// through 1..d-1, so every hidden unit feeds some output).
func madeDegrees(d, h int, reverse bool) (in, hidden []int) {
	in = make([]int, d)
	for i := range in {
		in[i] = i + 1
		if reverse {
			in[i] = d - i
		}
	}
	hidden = make([]int, h)
	for k := range hidden {
		hidden[k] = 1 + k%max(d-1, 1)
	}
	return in, hidden
}

// madeMasks are the masks of a one-hidden-layer MADE: hidden unit k sees
// input j when deg(k) >= deg(j); output i (of degree deg(i), as its input)
// sees hidden unit k when deg(i) > deg(k). So output i depends only on
// inputs of a lower degree, never on input i itself.
func madeMasks(in, hidden []int) (inMask, outMask [][]float32) {
	inMask = make([][]float32, len(hidden))
	for k, dk := range hidden {
		inMask[k] = make([]float32, len(in))
		for j, dj := range in {
			if dk >= dj {
				inMask[k][j] = 1
			}
		}
	}
	outMask = make([][]float32, len(in))
	for i, di := range in {
		outMask[i] = make([]float32, len(hidden))
		for k, dk := range hidden {
			if di > dk {
				outMask[i][k] = 1
			}
		}
	}
	return inMask, outMask
}

// IAFStep is one step of the flow: a MADE with one hidden layer of ELUs
// that also sees the context,
//
//	a = ELU(made_in(z) + ctx(h)),  m = made_m(a),  s = made_s(a) + 2,
//
// and z' = sigma*z + (1-sigma)*m with sigma = sigmoid(s). The context
// reaches m and s only through the hidden units, so the first dimension of
// the step's ordering, which sees none of them, gets the output layers'
// biases alone: a learned affine map that depends on neither z nor h. The
// next step's reversed ordering puts it last, where it sees every other
// dimension and h; a flow over one dimension is that affine map only.
type IAFStep struct {
	In    *MaskedLinear  // made_in: z [.., D] -> [.., H]
	Ctx   *layers.Linear // ctx: h [.., C] -> [.., H], no bias (made_in has one)
	M, S  *MaskedLinear  // made_m, made_s: [.., H] -> [.., D]
	Order []int          // degree of each latent dimension (the step's ordering)
}

// NewIAFStep builds a step for d latent dimensions with hidden units and a
// context of ctx values; reverse reverses the ordering (alternate steps
// reverse it, so that every dimension can depend on every other).
func NewIAFStep(p *nn.Path, d, hidden, ctx int64, reverse bool) (*IAFStep, error) {
	if d <= 0 || hidden <= 0 || ctx <= 0 {
		return nil, fmt.Errorf("iaf step %v: sizes must be positive, got d=%d hidden=%d ctx=%d", p.Paths(), d, hidden, ctx)
	}
	degIn, degH := madeDegrees(int(d), int(hidden), reverse)
	inMask, outMask := madeMasks(degIn, degH)
	s := &IAFStep{Order: degIn}
	var err error
	if s.In, err = NewMaskedLinear(p.Sub("made_in"), inMask); err != nil {
		return nil, err
	}
	if s.Ctx, err = layers.NewLinear(p.Sub("ctx"), ctx, hidden, false); err != nil {
		return nil, err
	}
	if s.M, err = NewMaskedLinear(p.Sub("made_m"), outMask); err != nil {
		return nil, err
	}
	if s.S, err = NewMaskedLinear(p.Sub("made_s"), outMask); err != nil {
		return nil, err
	}
	return s, nil
}

// Forward maps z [.., D] with context h [.., C] to z' [.., D] and log sigma
// [.., D], whose sum over the last dimension is log|det dz'/dz|.
func (s *IAFStep) Forward(z, h *ts.Tensor) (zNew, logSigma *ts.Tensor, err error) {
	var sc scope
	defer sc.drop()
	a, err := sc.add(s.In.Forward(z)) // [.., H]
	if err != nil {
		return nil, nil, fmt.Errorf("iaf step: %w", err)
	}
	c, err := sc.add(s.Ctx.Forward(h)) // [.., H]
	if err != nil {
		return nil, nil, fmt.Errorf("iaf step: %w", err)
	}
	if a, err = sc.add(a.Add(c, false)); err != nil {
		return nil, nil, fmt.Errorf("iaf step: %w", err)
	}
	if a, err = sc.add(a.Elu(false)); err != nil {
		return nil, nil, fmt.Errorf("iaf step: %w", err)
	}
	m, err := sc.add(s.M.Forward(a)) // [.., D]
	if err != nil {
		return nil, nil, fmt.Errorf("iaf step: %w", err)
	}
	sRaw, err := sc.add(s.S.Forward(a)) // [.., D]
	if err != nil {
		return nil, nil, fmt.Errorf("iaf step: %w", err)
	}
	gate, err := sc.add(tensors.AddScalar(sRaw, iafForgetBias, false))
	if err != nil {
		return nil, nil, fmt.Errorf("iaf step: %w", err)
	}
	sigma, err := sc.add(gate.Sigmoid(false))
	if err != nil {
		return nil, nil, fmt.Errorf("iaf step: %w", err)
	}
	// z' = m + sigma*(z - m), the same as sigma*z + (1-sigma)*m.
	diff, err := sc.add(z.Sub(m, false))
	if err != nil {
		return nil, nil, fmt.Errorf("iaf step: %w", err)
	}
	scaled, err := sc.add(diff.Mul(sigma, false))
	if err != nil {
		return nil, nil, fmt.Errorf("iaf step: %w", err)
	}
	if zNew, err = scaled.Add(m, false); err != nil {
		return nil, nil, fmt.Errorf("iaf step: %w", err)
	}
	if logSigma, err = gate.LogSigmoid(false); err != nil {
		zNew.MustDrop()
		return nil, nil, fmt.Errorf("iaf step: %w", err)
	}
	return zNew, logSigma, nil
}

// IAF is a sequence of steps whose orderings alternate.
type IAF struct {
	Steps []*IAFStep
}

// NewIAF builds steps IAF steps (p.0, p.1, ...); step i reverses the
// ordering when i is odd.
func NewIAF(p *nn.Path, steps int, d, hidden, ctx int64) (*IAF, error) {
	f := &IAF{}
	for i := range steps {
		s, err := NewIAFStep(p.Sub(fmt.Sprint(i)), d, hidden, ctx, i%2 == 1)
		if err != nil {
			return nil, err
		}
		f.Steps = append(f.Steps, s)
	}
	return f, nil
}

// Forward runs z [.., D] through every step with context h and returns the
// last z' and the sum over the steps of log sigma [.., D] (its sum over the
// last dimension is the flow's log|det|). With no steps it returns a
// shallow copy of z and zeros.
func (f *IAF) Forward(z, h *ts.Tensor) (zOut, logDet *ts.Tensor, err error) {
	if zOut, err = z.ShallowClone(); err != nil {
		return nil, nil, err
	}
	if logDet, err = z.ZerosLike(false); err != nil {
		zOut.MustDrop()
		return nil, nil, err
	}
	for _, s := range f.Steps {
		next, ls, err := s.Forward(zOut, h)
		zOut.MustDrop()
		if err != nil {
			logDet.MustDrop()
			return nil, nil, err
		}
		zOut = next
		sum, err := logDet.Add(ls, true) // frees the running sum
		ls.MustDrop()
		if err != nil {
			zOut.MustDrop()
			return nil, nil, err
		}
		logDet = sum
	}
	return zOut, logDet, nil
}
