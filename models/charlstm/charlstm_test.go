package charlstm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"

	"torchlab/torch/npz"
	"torchlab/torch/optim"
	"torchlab/torch/reference"
	"torchlab/torch/tensors"
	"torchlab/torch/torchrt"
)

func newModel(t *testing.T, seed int64, cfg Config) (*Model, *nn.VarStore) {
	t.Helper()
	torchrt.Lock()
	torchrt.ManualSeed(seed)
	vs := nn.NewVarStore(gotch.CPU)
	m, err := New(vs.Root(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Drop)
	return m, vs
}

// randomSeqs draws n sequences of 1..maxLen codes below vocab.
func randomSeqs(r *rand.Rand, n, maxLen int, vocab int) [][]uint8 {
	out := make([][]uint8, n)
	for i := range out {
		s := make([]uint8, 1+r.IntN(maxLen))
		for j := range s {
			s[j] = uint8(r.IntN(vocab))
		}
		out[i] = s
	}
	return out
}

func logProbs(t *testing.T, m *Model, b *Batch) []float64 {
	t.Helper()
	var out []float64
	err := torchrt.NoGrad(func() error {
		logp, err := m.ForwardT(b, false)
		if err != nil {
			return err
		}
		defer logp.MustDrop()
		v, err := tensors.Float32s(logp)
		out = npz.Float32(v, len(v)).Floats()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestNewBatch(t *testing.T) {
	m, _ := newModel(t, 1, DefaultConfig())
	b, err := m.NewBatch([][]uint8{{1, 2}, {3, 4, 5}, {6}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Drop()
	codes, _ := tensors.Int64s(b.Codes)
	last, _ := tensors.Int64s(b.Last)
	for _, c := range []struct {
		name      string
		got, want []int64
	}{
		{"codes", codes, []int64{1, 2, 0, 3, 4, 5, 6, 0, 0}},
		{"last", last, []int64{1, 5, 6}},
	} {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if b.Size != 3 || b.Steps != 3 {
		t.Errorf("size %d, steps %d; want 3, 3", b.Size, b.Steps)
	}
	for _, bad := range [][][]uint8{{}, {{1}, {}}, {{200}}} {
		if b, err := m.NewBatch(bad); err == nil {
			b.Drop()
			t.Errorf("NewBatch(%v): want an error", bad)
		}
	}
	if b, err := m.NewBatchPadded([][]uint8{{1, 2}, {3}}, []int{1, 1}); err == nil {
		b.Drop()
		t.Error("NewBatchPadded with ragged rows: want an error")
	}
}

// TestPaddingInvariance appends padding (arbitrary codes) to every tweet of
// a batch and checks that the log-probabilities do not move, while reading
// the LSTM's state after the padding, as a naive padded batch would, does
// move them.
func TestPaddingInvariance(t *testing.T) {
	m, _ := newModel(t, 2, DefaultConfig())
	r := rand.New(rand.NewPCG(1, 2))
	seqs := randomSeqs(r, 7, 15, 128)
	b, err := m.NewBatch(seqs)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Drop()
	want := logProbs(t, m, b)

	padded := make([][]uint8, len(seqs))
	lengths := make([]int, len(seqs))
	for i, s := range seqs {
		padded[i] = append(append([]uint8{}, s...), randomSeqs(r, 1, 1, 128)[0]...)
		for len(padded[i]) < 25 {
			padded[i] = append(padded[i], uint8(r.IntN(128)))
		}
		lengths[i] = len(s)
	}
	pb, err := m.NewBatchPadded(padded, lengths)
	if err != nil {
		t.Fatal(err)
	}
	defer pb.Drop()
	reference.AssertClose(t, "padded batch log-probs", logProbs(t, m, pb), want, 0)

	// The same padded rows read to the end give other predictions, so the
	// comparison above can fail.
	full, err := m.NewBatch(padded)
	if err != nil {
		t.Fatal(err)
	}
	defer full.Drop()
	d, err := reference.Compare(logProbs(t, m, full), want, 1e-12)
	if err != nil {
		t.Fatal(err)
	}
	if d.MaxAbs < 1e-4 {
		t.Errorf("reading the padding changed log-probs by only %.3g: the test cannot tell", d.MaxAbs)
	}

	// Batch order must not matter either: each tweet alone gives its row.
	for i, s := range seqs {
		one, err := m.NewBatch([][]uint8{s})
		if err != nil {
			t.Fatal(err)
		}
		got := logProbs(t, m, one)
		one.Drop()
		reference.AssertClose(t, "single tweet", got, want[2*i:2*i+2], 1e-6)
	}
}

// paddedArrays lays sequences out as PyTorch's padded batch: codes [B, T]
// (padding 0) and lengths [B].
func paddedArrays(seqs [][]uint8, T int) (codes, lengths []int64) {
	codes = make([]int64, len(seqs)*T)
	for i, s := range seqs {
		for j, c := range s {
			codes[i*T+j] = int64(c)
		}
		lengths = append(lengths, int64(len(s)))
	}
	return codes, lengths
}

func weights(t *testing.T, vs *nn.VarStore) map[string]npz.Array {
	t.Helper()
	named, err := tensors.Named(vs)
	if err != nil {
		t.Fatal(err)
	}
	arrays, err := tensors.ToArrays(named)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0", "fc.weight", "fc.bias"} {
		if _, ok := arrays[n]; !ok {
			t.Fatalf("parameter %s missing (have %d)", n, len(arrays))
		}
	}
	return arrays
}

// TestParity compares the model with the plain PyTorch reference (one call
// of the script, which is slow to start): log-probabilities of a padded batch
// within 1e-5, then 20 optimiser steps from the same weights on the same
// batches, whose losses must agree within 1e-4 relative, for Adam and SGD.
func TestParity(t *testing.T) {
	const seed, steps, batch, maxLen = 4, 20, 8, 30
	// Larger rates than the run's 1e-4 make the 20 steps move the loss
	// visibly, so a wrong update cannot hide.
	rates := map[string]float64{"adam": 1e-2, "sgd": 0.5}
	m, vs := newModel(t, seed, DefaultConfig())
	in := weights(t, vs)
	r := rand.New(rand.NewPCG(5, 6))
	var codes, lengths, labels []int64
	batches := make([][][]uint8, steps)
	ys := make([][]int64, steps)
	for s := range batches {
		batches[s] = randomSeqs(r, batch, maxLen, 128)
		c, l := paddedArrays(batches[s], maxLen)
		codes, lengths = append(codes, c...), append(lengths, l...)
		for range batch {
			ys[s] = append(ys[s], int64(r.IntN(2)))
		}
		labels = append(labels, ys[s]...)
	}
	batches[0][0] = []uint8("I love this :)")
	copy(codes, []int64{'I', ' ', 'l', 'o', 'v', 'e', ' ', 't', 'h', 'i', 's', ' ', ':', ')'})
	lengths[0] = 14
	in["codes"] = npz.Int64(codes, steps, batch, maxLen)
	in["lengths"] = npz.Int64(lengths, steps, batch)
	in["labels"] = npz.Int64(labels, steps, batch)
	out := reference.Run(t, "lstm_tweets.py", in, "train",
		"--optimizer", "adam,sgd", "--lr", fmtFloat(rates["adam"])+","+fmtFloat(rates["sgd"]))

	b, err := m.NewBatch(batches[0])
	if err != nil {
		t.Fatal(err)
	}
	defer b.Drop()
	reference.AssertClose(t, "log-probs vs PyTorch", logProbs(t, m, b), out["logp"].Floats(), 1e-5)

	for _, opt := range []string{"adam", "sgd"} {
		t.Run(opt, func(t *testing.T) {
			m, vs := newModel(t, seed, DefaultConfig()) // the same initial weights
			params, err := tensors.Named(vs)
			if err != nil {
				t.Fatal(err)
			}
			o, err := optim.New(optim.Config{Name: opt, LR: rates[opt]}, params)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]float64, steps)
			for s := range got {
				if got[s], err = trainStep(m, o, batches[s], ys[s]); err != nil {
					t.Fatal(err)
				}
			}
			want := out[opt+".losses"].Floats()
			d, err := reference.Compare(got, want, 1e-12)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s losses %.5f -> %.5f; max |diff| %.3g, max rel %.3g", opt, got[0], got[steps-1], d.MaxAbs, d.MaxRel)
			if d.MaxRel > 1e-4 {
				t.Errorf("losses differ by %.3g relative (Go %v, PyTorch %v)", d.MaxRel, got, want)
			}
			if math.Abs(got[steps-1]-got[0]) < 5e-3 {
				t.Errorf("loss hardly moved (%v -> %v): the comparison is weak", got[0], got[steps-1])
			}
			for name, a := range weights(t, vs) {
				reference.AssertClose(t, "weights "+name, a.Floats(), out[opt+".w."+name].Floats(), 1e-4)
			}
		})
	}
}

// TestLossFalls trains on tiny synthetic tweets whose label is the emoticon
// they contain; a few hundred Adam steps must bring the loss well down.
func TestLossFalls(t *testing.T) {
	m, vs := newModel(t, 5, Config{Vocab: 128, Hidden: 16, Classes: 2})
	params, err := tensors.Named(vs)
	if err != nil {
		t.Fatal(err)
	}
	o, err := optim.New(optim.Config{Name: "adam", LR: 1e-2}, params)
	if err != nil {
		t.Fatal(err)
	}
	seqs, labels := emoticons(64, 7)
	first, err := trainStep(m, o, seqs[:16], labels[:16])
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 150; i++ {
		j := (i % 4) * 16
		if _, err := trainStep(m, o, seqs[j:j+16], labels[j:j+16]); err != nil {
			t.Fatal(err)
		}
	}
	loss, acc, err := m.Evaluate(seqs, labels, 10)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loss %.4f -> %.4f, accuracy %.3f", first, loss, acc)
	if loss > 0.5*first || acc < 0.9 {
		t.Errorf("did not learn the emoticons: loss %.4f -> %.4f, accuracy %.3f", first, loss, acc)
	}
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// emoticons makes n short tweets of random lowercase words, each holding
// ":)" (label 1) or ":(" (label 0) at a random place.
func emoticons(n int, seed uint64) ([][]uint8, []int64) {
	r := rand.New(rand.NewPCG(seed, 0))
	seqs := make([][]uint8, n)
	labels := make([]int64, n)
	for i := range seqs {
		labels[i] = int64(i % 2)
		face := map[int64]string{0: ":(", 1: ":)"}[labels[i]]
		var s []uint8
		at := r.IntN(3)
		for w := 0; w < 3; w++ {
			if w == at {
				s = append(s, face...)
				s = append(s, ' ')
			}
			for range 1 + r.IntN(4) {
				s = append(s, uint8('a'+r.IntN(26)))
			}
			s = append(s, ' ')
		}
		seqs[i] = s
	}
	return seqs, labels
}

// TestWrongBatchShape checks that a batch whose tensors disagree with its
// sizes is an error naming the shape wanted, not a crash inside libtorch.
func TestWrongBatchShape(t *testing.T) {
	m, _ := newModel(t, 0, Config{Vocab: 16, Hidden: 4, Classes: 2})
	good, err := m.NewBatch([][]uint8{{1, 2, 3}, {4, 5}})
	if err != nil {
		t.Fatal(err)
	}
	defer good.Drop()
	codes, err := tensors.FromInt64(make([]int64, 6), 3, 2) // [3 2] where [2 3] is due
	if err != nil {
		t.Fatal(err)
	}
	defer codes.MustDrop()
	floats, err := tensors.FromFloat32(make([]float32, 6), 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer floats.MustDrop()
	for _, tc := range []struct {
		name string
		b    *Batch
		want string
	}{
		{"transposed codes", &Batch{Codes: codes, Last: good.Last, Size: 2, Steps: 3}, "charlstm: batch codes: input [3 2], want [2 3]"},
		{"sizes disagree", &Batch{Codes: good.Codes, Last: good.Last, Size: 3, Steps: 2}, "charlstm: batch codes: input [2 3], want [3 2]"},
		{"float codes", &Batch{Codes: floats, Last: good.Last, Size: 2, Steps: 3}, "charlstm: batch codes Float and last steps Int64, want Int64"},
		{"nil batch", nil, "charlstm: empty batch"},
	} {
		y, err := m.ForwardT(tc.b, false)
		if err == nil {
			y.MustDrop()
			t.Errorf("%s: no error", tc.name)
		} else if err.Error() != tc.want {
			t.Errorf("%s: error %q, want %q", tc.name, err, tc.want)
		}
	}
}

// trainStep is one optimiser step, as cmd/lstm-tweets takes it (the model
// package itself knows no optimiser).
func trainStep(m *Model, opt *optim.Optimizer, seqs [][]uint8, labels []int64) (float64, error) {
	b, err := m.NewBatch(seqs)
	if err != nil {
		return 0, err
	}
	defer b.Drop()
	y, err := tensors.FromInt64(labels, int64(len(labels)))
	if err != nil {
		return 0, err
	}
	defer y.MustDrop()
	if err := opt.ZeroGrad(); err != nil {
		return 0, err
	}
	logp, err := m.ForwardT(b, true)
	if err != nil {
		return 0, err
	}
	defer logp.MustDrop()
	loss, err := Loss(logp, y)
	if err != nil {
		return 0, err
	}
	defer loss.MustDrop()
	if err := loss.Backward(); err != nil {
		return 0, err
	}
	if err := opt.Step(); err != nil {
		return 0, err
	}
	return tensors.Scalar(loss)
}

// TestFusedMatchesLibtorch runs one batch through the model with the LSTM
// of libtorch and with torch/lstmfused (same weights): log-probabilities
// and every weight gradient agree within 1e-5.
func TestFusedMatchesLibtorch(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	seqs := randomSeqs(r, 16, 60, 128)
	labels := make([]int64, len(seqs))
	for i := range labels {
		labels[i] = int64(r.IntN(2))
	}
	run := func(fused bool) (logp []float64, grads map[string][]float64) {
		cfg := DefaultConfig()
		cfg.FusedLSTM = fused
		m, vs := newModel(t, 5, cfg) // same seed: same weights
		b, err := m.NewBatch(seqs)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Drop()
		logp = logProbs(t, m, b)
		out, err := m.ForwardT(b, true)
		if err != nil {
			t.Fatal(err)
		}
		defer out.MustDrop()
		y, err := tensors.FromInt64(labels, int64(len(labels)))
		if err != nil {
			t.Fatal(err)
		}
		defer y.MustDrop()
		loss, err := Loss(out, y)
		if err != nil {
			t.Fatal(err)
		}
		defer loss.MustDrop()
		if err := loss.Backward(); err != nil {
			t.Fatal(err)
		}
		named, err := tensors.Named(vs)
		if err != nil {
			t.Fatal(err)
		}
		grads = map[string][]float64{}
		for name, p := range named {
			g, err := p.Grad(false)
			if err != nil {
				t.Fatal(err)
			}
			v, err := tensors.Float32s(g)
			g.MustDrop()
			if err != nil {
				t.Fatal(err)
			}
			grads[name] = npz.Float32(v, len(v)).Floats()
		}
		return logp, grads
	}
	wantLogp, wantGrads := run(false)
	gotLogp, gotGrads := run(true)
	reference.AssertClose(t, "fused log-probs", gotLogp, wantLogp, 1e-5)
	if len(gotGrads) != len(wantGrads) || len(wantGrads) == 0 {
		t.Fatalf("%d gradients fused, %d libtorch", len(gotGrads), len(wantGrads))
	}
	for name, want := range wantGrads {
		reference.AssertClose(t, "fused grad "+name, gotGrads[name], want, 1e-5)
	}
}

// TestDropout: with Config.Dropout, training-mode outputs vary from call to
// call while eval-mode outputs stay those of the model without dropout;
// a dropout of 1 is refused.
func TestDropout(t *testing.T) {
	torchrt.Lock()
	for _, fused := range []bool{false, true} {
		m, _ := newModel(t, 3, Config{Vocab: 128, Hidden: 16, Classes: 2, FusedLSTM: fused, Dropout: 0.5})
		plain := *m
		plain.Cfg.Dropout = 0
		b, err := m.NewBatch([][]uint8{[]uint8("hello there"), []uint8("bye")})
		if err != nil {
			t.Fatal(err)
		}
		out := func(m *Model, train bool) []float32 {
			logp, err := m.ForwardT(b, train)
			if err != nil {
				t.Fatal(err)
			}
			defer logp.MustDrop()
			v, err := tensors.Float32s(logp)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		if a, c := out(m, true), out(m, true); fmt.Sprint(a) == fmt.Sprint(c) {
			t.Errorf("fused=%v: two training-mode calls with dropout 0.5 gave the same output %v", fused, a)
		}
		if a, c := out(m, false), out(&plain, true); fmt.Sprint(a) != fmt.Sprint(c) {
			t.Errorf("fused=%v: eval mode with dropout %v, the model without dropout %v", fused, a, c)
		}
		b.Drop()
	}
	if _, err := New(nn.NewVarStore(gotch.CPU).Root(), Config{Vocab: 128, Hidden: 4, Classes: 2, Dropout: 1}); err == nil {
		t.Error("dropout 1 accepted")
	}
}
