package vae

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/torch/reference"
	"torchlab/torch/tensors"
	"torchlab/torch/torchrt"
)

// jacobian returns dz'/dz of a flow at each position of z [.., D] (the
// leading dimensions are independent positions): [P][D][D], row i the
// gradient of output i. It takes one backward pass per output dimension.
func jacobian(t *testing.T, out, z *ts.Tensor) [][][]float64 {
	t.Helper()
	shape := z.MustSize()
	d := shape[len(shape)-1]
	p := int64(1)
	for _, s := range shape[:len(shape)-1] {
		p *= s
	}
	jac := make([][][]float64, p)
	for k := range jac {
		jac[k] = make([][]float64, d)
	}
	for i := range d {
		col := out.MustNarrow(int64(len(shape)-1), i, 1, false)
		sum := col.MustSum(gotch.Float, true)
		grads, err := ts.RunBackward([]*ts.Tensor{sum}, []*ts.Tensor{z}, true, false)
		if err != nil {
			t.Fatal(err)
		}
		g := floats(t, grads[0]) // [P*D], row-major
		for k := range p {
			jac[k][i] = g[k*d : (k+1)*d]
		}
		grads[0].MustDrop()
		sum.MustDrop()
	}
	return jac
}

// logAbsDet is log|det a| by LU decomposition with partial pivoting in
// float64: it assumes nothing about a's structure.
func logAbsDet(a [][]float64) float64 {
	n := len(a)
	m := make([][]float64, n)
	for i := range a {
		m[i] = append([]float64(nil), a[i]...)
	}
	sum := 0.0
	for c := range n {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(m[r][c]) > math.Abs(m[p][c]) {
				p = r
			}
		}
		m[c], m[p] = m[p], m[c]
		if m[c][c] == 0 {
			return math.Inf(-1)
		}
		sum += math.Log(math.Abs(m[c][c]))
		for r := c + 1; r < n; r++ {
			f := m[r][c] / m[c][c]
			for k := c; k < n; k++ {
				m[r][k] -= f * m[c][k]
			}
		}
	}
	return sum
}

// checkTriangular says how the Jacobians jac of a step with ordering order
// (the degree of each dimension) and log sigma logSigma [P*D] break the
// IAF's promises: dz'_i/dz_j = 0 unless order[j] < order[i] or i = j, the
// diagonal is sigma (within 1e-6 of it, relative: the product's float32
// rounding), and some dependence below the diagonal exists (or the test
// would say nothing). nil when none is broken.
func checkTriangular(jac [][][]float64, order []int, logSigma []float64) error {
	var errs []string
	below := 0
	d := len(order)
	for k, j := range jac {
		for i := range d {
			for c := range d {
				v := j[i][c]
				switch {
				case i == c:
					sigma := math.Exp(logSigma[k*d+i])
					if math.Abs(v-sigma) > 1e-6*sigma {
						errs = append(errs, fmt.Sprintf("position %d: dz'_%d/dz_%d = %.7g, sigma = %.7g", k, i, i, v, sigma))
					}
				case order[c] >= order[i]:
					if v != 0 {
						errs = append(errs, fmt.Sprintf("position %d: dz'_%d/dz_%d = %.3g, want 0 (degrees %d, %d)", k, i, c, v, order[i], order[c]))
					}
				default:
					if v != 0 {
						below++
					}
				}
			}
		}
	}
	if below == 0 {
		errs = append(errs, "no output depends on an earlier input: the check is vacuous")
	}
	if len(errs) > 0 {
		if len(errs) > 4 {
			errs = append(errs[:4], fmt.Sprintf("... %d more", len(errs)-4))
		}
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// checkLogDet compares the flow's log-determinant (the sum of log sigma at
// each position) with log|det J| of the autograd Jacobian. Tolerance:
// 1e-5 of (1 + sum |log sigma|), the float32 rounding of the D terms summed
// and of the Jacobian's entries, far below a sign error (2 |logdet|) or a
// missing step's term.
func checkLogDet(jac [][][]float64, logSigma []float64) error {
	d := len(jac[0])
	for k, j := range jac {
		want := logAbsDet(j)
		got, scale := 0.0, 1.0
		for i := range d {
			got += logSigma[k*d+i]
			scale += math.Abs(logSigma[k*d+i])
		}
		if !(math.Abs(got-want) <= 1e-5*scale) {
			return fmt.Errorf("position %d: sum log sigma = %.7g, log|det J| = %.7g (tolerance %.2g)", k, got, want, 1e-5*scale)
		}
	}
	return nil
}

// scaleVars multiplies every variable by f, so that a fresh step's sigmas
// spread away from the forget-gate bias and its dependence on z is strong.
func scaleVars(t *testing.T, vs *nn.VarStore, f float64) {
	t.Helper()
	named, err := tensors.Named(vs)
	if err != nil {
		t.Fatal(err)
	}
	err = torchrt.NoGrad(func() error {
		for _, v := range named {
			s, err := tensors.MulScalar(v, f, false)
			if err != nil {
				return err
			}
			v.Copy_(s)
			s.MustDrop()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// flowInput is z [shape..., d] that requires grad and a context [shape..., c].
func flowInput(t *testing.T, lead []int64, d, c int64) (z, h *ts.Tensor) {
	t.Helper()
	z = ts.MustRandn(append(append([]int64{}, lead...), d), gotch.Float, gotch.CPU).MustSetRequiresGrad(true, true)
	h = ts.MustRandn(append(append([]int64{}, lead...), c), gotch.Float, gotch.CPU)
	return z, h
}

// TestIAFStepJacobian checks one step's promises against its autograd
// Jacobian, on a flat latent and on a spatial one (channels last), in
// both orderings; and that the checks catch a step whose masks are
// flipped or removed.
func TestIAFStepJacobian(t *testing.T) {
	torchrt.Lock()
	for _, tc := range []struct {
		name    string
		lead    []int64
		d       int64
		reverse bool
	}{
		{"flat", []int64{3}, 5, false},
		{"flat-reversed", []int64{3}, 5, true},
		{"spatial", []int64{2, 2, 2}, 4, false},
		{"one-dim", []int64{4}, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			torchrt.Lock() // t.Run starts a new goroutine
			torchrt.ManualSeed(7)
			vs := nn.NewVarStore(gotch.CPU)
			step, err := NewIAFStep(vs.Root(), tc.d, 12, 3, tc.reverse)
			if err != nil {
				t.Fatal(err)
			}
			scaleVars(t, vs, 3)
			z, h := flowInput(t, tc.lead, tc.d, 3)
			out, ls, err := step.Forward(z, h)
			if err != nil {
				t.Fatal(err)
			}
			jac := jacobian(t, out, z)
			logSigma := floats(t, ls)
			if tc.d == 1 {
				// One dimension: no hidden unit has a lower degree, so m and
				// s are the output layers' biases alone; J = sigma.
				if v, s := jac[0][0][0], math.Exp(logSigma[0]); math.Abs(v-s) > 1e-6*s {
					t.Errorf("d=1: dz'/dz = %v, sigma = %v", v, s)
				}
			} else if err := checkTriangular(jac, step.Order, logSigma); err != nil {
				t.Error(err)
			}
			if err := checkLogDet(jac, logSigma); err != nil {
				t.Error(err)
			}
			if tc.d == 1 {
				return
			}
			// The check must catch a step that breaks the ordering: checked
			// against the reversed ordering, or with the output mask flipped
			// (>= for >) or removed.
			rev := make([]int, len(step.Order))
			for i, o := range step.Order {
				rev[i] = int(tc.d) + 1 - o
			}
			if err := checkTriangular(jac, rev, logSigma); err == nil {
				t.Error("the Jacobian passed as triangular in the reversed ordering too")
			}
			in, hid := madeDegrees(int(tc.d), 12, tc.reverse)
			_, outMask := madeMasks(in, hid)
			for i, di := range in {
				for k, dk := range hid {
					outMask[i][k] = 0
					if di >= dk { // the bug: output i sees hidden units that see input i
						outMask[i][k] = 1
					}
				}
			}
			for _, broken := range [][][]float32{outMask, ones(int(tc.d), 12)} {
				bad, err := tensors.FromFloat32(flatten(broken), tc.d, 12)
				if err != nil {
					t.Fatal(err)
				}
				good := step.M.Mask
				step.M.Mask, step.S.Mask = bad, bad
				out2, ls2, err := step.Forward(z, h)
				if err != nil {
					t.Fatal(err)
				}
				j2 := jacobian(t, out2, z)
				if err := checkTriangular(j2, step.Order, floats(t, ls2)); err == nil {
					t.Error("a step with a broken output mask passed the triangularity check")
				} else {
					t.Logf("broken mask caught: %.120s", err)
				}
				step.M.Mask, step.S.Mask = good, good
			}
			// A log-determinant with the wrong sign must fail the comparison.
			neg := make([]float64, len(logSigma))
			for i, v := range logSigma {
				neg[i] = -v
			}
			if err := checkLogDet(jac, neg); err == nil {
				t.Error("-sum log sigma passed as the log-determinant")
			}
		})
	}
}

func ones(r, c int) [][]float32 {
	m := make([][]float32, r)
	for i := range m {
		m[i] = make([]float32, c)
		for j := range m[i] {
			m[i][j] = 1
		}
	}
	return m
}

func flatten(m [][]float32) []float32 {
	var out []float32
	for _, r := range m {
		out = append(out, r...)
	}
	return out
}

// TestIAFFlowLogDet checks that a flow of three steps with alternating
// orderings (whose Jacobian is no longer triangular) returns log|det J|.
func TestIAFFlowLogDet(t *testing.T) {
	torchrt.Lock()
	torchrt.ManualSeed(8)
	vs := nn.NewVarStore(gotch.CPU)
	f, err := NewIAF(vs.Root(), 3, 6, 16, 4)
	if err != nil {
		t.Fatal(err)
	}
	scaleVars(t, vs, 3)
	z, h := flowInput(t, []int64{4}, 6, 4)
	out, ld, err := f.Forward(z, h)
	if err != nil {
		t.Fatal(err)
	}
	jac := jacobian(t, out, z)
	if err := checkLogDet(jac, floats(t, ld)); err != nil {
		t.Error(err)
	}
	// Not triangular in either ordering: the steps do mix.
	if checkTriangular(jac, f.Steps[0].Order, floats(t, ld)) == nil || checkTriangular(jac, f.Steps[1].Order, floats(t, ld)) == nil {
		t.Error("a three-step flow's Jacobian is triangular: the orderings do not alternate")
	}
}

// TestIAFMatchesPyTorch gives PyTorch's reference flow (its own masks) the
// same weights, z and context: z' and the log-determinant must agree.
func TestIAFMatchesPyTorch(t *testing.T) {
	torchrt.Lock()
	torchrt.ManualSeed(9)
	vs := nn.NewVarStore(gotch.CPU)
	f, err := NewIAF(vs.Root(), 2, 5, 12, 3)
	if err != nil {
		t.Fatal(err)
	}
	scaleVars(t, vs, 2)
	named, err := tensors.Named(vs)
	if err != nil {
		t.Fatal(err)
	}
	z := ts.MustRandn([]int64{2, 3, 3, 5}, gotch.Float, gotch.CPU)
	h := ts.MustRandn([]int64{2, 3, 3, 3}, gotch.Float, gotch.CPU)
	in, err := tensors.ToArrays(named)
	if err != nil {
		t.Fatal(err)
	}
	extra, err := tensors.ToArrays(map[string]*ts.Tensor{"z": z, "h": h})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range extra {
		in[k] = v
	}
	want := reference.Run(t, "vae_galaxy.py", in, "iaf", "--iaf-steps", "2")
	out, ld, err := f.Forward(z, h)
	if err != nil {
		t.Fatal(err)
	}
	reference.AssertClose(t, "z'", floats(t, out), want["z"].Floats(), 1e-5)
	reference.AssertClose(t, "log det", floats(t, ld), want["logdet"].Floats(), 1e-5)
}
