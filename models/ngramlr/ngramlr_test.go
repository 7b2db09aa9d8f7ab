package ngramlr

import (
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/torch/npz"
	"torchlab/torch/reference"
	"torchlab/torch/tensors"
	"torchlab/torch/torchrt"
)

// parityTol bounds |Go - PyTorch| for the features, log-probabilities, loss
// and gradients, all of magnitude about 1 or below: float32 sums of at
// most a few dozen terms, in another order on each side.
const parityTol = 1e-5

// parityTweets are the test's inputs: an emoticon, a repeated n-gram, a
// tweet shorter than the longest n-gram, one of a single character.
var parityTweets = []string{"I love this :)", "so so so bad", "meh", "!", "@user http://x.y #tag 2024"}

// goSide is what the Go model gives on the parity inputs.
type goSide struct {
	features, logp, grad []float64
	loss                 float64
}

// run evaluates m on seqs and labels: features (dense, [B, buckets]),
// log-probabilities, mean NLL and its gradient (weight then bias).
func run(t *testing.T, m *Model, seqs [][]uint8, labels []int64) goSide {
	t.Helper()
	var g goSide
	for _, s := range seqs {
		row := make([]float64, m.cfg.Buckets)
		idx, val := m.cfg.Features(s)
		for i, b := range idx {
			row[b] = float64(val[i])
		}
		g.features = append(g.features, row...)
	}
	b, err := m.NewBatch(seqs)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Drop()
	y, err := tensors.FromInt64(labels, int64(len(labels)))
	if err != nil {
		t.Fatal(err)
	}
	defer y.MustDrop()
	for _, p := range []*ts.Tensor{m.fc.Weight, m.fc.Bias} {
		if g := p.MustGrad(false); g.MustDefined() {
			g.MustZero_()
		}
	}
	logp, err := m.ForwardT(b, true)
	if err != nil {
		t.Fatal(err)
	}
	defer logp.MustDrop()
	loss, err := Loss(logp, y)
	if err != nil {
		t.Fatal(err)
	}
	defer loss.MustDrop()
	if err := loss.Backward(); err != nil {
		t.Fatal(err)
	}
	lp, err := tensors.Float32s(logp)
	if err != nil {
		t.Fatal(err)
	}
	g.logp = reference.Widen(lp)
	if g.loss, err = tensors.Scalar(loss); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*ts.Tensor{m.fc.Weight, m.fc.Bias} {
		v, err := tensors.Float32s(p.MustGrad(false))
		if err != nil {
			t.Fatal(err)
		}
		g.grad = append(g.grad, reference.Widen(v)...)
	}
	return g
}

// TestParityWithPyTorch: with the same weights and tweets, the model gives
// PyTorch's hashed features, log-probabilities, mean NLL and gradients
// (scripts/reference/ngram_tweets.py); the same model with the sign of its
// weights flipped does not, so the comparison can fail.
func TestParityWithPyTorch(t *testing.T) {
	torchrt.Lock()
	if err := torchrt.ManualSeed(3); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Buckets: 512, MinN: 1, MaxN: 4, Classes: 2}
	vs := nn.NewVarStore(gotch.CPU)
	m, err := New(vs.Root(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Weights 10x PyTorch's initialisation, so that the log-probabilities
	// are far from log(1/2) and a wrong feature shows.
	if err := torchrt.NoGrad(func() error { return m.fc.Weight.MulScalar_(ts.FloatScalar(10)) }); err != nil {
		t.Fatal(err)
	}
	seqs := make([][]uint8, len(parityTweets))
	maxLen := 0
	for i, s := range parityTweets {
		seqs[i] = []uint8(s)
		maxLen = max(maxLen, len(s))
	}
	codes := make([]int64, len(seqs)*maxLen)
	lengths := make([]int64, len(seqs))
	for i, s := range seqs {
		for j, c := range s {
			codes[i*maxLen+j] = int64(c)
		}
		lengths[i] = int64(len(s))
	}
	labels := []int64{1, 0, 0, 1, 1}
	in := map[string]npz.Array{"codes": npz.Int64(codes, len(seqs), maxLen), "lengths": npz.Int64(lengths, len(seqs)),
		"labels": npz.Int64(labels, len(seqs))}
	for name, p := range map[string]*ts.Tensor{"fc.weight": m.fc.Weight, "fc.bias": m.fc.Bias} {
		if in[name], err = tensors.ToArray(p); err != nil {
			t.Fatal(err)
		}
	}
	ref := reference.Run(t, "ngram_tweets.py", in, "forward", "--buckets", "512", "--min-n", "1", "--max-n", "4")

	got := run(t, m, seqs, labels)
	reference.AssertClose(t, "features", got.features, ref["features"].Floats(), parityTol)
	reference.AssertClose(t, "log-probs", got.logp, ref["logp"].Floats(), parityTol)
	reference.AssertClose(t, "loss", []float64{got.loss}, ref["loss"].Floats(), parityTol)
	reference.AssertClose(t, "gradients", got.grad, append(ref["grad.fc.weight"].Floats(), ref["grad.fc.bias"].Floats()...), parityTol)

	if err := torchrt.NoGrad(func() error { return m.fc.Weight.MulScalar_(ts.FloatScalar(-1)) }); err != nil {
		t.Fatal(err)
	}
	flipped := run(t, m, seqs, labels)
	d, err := reference.Compare(flipped.logp, ref["logp"].Floats(), 1e-12)
	if err != nil || d.MaxAbs <= parityTol {
		t.Errorf("weights of the opposite sign: log-probs within %.3g of PyTorch's (%v); the comparison cannot fail", d.MaxAbs, err)
	}
}

// TestFeatures: a tweet's features have unit length and one entry per
// distinct bucket; a tweet shorter than MinN has none; Bucket is FNV-1a
// over the length and the bytes.
func TestFeatures(t *testing.T) {
	cfg := Config{Buckets: 1 << 18, MinN: 1, MaxN: 4, Classes: 2}
	idx, val := cfg.Features([]uint8("abab"))
	// 1-grams a, b; 2-grams ab, ba; 3-grams aba, bab; 4-gram abab: 7
	// distinct n-grams (ab twice), so 7 buckets barring a collision.
	if len(idx) != 7 || len(val) != 7 {
		t.Fatalf("%d buckets, want 7: %v", len(idx), idx)
	}
	var norm float64
	for i, v := range val {
		norm += float64(v) * float64(v)
		if i > 0 && idx[i] <= idx[i-1] {
			t.Errorf("buckets not increasing: %v", idx)
		}
	}
	if norm < 1-1e-6 || norm > 1+1e-6 {
		t.Errorf("squared length %v, want 1", norm)
	}
	if idx, _ := (Config{Buckets: 8, MinN: 2, MaxN: 3, Classes: 2}).Features([]uint8("a")); len(idx) != 0 {
		t.Errorf("a 1-character tweet with 2- and 3-grams: buckets %v, want none", idx)
	}
	// FNV-1a of the bytes {1, 'a'}: offset basis, xor and multiply twice.
	prime := uint32(16777619)
	h := (uint32(2166136261) ^ 1) * prime
	h = (h ^ 'a') * prime
	if got := Bucket([]uint8("a"), 1<<32); got != int64(h) {
		t.Errorf("Bucket(a) = %d, want %d", got, h)
	}
}
