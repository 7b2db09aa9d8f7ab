package vae

import (
	"fmt"
	"strings"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/torch/layers"
	"torchlab/torch/tensors"
)

// Architectures accepted by Config.Arch.
var Archs = []string{"mlp", "conv", "resnet", "resnet-iaf"}

// Config is everything needed to rebuild a VAE; checkpoints store it.
type Config struct {
	Arch        string `json:"arch"`        // mlp, conv, resnet or resnet-iaf
	ZDim        int64  `json:"z_dim"`       // latent dimensions (resnet-iaf: of the global group z1)
	ImageSize   int64  `json:"image_size"`  // square input side
	Channels    int64  `json:"channels"`    // 3 for RGB
	Hidden      int64  `json:"hidden"`      // mlp hidden units
	Conditional bool   `json:"conditional"` // encoder and decoder see a one-hot class
	NumClasses  int64  `json:"num_classes"` // length of the one-hot class
	// Likelihood is p(x|z): "" or bernoulli (the assignment's), or
	// logistic (discretised, over 8-bit values; the decoder then outputs a
	// location and a log-scale per channel).
	Likelihood Likelihood `json:"likelihood,omitempty"`
	// SpatialZ is resnet-iaf's channels of the spatial group z2 (at S/8 x
	// S/8); IAFSteps its flow steps per group. Other archs leave them 0.
	SpatialZ int64 `json:"spatial_z,omitempty"`
	IAFSteps int64 `json:"iaf_steps,omitempty"`
}

// WithDefaults fills zero fields: z 32, 64x64 RGB, 512 hidden units.
func (c Config) WithDefaults() Config {
	if c.Arch == "" {
		c.Arch = "conv"
	}
	if c.ZDim == 0 {
		c.ZDim = 32
	}
	if c.ImageSize == 0 {
		c.ImageSize = 64
	}
	if c.Channels == 0 {
		c.Channels = 3
	}
	if c.Hidden == 0 {
		c.Hidden = 512
	}
	if c.Arch == "resnet-iaf" {
		if c.SpatialZ == 0 {
			c.SpatialZ = 4
		}
		if c.IAFSteps == 0 {
			c.IAFSteps = 2
		}
	}
	return c
}

// Check rejects configurations the architectures cannot build.
func (c Config) Check() error {
	switch c.Arch {
	case "mlp":
	case "conv", "resnet", "resnet-iaf":
		// Five stride-2 stages: the side must halve five times exactly.
		if c.ImageSize%32 != 0 {
			return fmt.Errorf("vae: %s needs an image size divisible by 32, got %d", c.Arch, c.ImageSize)
		}
	default:
		return fmt.Errorf("vae: unknown arch %q (want %s)", c.Arch, strings.Join(Archs, ", "))
	}
	if c.ZDim <= 0 || c.ImageSize <= 0 || c.Channels <= 0 || c.Hidden <= 0 {
		return fmt.Errorf("vae: sizes must be positive: %+v", c)
	}
	if _, err := ParseLikelihood(string(c.Likelihood)); err != nil {
		return fmt.Errorf("vae: %w", err)
	}
	if c.Arch == "resnet-iaf" {
		if c.SpatialZ <= 0 || c.IAFSteps < 0 {
			return fmt.Errorf("vae: resnet-iaf needs spatial_z > 0 and iaf_steps >= 0, got %d and %d", c.SpatialZ, c.IAFSteps)
		}
	} else if c.SpatialZ != 0 || c.IAFSteps != 0 {
		return fmt.Errorf("vae: spatial_z and iaf_steps are resnet-iaf's, not %s's", c.Arch)
	}
	if c.Conditional && c.NumClasses <= 0 {
		return fmt.Errorf("vae: a conditional model needs NumClasses > 0, got %d", c.NumClasses)
	}
	return nil
}

// likelihood is the parsed Likelihood (Check has accepted it).
func (c Config) likelihood() Likelihood {
	l, _ := ParseLikelihood(string(c.Likelihood))
	return l
}

// condDim is the length of the class vector the model takes (0 if none).
func (c Config) condDim() int64 {
	if c.Conditional {
		return c.NumClasses
	}
	return 0
}

// Encoder maps images [N, C, S, S] to flat features [N, Features()].
type Encoder interface {
	ForwardT(x *ts.Tensor, train bool) (*ts.Tensor, error)
	Features() int64
}

// Decoder maps latent codes (with the class appended when conditional)
// [N, zIn] to logits [N, C, S, S].
type Decoder interface {
	ForwardT(z *ts.Tensor, train bool) (*ts.Tensor, error)
}

// VAE is an encoder, two linear heads for the mean and log-variance of
// q(z|x), and a decoder; or, for resnet-iaf, the hierarchical model Hier
// (and the other fields nil).
type VAE struct {
	Encoder  Encoder
	FcMu     *layers.Linear
	FcLogvar *layers.Linear
	Decoder  Decoder
	Hier     *HierVAE
	Config   Config
}

// New builds a VAE under p; parameters are named as in the PyTorch
// reference (encoder.*, fc_mu, fc_logvar, decoder.*).
func New(p *nn.Path, cfg Config) (*VAE, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	m := &VAE{Config: cfg}
	var err error
	if cfg.Arch == "resnet-iaf" {
		if m.Hier, err = newHierVAE(p, cfg); err != nil {
			return nil, err
		}
		return m, nil
	}
	enc, dec := p.Sub("encoder"), p.Sub("decoder")
	zIn := cfg.ZDim + cfg.condDim()
	switch cfg.Arch {
	case "mlp":
		m.Encoder, err = newMLPEncoder(enc, cfg)
	case "conv":
		m.Encoder, err = newConvEncoder(enc, cfg)
	case "resnet":
		m.Encoder, err = newResEncoder(enc, cfg)
	}
	if err != nil {
		return nil, err
	}
	feat := m.Encoder.Features() + cfg.condDim()
	if m.FcMu, err = layers.NewLinear(p.Sub("fc_mu"), feat, cfg.ZDim, true); err != nil {
		return nil, err
	}
	if m.FcLogvar, err = layers.NewLinear(p.Sub("fc_logvar"), feat, cfg.ZDim, true); err != nil {
		return nil, err
	}
	// The decoder outputs every parameter of p(x|z) as an image channel.
	dcfg := cfg
	dcfg.Channels = cfg.Channels * cfg.likelihood().paramsPerChannel()
	switch cfg.Arch {
	case "mlp":
		m.Decoder, err = newMLPDecoder(dec, dcfg, zIn)
	case "conv":
		m.Decoder, err = newConvDecoder(dec, dcfg, zIn)
	case "resnet":
		m.Decoder, err = newResDecoder(dec, dcfg, zIn)
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Input is a batch for ForwardT.
type Input struct {
	X     *ts.Tensor // images [N, C, S, S] in [0, 1]
	Class *ts.Tensor // one-hot [N, NumClasses] for a conditional model; nil: unconditional, or class unknown (all zero)
	Eps   *ts.Tensor // noise [N, Config.NoiseDim()] for the reparameterisation; nil draws it from N(0, I) with libtorch's generator
}

// Output is what ForwardT returns; the caller drops it.
type Output struct {
	Logits *ts.Tensor // decoder output: logits [N, C, S, S] (Bernoulli) or locations and log-scales [N, 2C, S, S] (Logistic)
	Mu     *ts.Tensor // mean of q(z|x) [N, z] (resnet-iaf: of z1's Gaussian, before the flow)
	Logvar *ts.Tensor // log-variance of q(z|x) [N, z] (resnet-iaf: as Mu)
	// KL is, when the posterior has no closed-form KL (resnet-iaf), the
	// one-sample estimate of log q(z|x) - log p(z) per example and latent
	// channel [N, K], the channels of Config.LatentGroups in order; nil
	// otherwise (the loss takes the closed form from Mu and Logvar).
	KL *ts.Tensor
}

// Drop frees the output's tensors.
func (o Output) Drop() {
	for _, t := range []*ts.Tensor{o.Logits, o.Mu, o.Logvar, o.KL} {
		if t != nil {
			t.MustDrop()
		}
	}
}

// ForwardT encodes in.X, samples z and decodes it. A conditional model
// given no class gets an all-zero class vector ("unknown"). train selects
// batch statistics in BatchNorm. An input of the wrong shape is an error
// naming the shape wanted.
func (m *VAE) ForwardT(in Input, train bool) (Output, error) {
	if err := m.checkImages(in.X); err != nil {
		return Output{}, err
	}
	if err := m.checkNoise(in.X, in.Eps); err != nil {
		return Output{}, err
	}
	cond := in.Class
	if cond == nil {
		var err error
		if cond, err = m.unknownClass(in.X); err != nil {
			return Output{}, fmt.Errorf("vae forward: %w", err)
		}
		if cond != nil {
			defer cond.MustDrop()
		}
	}
	if m.Hier != nil {
		if err := m.checkClass(in.X, cond); err != nil {
			return Output{}, err
		}
		return m.Hier.ForwardT(in.X, cond, in.Eps, train)
	}
	logits, mu, logvar, err := m.forwardClass(in.X, cond, in.Eps, train)
	if err != nil {
		return Output{}, err
	}
	return Output{Logits: logits, Mu: mu, Logvar: logvar}, nil
}

// forwardClass is ForwardT with positional arguments and a required class
// (one-hot [N, NumClasses] for a conditional model, nil otherwise); eps
// [N, z] may be nil.
func (m *VAE) forwardClass(x, cond, eps *ts.Tensor, train bool) (logits, mu, logvar *ts.Tensor, err error) {
	if err := m.checkImages(x); err != nil {
		return nil, nil, nil, err
	}
	if err := m.checkClass(x, cond); err != nil {
		return nil, nil, nil, err
	}
	if err := m.checkNoise(x, eps); err != nil {
		return nil, nil, nil, err
	}
	if m.Hier != nil {
		return nil, nil, nil, m.errHier("forwardClass")
	}
	return m.forward(x, cond, eps, train)
}

// checkNoise rejects noise that is not [N, NoiseDim] for a batch x (nil
// noise is fine: the model draws it).
func (m *VAE) checkNoise(x, eps *ts.Tensor) error {
	if eps == nil {
		return nil
	}
	n, err := batchSize(x)
	if err != nil {
		return err
	}
	want := []int64{n, m.Config.NoiseDim()}
	if got, err := eps.Size(); err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		return fmt.Errorf("vae: noise shape %v, want %v", got, want)
	}
	return nil
}

// errHier is the error of an operation that assumes one Gaussian latent,
// which resnet-iaf does not have.
func (m *VAE) errHier(op string) error {
	return fmt.Errorf("vae %s: %s assumes one Gaussian latent; resnet-iaf has %d groups with IAF posteriors", op, op, len(m.Config.LatentGroups()))
}

func (m *VAE) forward(x, cond, eps *ts.Tensor, train bool) (logits, mu, logvar *ts.Tensor, err error) {
	mu, logvar, err = m.encode(x, cond, train) // [N, z] each
	if err != nil {
		return nil, nil, nil, fmt.Errorf("vae forward: %w", err)
	}
	dropBoth := func() { mu.MustDrop(); logvar.MustDrop() }
	z, err := Reparameterize(mu, logvar, eps) // [N, z]
	if err != nil {
		dropBoth()
		return nil, nil, nil, fmt.Errorf("vae forward: %w", err)
	}
	defer z.MustDrop()
	if logits, err = m.decode(z, cond, train); err != nil {
		dropBoth()
		return nil, nil, nil, fmt.Errorf("vae forward: %w", err)
	}
	return logits, mu, logvar, nil
}

// Encode returns the mean and log-variance of q(z|x), each [N, z]; cond is
// as in ForwardT.
func (m *VAE) Encode(x, cond *ts.Tensor, train bool) (mu, logvar *ts.Tensor, err error) {
	if err := m.checkImages(x); err != nil {
		return nil, nil, err
	}
	if err := m.checkClass(x, cond); err != nil {
		return nil, nil, err
	}
	if m.Hier != nil {
		return nil, nil, m.errHier("encode")
	}
	if mu, logvar, err = m.encode(x, cond, train); err != nil {
		return nil, nil, fmt.Errorf("vae encode: %w", err)
	}
	return mu, logvar, nil
}

// Decode maps z [N, z] (and the class, as in ForwardT) to the decoder's
// output (Output.Logits); Mean turns it into an image.
func (m *VAE) Decode(z, cond *ts.Tensor, train bool) (*ts.Tensor, error) {
	if err := tensors.CheckShape(z, tensors.Any, m.Config.ZDim); err != nil {
		return nil, fmt.Errorf("vae decode: latent %w", err)
	}
	if err := m.checkClass(z, cond); err != nil {
		return nil, err
	}
	if m.Hier != nil {
		return nil, m.errHier("decode")
	}
	logits, err := m.decode(z, cond, train)
	if err != nil {
		return nil, fmt.Errorf("vae decode: %w", err)
	}
	return logits, nil
}

func (m *VAE) encode(x, cond *ts.Tensor, train bool) (mu, logvar *ts.Tensor, err error) {
	h, err := m.Encoder.ForwardT(x, train) // [N, F]
	if err != nil {
		return nil, nil, err
	}
	defer h.MustDrop()
	hc, err := withClass(h, cond) // [N, F+K]
	if err != nil {
		return nil, nil, err
	}
	if hc != h {
		defer hc.MustDrop()
	}
	if mu, err = m.FcMu.Forward(hc); err != nil {
		return nil, nil, err
	}
	if logvar, err = m.FcLogvar.Forward(hc); err != nil {
		mu.MustDrop()
		return nil, nil, err
	}
	return mu, logvar, nil
}

func (m *VAE) decode(z, cond *ts.Tensor, train bool) (*ts.Tensor, error) {
	zc, err := withClass(z, cond) // [N, z+K]
	if err != nil {
		return nil, err
	}
	if zc != z {
		defer zc.MustDrop()
	}
	return m.Decoder.ForwardT(zc, train) // [N, C, S, S]
}

// Mean is the image [N, C, S, S] in [0, 1] a decoder output stands for
// (Likelihood.Mean); it frees nothing.
func (m *VAE) Mean(decoded *ts.Tensor) (*ts.Tensor, error) {
	return m.Config.likelihood().Mean(decoded, m.Config.Channels)
}

// Loss is the negative ELBO of out for images x with the model's
// likelihood, as the package function Loss is for Bernoulli.
func (m *VAE) Loss(out Output, x *ts.Tensor, beta, freeBits float64) (loss, nll, kl *ts.Tensor, err error) {
	if nll, err = m.Config.likelihood().NLL(out.Logits, x); err != nil {
		return nil, nil, nil, err
	}
	if out.KL != nil {
		loss, kl, err = elboSampled(nll, out.KL, beta, freeBits)
	} else {
		loss, kl, err = elbo(nll, out.Mu, out.Logvar, beta, freeBits)
	}
	if err != nil {
		nll.MustDrop()
		return nil, nil, nil, err
	}
	return loss, nll, kl, nil
}

// checkImages rejects images that are not [N, C, S, S] for the model's
// channels C and image size S.
func (m *VAE) checkImages(x *ts.Tensor) error {
	c, side := m.Config.Channels, m.Config.ImageSize
	if err := tensors.CheckShape(x, tensors.Any, c, side, side); err != nil {
		return fmt.Errorf("vae %s: %w", m.Config.Arch, err)
	}
	return nil
}

// batchSize is x's first dimension.
func batchSize(x *ts.Tensor) (int64, error) {
	shape, err := x.Size()
	if err != nil {
		return 0, err
	}
	if len(shape) == 0 {
		return 0, fmt.Errorf("vae: a batch needs a first dimension, have a scalar")
	}
	return shape[0], nil
}

// unknownClass is the all-zero class vector a conditional model gets when
// the class is not given; nil for an unconditional model.
func (m *VAE) unknownClass(x *ts.Tensor) (*ts.Tensor, error) {
	if !m.Config.Conditional {
		return nil, nil
	}
	n, err := batchSize(x)
	if err != nil {
		return nil, err
	}
	return ts.Zeros([]int64{n, m.Config.NumClasses}, gotch.Float, gotch.CPU)
}

// checkClass validates the class vector given with a batch x.
func (m *VAE) checkClass(x, cond *ts.Tensor) error {
	if !m.Config.Conditional {
		if cond != nil {
			return fmt.Errorf("vae: class vector given to an unconditional model")
		}
		return nil
	}
	if cond == nil {
		return fmt.Errorf("vae: conditional model needs a class vector")
	}
	n, err := batchSize(x)
	if err != nil {
		return err
	}
	if s, err := cond.Size(); err != nil || len(s) != 2 || s[1] != m.Config.NumClasses || s[0] != n {
		return fmt.Errorf("vae: class vector shape %v, want [%d %d]", s, n, m.Config.NumClasses)
	}
	return nil
}

// withClass appends cond to h along dim 1, or returns h when cond is nil.
func withClass(h, cond *ts.Tensor) (*ts.Tensor, error) {
	if cond == nil {
		return h, nil
	}
	return ts.Cat([]*ts.Tensor{h, cond}, 1)
}

// Reparameterize returns z = mu + exp(logvar/2) * eps, drawing eps from
// N(0, I) when it is nil. Gradients flow to mu and logvar, not to eps.
func Reparameterize(mu, logvar, eps *ts.Tensor) (*ts.Tensor, error) {
	half, err := tensors.MulScalar(logvar, 0.5, false)
	if err != nil {
		return nil, fmt.Errorf("reparameterize: %w", err)
	}
	std, err := half.Exp(true) // [N, z]; frees half
	if err != nil {
		return nil, fmt.Errorf("reparameterize: %w", err)
	}
	defer std.MustDrop()
	if eps == nil {
		if eps, err = std.RandnLike(false); err != nil {
			return nil, fmt.Errorf("reparameterize: %w", err)
		}
		defer eps.MustDrop()
	}
	scaled, err := std.Mul(eps, false)
	if err != nil {
		return nil, fmt.Errorf("reparameterize: %w", err)
	}
	z, err := scaled.Add(mu, true) // frees scaled
	if err != nil {
		return nil, fmt.Errorf("reparameterize: %w", err)
	}
	return z, nil
}

// KLByGroup returns the batch-mean KL of each of Config.LatentGroups
// (summed over the group's channels) from a forward pass's output: the
// sample estimate for resnet-iaf, the closed form otherwise.
func (m *VAE) KLByGroup(out Output) ([]float64, error) {
	var perChannel *ts.Tensor
	var err error
	if out.KL != nil {
		perChannel, err = out.KL.MeanDim([]int64{0}, false, gotch.Float, false)
	} else {
		perChannel, err = KLPerDim(out.Mu, out.Logvar)
	}
	if err != nil {
		return nil, fmt.Errorf("kl by group: %w", err)
	}
	v, err := tensors.Float64s(perChannel)
	perChannel.MustDrop()
	if err != nil {
		return nil, fmt.Errorf("kl by group: %w", err)
	}
	var sums []float64
	at := 0
	for _, g := range m.Config.LatentGroups() {
		s := 0.0
		for _, x := range v[at : at+int(g.Channels)] {
			s += x
		}
		sums = append(sums, s)
		at += int(g.Channels)
	}
	return sums, nil
}
