package vae

import (
	"errors"
	"fmt"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/torch/layers"
	"torchlab/torch/tensors"
)

// The resnet-iaf architecture: the IAF paper's ResNet VAE (Kingma et al.
// 2016, section 6 and appendix) cut to two stochastic groups on the
// resnet's blocks.
//
//	bottom-up   x -> blocks 0-2 -> e2 [128, S/8, S/8] -> blocks 3-4 -> e4 [512, S/32, S/32]
//	group 1     global z1 [ZDim]: q from e4 (up1), prior N(0, I)
//	top-down    z1 -> fc -> [512, S/32] -> up blocks 0-1 -> h [128, S/8, S/8]
//	group 2     spatial z2 [SpatialZ, S/8, S/8]: prior N(pm, pv) from h (down2);
//	            q's mean and log-variance are the sums of a bottom-up part
//	            (up2 on e2) and a top-down part (down2 on h), its IAF context
//	            the sum of both parts' contexts: prior and posterior share the
//	            top-down path (the paper's bidirectional inference)
//	decoder     ReLU(merge(h ++ z2)) -> up blocks 2-4 -> out conv [C*params, S, S]
//
// A conditional model (Config.Conditional) appends the one-hot class to
// the encoder's flat features before up1 (so q(z1|x, c)) and conditions
// every decoder block on it by FiLM (Perez et al. 2018): after the
// linear fc, each up block and merge, h <- h*(1 + gamma) + beta per
// channel, with (gamma, beta) a linear map of the class (decoder.film.i).
// Every stage from z1 to the image sees the class, so the decoder cannot
// ignore it the way it can a class appended only to z.
//
// Each group's posterior sample is z0 = mu + exp(logvar/2)*eps, then
// IAFSteps steps of inverse autoregressive flow with the group's context
// (over the ZDim values of z1, and over the SpatialZ channels at each pixel
// of z2). The IAF posterior has no closed-form KL: the model returns the
// one-sample estimate log q(z|x) - log p(z) per example and latent channel
// (Output.KL), whose batch means free bits floor.

// Sizes of the IAF networks: hidden units and context values per group.
const (
	iafHidden1, iafCtx1 = 64, 32 // global group
	iafHidden2, iafCtx2 = 32, 16 // spatial group, per pixel
	// iafMid is the channels of the top-down path where z2 lives (the
	// resnet decoder's after its second block).
	iafMid = 128
)

// HierVAE is the resnet-iaf model: a ResNet VAE with a global and a spatial
// latent group, top-down inference and IAF posteriors.
type HierVAE struct {
	Encoder []*resBlock    // encoder.blocks.0-4: bottom-up, 3 -> 32 ... 512
	Up1     *layers.Linear // up1: e4 -> mu1, logvar1, context 1
	Up2     *layers.Conv2d // up2: e2 -> bottom-up mu2, logvar2, context 2
	IAF1    *IAF           // iaf1
	IAF2    *IAF           // iaf2
	Fc      *layers.Linear // decoder.fc: z1 -> [512, S/32, S/32]
	Top     []*resBlock    // decoder.blocks.0-1: 512 -> 256 -> 128
	Down2   *layers.Conv2d // down2: h -> prior mean, prior logvar, q mean, q logvar, context 2
	Merge   *layers.Conv2d // decoder.merge: h ++ z2 -> 128
	Bottom  []*resBlock    // decoder.blocks.2-4: 128 -> 64 -> 32 -> 32
	Out     *layers.Conv2d // decoder.out: 32 -> C * params per channel
	// Film are a conditional model's FiLM maps, class -> (gamma, beta) of
	// the stage's channels (decoder.film.0-6: after fc, the five up blocks
	// and merge, in the order h passes them); nil when unconditional.
	Film   []*layers.Linear
	Config Config
}

// newHierVAE builds the resnet-iaf model under p (cfg has its defaults and
// passed Check).
func newHierVAE(p *nn.Path, cfg Config) (*HierVAE, error) {
	m := &HierVAE{Config: cfg}
	z, c2 := cfg.ZDim, cfg.SpatialZ
	s0 := cfg.ImageSize >> len(convWidths)
	top := convWidths[len(convWidths)-1]
	enc, dec := p.Sub("encoder").Sub("blocks"), p.Sub("decoder")
	in := cfg.Channels
	var err error
	wrap := func(err error) error { return fmt.Errorf("resnet-iaf: %w", err) }
	for i, out := range convWidths {
		b, err := newResBlock(enc.Sub(fmt.Sprint(i)), in, out, false)
		if err != nil {
			return nil, wrap(err)
		}
		m.Encoder = append(m.Encoder, b)
		in = out
	}
	if m.Up1, err = layers.NewLinear(p.Sub("up1"), top*s0*s0+cfg.condDim(), 2*z+iafCtx1, true); err != nil {
		return nil, wrap(err)
	}
	if m.Up2, err = layers.NewConv2d(p.Sub("up2"), convWidths[2], 2*c2+iafCtx2, 3, layers.ConvConfig{Padding: 1}); err != nil {
		return nil, wrap(err)
	}
	if m.IAF1, err = NewIAF(p.Sub("iaf1"), int(cfg.IAFSteps), z, iafHidden1, iafCtx1); err != nil {
		return nil, wrap(err)
	}
	if m.IAF2, err = NewIAF(p.Sub("iaf2"), int(cfg.IAFSteps), c2, iafHidden2, iafCtx2); err != nil {
		return nil, wrap(err)
	}
	if m.Fc, err = layers.NewLinear(dec.Sub("fc"), z, top*s0*s0, true); err != nil {
		return nil, wrap(err)
	}
	widths := []int64{256, iafMid, 64, 32, 32}
	in = top
	for i, out := range widths {
		b, err := newResBlock(dec.Sub("blocks").Sub(fmt.Sprint(i)), in, out, true)
		if err != nil {
			return nil, wrap(err)
		}
		if i < 2 {
			m.Top = append(m.Top, b)
		} else {
			m.Bottom = append(m.Bottom, b)
		}
		in = out
	}
	if m.Down2, err = layers.NewConv2d(p.Sub("down2"), iafMid, 4*c2+iafCtx2, 3, layers.ConvConfig{Padding: 1}); err != nil {
		return nil, wrap(err)
	}
	if m.Merge, err = layers.NewConv2d(dec.Sub("merge"), iafMid+c2, iafMid, 3, layers.ConvConfig{Padding: 1}); err != nil {
		return nil, wrap(err)
	}
	if cfg.Conditional {
		// Stages in the order h passes them: fc, blocks 0-1, merge, blocks 2-4.
		for i, c := range []int64{top, 256, iafMid, iafMid, 64, 32, 32} {
			f, err := layers.NewLinear(dec.Sub("film").Sub(fmt.Sprint(i)), cfg.NumClasses, 2*c, true)
			if err != nil {
				return nil, wrap(err)
			}
			m.Film = append(m.Film, f)
		}
	}
	outC := cfg.Channels * cfg.likelihood().paramsPerChannel()
	if m.Out, err = layers.NewConv2d(dec.Sub("out"), in, outC, 3, layers.ConvConfig{Padding: 1}); err != nil {
		return nil, wrap(err)
	}
	return m, nil
}

// spatialSide is the side of the spatial latent z2: S/8.
func (c Config) spatialSide() int64 { return c.ImageSize / 8 }

// LatentGroup is one stochastic layer of a model.
type LatentGroup struct {
	Name     string // z1, z2 (or z for a one-group model)
	Channels int64  // free-bits groups: dimensions of a flat latent, channels of a spatial one
	Side     int64  // 1 for a flat latent, the side of a spatial one
}

// LatentGroups lists the model's stochastic layers, top first; Output.KL
// has one column per channel of each, in this order.
func (c Config) LatentGroups() []LatentGroup {
	if c.Arch != "resnet-iaf" {
		return []LatentGroup{{Name: "z", Channels: c.ZDim, Side: 1}}
	}
	return []LatentGroup{{Name: "z1", Channels: c.ZDim, Side: 1}, {Name: "z2", Channels: c.SpatialZ, Side: c.spatialSide()}}
}

// NoiseDim is the length of one example's noise (Input.Eps): every latent
// value of every group; for resnet-iaf z1's ZDim values, then z2's laid out
// [S/8, S/8, SpatialZ] (channels last).
func (c Config) NoiseDim() int64 {
	n := int64(0)
	for _, g := range c.LatentGroups() {
		n += g.Channels * g.Side * g.Side
	}
	return n
}

// ForwardT encodes x bottom-up, samples z1 and z2 top-down and decodes.
// eps [N, NoiseDim] may be nil (drawn from N(0, I)); cond is the one-hot
// class [N, NumClasses] of a conditional model, nil otherwise.
func (m *HierVAE) ForwardT(x, cond, eps *ts.Tensor, train bool) (Output, error) {
	out, err := m.forward(x, cond, eps, train)
	if err != nil {
		return Output{}, fmt.Errorf("vae resnet-iaf forward: %w", err)
	}
	return out, nil
}

// film applies stage i's FiLM to h [N, C, H, W] (h itself when the model
// is unconditional); the result stays in sc.
func (m *HierVAE) film(sc *scope, i int, h, cond *ts.Tensor) (*ts.Tensor, error) {
	if m.Film == nil {
		return h, nil
	}
	gb, err := sc.add(m.Film[i].Forward(cond)) // [N, 2C]
	if err != nil {
		return nil, err
	}
	if gb, err = sc.add(gb.Unsqueeze(-1, false)); err != nil {
		return nil, err
	}
	if gb, err = sc.add(gb.Unsqueeze(-1, false)); err != nil { // [N, 2C, 1, 1]
		return nil, err
	}
	shape, err := gb.Size()
	if err != nil {
		return nil, err
	}
	c := shape[1] / 2
	parts, err := splitLast(sc, gb, 1, c, c)
	if err != nil {
		return nil, err
	}
	scale, err := sc.add(tensors.AddScalar(parts[0], 1, false)) // 1 + gamma
	if err != nil {
		return nil, err
	}
	out, err := sc.add(h.Mul(scale, false))
	if err != nil {
		return nil, err
	}
	return sc.add(out.Add(parts[1], false))
}

func (m *HierVAE) forward(x, cond, eps *ts.Tensor, train bool) (Output, error) {
	var sc scope
	defer sc.drop()
	cfg := m.Config
	n, err := batchSize(x)
	if err != nil {
		return Output{}, err
	}
	z, c2, side := cfg.ZDim, cfg.SpatialZ, cfg.spatialSide()
	if eps == nil {
		if eps, err = sc.add(ts.Randn([]int64{n, cfg.NoiseDim()}, gotch.Float, gotch.CPU)); err != nil {
			return Output{}, err
		}
	}
	// Bottom-up.
	h := x
	var e2 *ts.Tensor
	for i, b := range m.Encoder {
		if h, err = sc.add(b.ForwardT(h, train)); err != nil {
			return Output{}, err
		}
		if i == 2 {
			e2 = h // [N, 128, S/8, S/8]
		}
	}
	flat, err := sc.add(h.Flatten(1, -1, false)) // [N, 512*(S/32)^2]
	if err != nil {
		return Output{}, err
	}
	if cond != nil {
		if flat, err = sc.add(ts.Cat([]*ts.Tensor{flat, cond}, 1)); err != nil { // [N, 512*(S/32)^2 + K]
			return Output{}, err
		}
	}
	up1, err := sc.add(m.Up1.Forward(flat)) // [N, 2z + ctx1]
	if err != nil {
		return Output{}, err
	}
	parts, err := splitLast(&sc, up1, 1, z, z, iafCtx1)
	if err != nil {
		return Output{}, err
	}
	mu1, lv1, ctx1 := parts[0], parts[1], parts[2]
	eps1, err := sc.add(eps.Narrow(1, 0, z, false)) // [N, z]
	if err != nil {
		return Output{}, err
	}
	z1, kl1, err := sampleGroup(&sc, m.IAF1, mu1, lv1, ctx1, eps1, nil, nil) // [N, z] each
	if err != nil {
		return Output{}, fmt.Errorf("z1: %w", err)
	}
	if h, err = m.topDown(&sc, z1, cond, train); err != nil { // [N, 128, S/8, S/8]
		return Output{}, err
	}
	bu, err := sc.add(m.Up2.Forward(e2)) // [N, 2c2 + ctx2, S/8, S/8]
	if err != nil {
		return Output{}, err
	}
	td, err := sc.add(m.Down2.Forward(h)) // [N, 4c2 + ctx2, S/8, S/8]
	if err != nil {
		return Output{}, err
	}
	// Channels last, so that the IAF runs over the channels of each pixel.
	if bu, err = sc.add(bu.Permute([]int64{0, 2, 3, 1}, false)); err != nil { // [N, S/8, S/8, 2c2 + ctx2]
		return Output{}, err
	}
	if td, err = sc.add(td.Permute([]int64{0, 2, 3, 1}, false)); err != nil { // [N, S/8, S/8, 4c2 + ctx2]
		return Output{}, err
	}
	b, err := splitLast(&sc, bu, 3, c2, c2, iafCtx2)
	if err != nil {
		return Output{}, err
	}
	d, err := splitLast(&sc, td, 3, c2, c2, c2, c2, iafCtx2)
	if err != nil {
		return Output{}, err
	}
	pmu, plv := d[0], d[1]
	var q [3]*ts.Tensor // mean, log-variance, context: bottom-up + top-down
	for i, pair := range [][2]*ts.Tensor{{b[0], d[2]}, {b[1], d[3]}, {b[2], d[4]}} {
		if q[i], err = sc.add(pair[0].Add(pair[1], false)); err != nil {
			return Output{}, err
		}
	}
	eps2, err := sc.add(eps.Narrow(1, z, c2*side*side, false))
	if err != nil {
		return Output{}, err
	}
	if eps2, err = sc.add(eps2.Reshape([]int64{n, side, side, c2}, false)); err != nil {
		return Output{}, err
	}
	z2, kl2, err := sampleGroup(&sc, m.IAF2, q[0], q[1], q[2], eps2, pmu, plv) // [N, S/8, S/8, c2] each
	if err != nil {
		return Output{}, fmt.Errorf("z2: %w", err)
	}
	kl2c, err := sc.add(kl2.SumDimIntlist([]int64{1, 2}, false, gotch.Float, false)) // [N, c2]
	if err != nil {
		return Output{}, err
	}
	if z2, err = sc.add(z2.Permute([]int64{0, 3, 1, 2}, false)); err != nil { // [N, c2, S/8, S/8]
		return Output{}, err
	}
	logits, err := m.decodeFrom(&sc, h, z2, cond, train) // [N, C*params, S, S]
	if err != nil {
		return Output{}, err
	}
	kl, err := ts.Cat([]*ts.Tensor{kl1, kl2c}, 1) // [N, z + c2]
	if err != nil {
		logits.MustDrop()
		return Output{}, err
	}
	mu, err1 := mu1.Contiguous(false)
	lv, err2 := lv1.Contiguous(false)
	if err := errors.Join(err1, err2); err != nil {
		for _, t := range []*ts.Tensor{logits, kl, mu, lv} {
			if t != nil {
				t.MustDrop()
			}
		}
		return Output{}, fmt.Errorf("copy z1's parameters: %w", err)
	}
	return Output{Logits: logits, Mu: mu, Logvar: lv, KL: kl}, nil
}

// topDown maps z1 [N, z] to the top-down path at z2's side, h [N, 128,
// S/8, S/8] (in sc).
func (m *HierVAE) topDown(sc *scope, z1, cond *ts.Tensor, train bool) (*ts.Tensor, error) {
	top := convWidths[len(convWidths)-1]
	s0 := m.Config.ImageSize >> len(convWidths)
	h, err := sc.add(m.Fc.Forward(z1))
	if err != nil {
		return nil, err
	}
	if h, err = sc.add(h.View([]int64{-1, top, s0, s0}, false)); err != nil { // [N, 512, S/32, S/32]
		return nil, err
	}
	if h, err = m.film(sc, 0, h, cond); err != nil {
		return nil, err
	}
	for i, b := range m.Top {
		if h, err = sc.add(b.ForwardT(h, train)); err != nil { // S/16, then S/8
			return nil, err
		}
		if h, err = m.film(sc, 1+i, h, cond); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// decodeFrom merges z2 [N, c2, S/8, S/8] into the top-down path h and
// returns the decoder output [N, C*params, S, S] (not in sc).
func (m *HierVAE) decodeFrom(sc *scope, h, z2, cond *ts.Tensor, train bool) (*ts.Tensor, error) {
	hz, err := sc.add(ts.Cat([]*ts.Tensor{h, z2}, 1)) // [N, 128 + c2, S/8, S/8]
	if err != nil {
		return nil, err
	}
	if h, err = sc.add(m.Merge.Forward(hz)); err != nil { // [N, 128, S/8, S/8]
		return nil, err
	}
	if h, err = sc.add(h.Relu(false)); err != nil {
		return nil, err
	}
	if h, err = m.film(sc, 3, h, cond); err != nil {
		return nil, err
	}
	for i, b := range m.Bottom {
		if h, err = sc.add(b.ForwardT(h, train)); err != nil { // side doubles: S/4, S/2, S
			return nil, err
		}
		if h, err = m.film(sc, 4+i, h, cond); err != nil {
			return nil, err
		}
	}
	return m.Out.Forward(h)
}

// SamplePrior draws n samples from the model's prior in eval mode, z1 ~
// N(0, I) and z2 ~ p(z2|z1), and returns their decoder outputs [n,
// C*params, S, S] (Mean turns them into images); cond is the one-hot class
// [n, NumClasses] of a conditional model, nil otherwise.
func (m *HierVAE) SamplePrior(n int64, cond *ts.Tensor) (*ts.Tensor, error) {
	out, err := m.samplePrior(n, cond)
	if err != nil {
		return nil, fmt.Errorf("vae resnet-iaf prior sample: %w", err)
	}
	return out, nil
}

func (m *HierVAE) samplePrior(n int64, cond *ts.Tensor) (*ts.Tensor, error) {
	var sc scope
	defer sc.drop()
	c2 := m.Config.SpatialZ
	z1, err := sc.add(ts.Randn([]int64{n, m.Config.ZDim}, gotch.Float, gotch.CPU))
	if err != nil {
		return nil, err
	}
	h, err := m.topDown(&sc, z1, cond, false) // [n, 128, S/8, S/8]
	if err != nil {
		return nil, err
	}
	td, err := sc.add(m.Down2.Forward(h)) // [n, 4c2 + ctx2, S/8, S/8]; the prior's are the first 2c2
	if err != nil {
		return nil, err
	}
	p, err := splitLast(&sc, td, 1, c2, c2)
	if err != nil {
		return nil, err
	}
	z2, err := sc.add(Reparameterize(p[0], p[1], nil)) // [n, c2, S/8, S/8]
	if err != nil {
		return nil, err
	}
	return m.decodeFrom(&sc, h, z2, cond, false)
}

// SamplePrior draws n decoder outputs from a resnet-iaf model's prior (cond
// as in ForwardT; nil for an unconditional model or an unknown class);
// other architectures decode z ~ N(0, I) with Decode.
func (m *VAE) SamplePrior(n int64, cond *ts.Tensor) (*ts.Tensor, error) {
	if m.Hier == nil {
		return nil, fmt.Errorf("vae: SamplePrior is resnet-iaf's; decode z ~ N(0, I) with Decode")
	}
	if cond == nil && m.Config.Conditional {
		var err error
		if cond, err = ts.Zeros([]int64{n, m.Config.NumClasses}, gotch.Float, gotch.CPU); err != nil {
			return nil, err
		}
		defer cond.MustDrop()
	}
	if err := m.checkClass(cond, cond); err != nil { // the class vector's own shape
		return nil, err
	}
	if cond != nil {
		s, err := cond.Size()
		if err != nil {
			return nil, fmt.Errorf("vae: class vector: %w", err)
		}
		if s[0] != n {
			return nil, fmt.Errorf("vae: class vector shape %v for %d samples", s, n)
		}
	}
	return m.Hier.SamplePrior(n, cond)
}

// splitLast narrows t along dim into consecutive parts of the given sizes
// (kept in sc).
func splitLast(sc *scope, t *ts.Tensor, dim int64, sizes ...int64) ([]*ts.Tensor, error) {
	var out []*ts.Tensor
	at := int64(0)
	for _, s := range sizes {
		p, err := sc.add(t.Narrow(dim, at, s, false))
		if err != nil {
			return nil, err
		}
		out = append(out, p)
		at += s
	}
	return out, nil
}

// sampleGroup draws z = flow(mu + exp(logvar/2)*eps; ctx) for parameters
// laid out [.., D] and returns z and the one-sample estimate of
// log q(z|x) - log p(z) per element (its sum over a group's elements is
// that group's; the log 2pi terms cancel):
//
//	log q = -0.5 eps^2 - 0.5 logvar - sum of the steps' log sigma
//	log p = -0.5 (z - pmu)^2 exp(-plv) - 0.5 plv   (pmu, plv nil: N(0, I))
//
// Every tensor it makes stays in sc.
func sampleGroup(sc *scope, flow *IAF, mu, logvar, ctx, eps, pmu, plv *ts.Tensor) (z, kl *ts.Tensor, err error) {
	z0, err := sc.add(Reparameterize(mu, logvar, eps))
	if err != nil {
		return nil, nil, err
	}
	zt, ld, err := flow.Forward(z0, ctx)
	if err != nil {
		return nil, nil, err
	}
	sc.add(zt, nil)
	sc.add(ld, nil)
	// 2 log q = -eps^2 - logvar - 2 ld
	e2, err := sc.add(eps.Square(false))
	if err != nil {
		return nil, nil, err
	}
	lq, err := sc.add(e2.Add(logvar, false))
	if err != nil {
		return nil, nil, err
	}
	ld2, err := sc.add(tensors.MulScalar(ld, 2, false))
	if err != nil {
		return nil, nil, err
	}
	if lq, err = sc.add(lq.Add(ld2, false)); err != nil { // -2 log q
		return nil, nil, err
	}
	// -2 log p = (z - pmu)^2 exp(-plv) + plv
	diff := zt
	if pmu != nil {
		if diff, err = sc.add(zt.Sub(pmu, false)); err != nil {
			return nil, nil, err
		}
	}
	lp, err := sc.add(diff.Square(false))
	if err != nil {
		return nil, nil, err
	}
	if plv != nil {
		negLv, err := sc.add(plv.Neg(false))
		if err != nil {
			return nil, nil, err
		}
		inv, err := sc.add(negLv.Exp(false))
		if err != nil {
			return nil, nil, err
		}
		if lp, err = sc.add(lp.Mul(inv, false)); err != nil {
			return nil, nil, err
		}
		if lp, err = sc.add(lp.Add(plv, false)); err != nil {
			return nil, nil, err
		}
	}
	// log q - log p = 0.5 * ((-2 log p) - (-2 log q))
	d, err := sc.add(lp.Sub(lq, false))
	if err != nil {
		return nil, nil, err
	}
	if kl, err = sc.add(tensors.MulScalar(d, 0.5, false)); err != nil {
		return nil, nil, err
	}
	return zt, kl, nil
}
