// Package torchcheck checks cnncalc's arithmetic against libtorch. It builds
// each variant of an analysed network with gotch (conv without bias,
// max-pooling, linear without bias), runs a zero image through it and
// compares every layer's output shape and weight count with the report. It
// then measures the receptive field of one neuron of the last conv layer by
// backpropagation and compares it too.
//
// The receptive field is measured with average pooling in place of max
// pooling and with every conv weight set to one: max pooling passes the
// gradient to one input of each window only, and weights of mixed sign
// could cancel, so either would under-count the pixels a neuron depends on.
// With positive weights and averaging, an input pixel has a non-zero
// gradient exactly when it is connected to the neuron.
//
// Every function here calls libtorch: the caller's goroutine must be locked
// to its OS thread (torchrt.Lock).
package torchcheck

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"torchlab/internal/cnncalc"
	"torchlab/torch/layers"
	"torchlab/torch/tensors"
	"torchlab/torch/torchrt"
)

// Variant is the outcome of checking one variant of the network.
type Variant struct {
	Name string `json:"name"` // "as specified", "no padding", "same size", "half padding"
	// Also names the other variants that are this same network (the
	// assignment's network as specified is its no-padding variant), which
	// were not built again.
	Also   []string `json:"also,omitempty"`
	Spec   string   `json:"spec"`
	Shapes int      `json:"shapes"` // layer output shapes compared, all equal
	Params int      `json:"params"` // weights counted in the VarStore, equal to the report's
	Field  Field    `json:"receptive_field"`
	// Seconds is the wall time of both checks of this variant.
	Seconds float64 `json:"seconds"`
}

// Field is a receptive field measured by gradients. Rows and columns are
// input pixel indices, first and last inclusive.
type Field struct {
	Layer  string `json:"layer"`  // the last conv, such as "conv3"
	Neuron [2]int `json:"neuron"` // [row, column] in that layer's output
	Want   [2]int `json:"want"`   // cnncalc's receptive field [height, width]
	Rows   [2]int `json:"rows"`   // first and last input row with a non-zero gradient
	Cols   [2]int `json:"cols"`
	// Connected counts the rows and columns with a non-zero gradient. It
	// is smaller than the field's extent only when a stride is larger than
	// the filter before it, which leaves unconnected gaps.
	Connected [2]int `json:"connected"`
	// Clipped is true when no neuron's field lies wholly inside the input:
	// part of it is on padding, and only the part inside is compared.
	Clipped bool `json:"clipped,omitempty"`
}

// Result collects the checks of every distinct variant of a network.
type Result struct {
	Libtorch string    `json:"libtorch"`
	Variants []Variant `json:"variants"`
}

// Summary is one line per variant saying what libtorch confirmed.
func (r *Result) Summary() string {
	var b strings.Builder
	for _, v := range r.Variants {
		f := v.Field
		fmt.Fprintf(&b, "checked by libtorch %s (%s): all %d shapes and the parameter count (%d) agree; "+
			"receptive field %dx%d of %s neuron (%d,%d) agrees: input rows %d-%d, columns %d-%d have non-zero gradient",
			r.Libtorch, v.Name, v.Shapes, v.Params, f.Want[0], f.Want[1], f.Layer, f.Neuron[0], f.Neuron[1],
			f.Rows[0], f.Rows[1], f.Cols[0], f.Cols[1])
		if f.Connected != [2]int{f.Rows[1] - f.Rows[0] + 1, f.Cols[1] - f.Cols[0] + 1} {
			fmt.Fprintf(&b, " (%dx%d of them connected: strides larger than filters leave gaps)", f.Connected[0], f.Connected[1])
		}
		if f.Clipped {
			b.WriteString(" (field partly on padding; the part inside the image compared)")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// Find returns the checked variant called name, directly or through Also;
// false if that variant was not built (cnncalc found it impossible).
func (r *Result) Find(name string) (Variant, bool) {
	for _, v := range r.Variants {
		if v.Name == name || slices.Contains(v.Also, name) {
			return v, true
		}
	}
	return Variant{}, false
}

// Checks says, under each of cnncalc's answers for rep, what libtorch
// confirmed: shapes, weight counts and the receptive field of the variant
// that answer is about. rep must be the report r was checked from.
func (r *Result) Checks(rep *cnncalc.Report) *cnncalc.Checks {
	c := &cnncalc.Checks{}
	if r == nil || rep == nil {
		return c
	}
	lib := "libtorch " + r.Libtorch
	if v, ok := r.Find("half padding"); ok {
		var kept []string
		for _, l := range rep.HalfPadding.Layers {
			if l.Kind == cnncalc.KindConv && l.Stride == [2]int{1, 1} {
				kept = append(kept, fmt.Sprintf("%s %dx%d -> %dx%d", l.Name, l.In[0], l.In[1], l.Out[0], l.Out[1]))
			}
		}
		if len(kept) > 0 {
			c.SamePadding = fmt.Sprintf("%s built the network with (k-1)/2 zeros on each side of every conv "+
				"and ran a zero image through it; all %d output shapes equal cnncalc's, so the stride-1 convs "+
				"keep their input's size: %s.", lib, v.Shapes, strings.Join(kept, ", "))
		}
	}
	if v, ok := r.Find("no padding"); ok {
		c.OutputSizes = fmt.Sprintf("%s built the network without padding and ran a zero %dx%dx%d image "+
			"through it: all %d layers' output shapes equal cnncalc's, the ones above included.", lib, rep.Input[0], rep.Input[1], rep.Input[2], v.Shapes)
		c.NoPaddingParams = fmt.Sprintf("%s's VarStore of that network holds %d weights.", lib, v.Params)
	}
	if v, ok := r.Find("as specified"); ok {
		f := v.Field
		c.ReceptiveField = fmt.Sprintf("%s backpropagated from one neuron, (%d,%d) of %s, to the input "+
			"(average pooling, conv weights of one): input rows %d-%d and columns %d-%d have a non-zero "+
			"gradient, %dx%d pixels.", lib, f.Neuron[0], f.Neuron[1], f.Layer, f.Rows[0], f.Rows[1], f.Cols[0], f.Cols[1],
			f.Rows[1]-f.Rows[0]+1, f.Cols[1]-f.Cols[0]+1)
		if f.Connected != [2]int{f.Rows[1] - f.Rows[0] + 1, f.Cols[1] - f.Cols[0] + 1} {
			c.ReceptiveField += fmt.Sprintf(" %dx%d of them are connected: strides larger than filters leave gaps.", f.Connected[0], f.Connected[1])
		}
		if f.Clipped {
			c.ReceptiveField += " No neuron's field lies wholly inside the image; the part inside was compared."
		}
	}
	if v, ok := r.Find("same size"); ok {
		c.SameSizeParams = fmt.Sprintf("%s built that network: its VarStore holds %d weights and all %d "+
			"output shapes equal the ones above.", lib, v.Params, v.Shapes)
	}
	if v, ok := r.Find("half padding"); ok {
		c.HalfPaddingParams = fmt.Sprintf("%s built that network: its VarStore holds %d weights and all %d "+
			"output shapes equal the ones above.", lib, v.Params, v.Shapes)
	}
	return c
}

// Check builds every distinct variant of the report's network with libtorch
// (as specified, without padding, same size, half padding; variants that
// cannot be built are skipped) and returns an error at the first mismatch.
func Check(rep *cnncalc.Report) (*Result, error) {
	if rep == nil {
		return nil, errors.New("torchcheck: nil report")
	}
	res := &Result{Libtorch: LibtorchVersion()}
	seen := map[string]int{} // spec -> index in res.Variants
	for _, v := range []struct {
		name   string
		layers []cnncalc.Layer
		params int
	}{
		{"as specified", rep.Layers, rep.Params},
		{"no padding", rep.NoPadding.Layers, rep.NoPadding.Params},
		{"same size", rep.SameSize.Layers, rep.SameSize.Params},
		{"half padding", rep.HalfPadding.Layers, rep.HalfPadding.Params},
	} {
		if len(v.layers) == 0 {
			continue // cnncalc found this variant impossible and says why
		}
		spec := specOf(rep.Input, v.layers)
		if i, ok := seen[spec]; ok {
			res.Variants[i].Also = append(res.Variants[i].Also, v.name)
			continue
		}
		seen[spec] = len(res.Variants)
		start := time.Now()
		vc, err := checkVariant(rep.Input, v.layers, v.params)
		if err != nil {
			return nil, fmt.Errorf("libtorch check of the %s network %q: %w", v.name, spec, err)
		}
		vc.Name, vc.Spec, vc.Seconds = v.name, spec, time.Since(start).Seconds()
		res.Variants = append(res.Variants, vc)
	}
	return res, nil
}

func specOf(input [3]int, ls []cnncalc.Layer) string {
	net := cnncalc.Network{Input: input}
	for _, l := range ls {
		net.Layers = append(net.Layers, l.LayerSpec)
	}
	return net.String()
}

func checkVariant(input [3]int, ls []cnncalc.Layer, params int) (Variant, error) {
	var v Variant
	shapes, counted, err := checkShapes(input, ls)
	if err != nil {
		return v, err
	}
	if counted != params {
		return v, fmt.Errorf("libtorch's VarStore holds %d weights, cnncalc counts %d", counted, params)
	}
	v.Shapes, v.Params = shapes, counted
	v.Field, err = checkField(input, ls)
	return v, err
}

// checkShapes runs a zero image through the network with max pooling and
// compares each layer's output shape and weight count.
func checkShapes(input [3]int, ls []cnncalc.Layer) (shapes, params int, err error) {
	n, err := build(ls, len(ls), false)
	if err != nil {
		return 0, 0, err
	}
	defer n.vs.Destroy()
	named, err := tensors.Named(n.vs)
	if err != nil {
		return 0, 0, err
	}
	for _, t := range named {
		params += int(t.Numel())
	}
	for _, st := range n.stages {
		if st.weight != nil && int(st.weight.Numel()) != st.layer.Params {
			size, _ := st.weight.Size() // for the message only
			return 0, 0, fmt.Errorf("%s: weight %v has %d values, cnncalc counts %d",
				st.layer.Name, size, st.weight.Numel(), st.layer.Params)
		}
	}
	err = torchrt.NoGrad(func() error {
		x, err := ts.Zeros([]int64{1, int64(input[2]), int64(input[0]), int64(input[1])}, gotch.Float, gotch.CPU)
		if err != nil {
			return fmt.Errorf("input: %w", err)
		}
		defer x.MustDrop()
		y, err := n.forward(x, func(st stage, y *ts.Tensor) error {
			got, err := y.Size()
			if err != nil {
				return fmt.Errorf("%s: %w", st.layer.Name, err)
			}
			want := []int64{1, int64(st.layer.Out[2]), int64(st.layer.Out[0]), int64(st.layer.Out[1])}
			if st.layer.Kind == cnncalc.KindFC {
				want = []int64{1, int64(st.layer.Out[2])}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				return fmt.Errorf("%s: libtorch's output is %v (NCHW), cnncalc says %v = %v", st.layer.Name, got, st.layer.Out, want)
			}
			shapes++
			return nil
		})
		if y != nil {
			y.MustDrop()
		}
		return err
	})
	return shapes, params, err
}

// checkField backpropagates from one neuron of the last conv layer to a
// zero input through the network with average pooling and all-one conv
// weights, and compares the rows and columns of non-zero gradient with the
// receptive field cnncalc computed.
func checkField(input [3]int, ls []cnncalc.Layer) (Field, error) {
	var f Field
	last := -1
	for i, l := range ls {
		if l.Kind == cnncalc.KindConv {
			last = i
		}
	}
	if last < 0 {
		return f, errors.New("no conv layer")
	}
	ll := ls[last]
	f.Layer, f.Want = ll.Name, ll.ReceptiveField
	var want [2][2]int // expected first and last row, column
	for d := range 2 {
		lo, hi, o, clipped := pickNeuron(input[d], ls[:last+1], d)
		f.Neuron[d], want[d] = o, [2]int{lo, hi}
		f.Clipped = f.Clipped || clipped
	}

	n, err := build(ls, last+1, true)
	if err != nil {
		return f, err
	}
	defer n.vs.Destroy()
	if err := n.vs.Freeze(); err != nil { // gradients for the input only
		return f, fmt.Errorf("freeze weights: %w", err)
	}
	prev := torchrt.SetGradEnabled(true)
	defer torchrt.SetGradEnabled(prev)

	x0, err := ts.Zeros([]int64{1, int64(input[2]), int64(input[0]), int64(input[1])}, gotch.Float, gotch.CPU)
	if err != nil {
		return f, fmt.Errorf("input: %w", err)
	}
	x, err := x0.SetRequiresGrad(true, true)
	if err != nil {
		return f, fmt.Errorf("input requires grad: %w", err)
	}
	defer x.MustDrop()
	y, err := n.forward(x, nil) // [1, N, H', W'] of the last conv
	if err != nil {
		return f, err
	}
	s, err := neuron(y, f.Neuron) // [] the neuron
	if err != nil {
		return f, err
	}
	defer s.MustDrop()
	if err := s.Backward(); err != nil {
		return f, fmt.Errorf("backward: %w", err)
	}
	rows, cols, err := gradProfile(x)
	if err != nil {
		return f, err
	}
	defer rows.MustDrop()
	defer cols.MustDrop()

	for d, t := range []*ts.Tensor{rows, cols} {
		v, err := tensors.Float32s(t)
		if err != nil {
			return f, fmt.Errorf("input gradient: %w", err)
		}
		first, lastNZ, count := nonZero(v)
		if count == 0 {
			return f, fmt.Errorf("receptive field of %s neuron %v: no input pixel has a non-zero gradient", ll.Name, f.Neuron)
		}
		if d == 0 {
			f.Rows = [2]int{first, lastNZ}
		} else {
			f.Cols = [2]int{first, lastNZ}
		}
		f.Connected[d] = count
		if first != want[d][0] || lastNZ != want[d][1] {
			return f, fmt.Errorf("receptive field of %s neuron %v: input %s %d-%d have a non-zero gradient (%d), cnncalc's %d-pixel field puts it at %d-%d",
				ll.Name, f.Neuron, [2]string{"rows", "columns"}[d], first, lastNZ, lastNZ-first+1, f.Want[d], want[d][0], want[d][1])
		}
	}
	return f, nil
}

// pickNeuron chooses the output index, along dimension d of the last layer
// of ls, nearest the centre whose receptive field lies inside the input,
// and returns the field's first and last input index. A field that starts
// at -pad*jump is on padding; if every neuron's field is, the centre one
// is taken and the field clipped to the input.
func pickNeuron(in int, ls []cnncalc.Layer, d int) (lo, hi, o int, clipped bool) {
	// The field of output o starts at off + o*jump, where off accumulates
	// each layer's padding in input pixels.
	off, jump := 0, 1
	for _, l := range ls {
		off -= l.Pad[d] * jump
		jump *= l.Stride[d]
	}
	out, r := ls[len(ls)-1].Out[d], ls[len(ls)-1].ReceptiveField[d]
	centre := (out - 1) / 2
	for dist := 0; dist < out; dist++ {
		for _, o := range []int{centre - dist, centre + dist} {
			if o < 0 || o >= out {
				continue
			}
			if s := off + o*jump; s >= 0 && s+r <= in {
				return s, s + r - 1, o, false
			}
		}
	}
	s := off + centre*jump
	return max(s, 0), min(s+r, in) - 1, centre, true
}

func nonZero(v []float32) (first, last, count int) {
	first, last = -1, -1
	for i, x := range v {
		if x != 0 {
			if first < 0 {
				first = i
			}
			last = i
			count++
		}
	}
	return first, last, count
}

// stage is one layer built in libtorch.
type stage struct {
	layer  cnncalc.Layer
	conv   *layers.Conv2d // square filter, equal strides and paddings
	weight *ts.Tensor     // conv [N, Cin, KH, KW] or fc [N, in]; nil for a pool
	fc     *layers.Linear
}

type net struct {
	vs     *nn.VarStore
	stages []stage
	avg    bool // average instead of max pooling
}

// build makes the first upto layers of ls. With ones, conv weights are all
// one and pools average; otherwise weights start as PyTorch's and pools
// take the maximum.
func build(ls []cnncalc.Layer, upto int, ones bool) (*net, error) {
	n := &net{vs: nn.NewVarStore(gotch.CPU), avg: ones}
	root := n.vs.Root()
	for _, l := range ls[:upto] {
		st := stage{layer: l}
		p := root.Sub(l.Name)
		var err error
		switch l.Kind {
		case cnncalc.KindConv:
			square := l.Kernel[0] == l.Kernel[1] && l.Stride[0] == l.Stride[1] && l.Pad[0] == l.Pad[1]
			if square && !ones {
				st.conv, err = layers.NewConv2d(p, int64(l.In[2]), int64(l.N), int64(l.Kernel[0]),
					layers.ConvConfig{Stride: int64(l.Stride[0]), Padding: int64(l.Pad[0]), NoBias: true})
				if st.conv != nil {
					st.weight = st.conv.Weight
				}
			} else {
				// layers.Conv2d is square; its weight would be made the same way.
				init := nn.NewConstInit(0)
				if ones {
					init = nn.NewConstInit(1)
				}
				st.weight, err = p.NewVar("weight", []int64{int64(l.N), int64(l.In[2]), int64(l.Kernel[0]), int64(l.Kernel[1])}, init)
			}
		case cnncalc.KindFC:
			st.fc, err = layers.NewLinear(p, int64(l.In[0]*l.In[1]*l.In[2]), int64(l.N), false)
			if st.fc != nil {
				st.weight = st.fc.Weight
			}
		}
		if err != nil {
			n.vs.Destroy()
			return nil, fmt.Errorf("build %s: %w", l.Name, err)
		}
		n.stages = append(n.stages, st)
	}
	return n, nil
}

// neuron is the sum of channel 0 of y [1, N, H', W'] at (row, col) at: a
// scalar. It frees y.
func neuron(y *ts.Tensor, at [2]int) (*ts.Tensor, error) {
	// Each op frees its receiver (del=true), also on failure.
	one, err := y.Narrow(1, 0, 1, true)
	if err == nil {
		one, err = one.Narrow(2, int64(at[0]), 1, true)
	}
	if err == nil {
		one, err = one.Narrow(3, int64(at[1]), 1, true)
	}
	if err != nil {
		return nil, fmt.Errorf("neuron %v: %w", at, err)
	}
	return one.Sum(gotch.Float, true)
}

// gradProfile sums |dL/dx| of x [1, C, H, W] over the channels and then
// over the columns (rows [H]) and over the rows (cols [W]).
func gradProfile(x *ts.Tensor) (rows, cols *ts.Tensor, err error) {
	g, err := x.Grad(false)
	if err == nil {
		g, err = g.Abs(true)
	}
	if err == nil {
		g, err = g.SumDimIntlist([]int64{0, 1}, false, gotch.Float, true) // [H, W]
	}
	if err != nil {
		return nil, nil, fmt.Errorf("input gradient: %w", err)
	}
	defer g.MustDrop()
	if rows, err = g.SumDimIntlist([]int64{1}, false, gotch.Float, false); err != nil { // [H]
		return nil, nil, fmt.Errorf("input gradient: %w", err)
	}
	if cols, err = g.SumDimIntlist([]int64{0}, false, gotch.Float, false); err != nil { // [W]
		rows.MustDrop()
		return nil, nil, fmt.Errorf("input gradient: %w", err)
	}
	return rows, cols, nil
}

// forward runs x [1, C, H, W] through the stages, calling each (if not nil)
// with every stage's output, and returns the last output. Intermediate
// outputs are dropped; autograd keeps what backward needs.
func (n *net) forward(x *ts.Tensor, each func(stage, *ts.Tensor) error) (*ts.Tensor, error) {
	cur := x
	for _, st := range n.stages {
		y, err := n.apply(st, cur)
		if cur != x {
			cur.MustDrop()
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", st.layer.Name, err)
		}
		cur = y
		if each != nil {
			if err := each(st, cur); err != nil {
				cur.MustDrop()
				return nil, err
			}
		}
	}
	if cur == x {
		return nil, errors.New("network has no layers")
	}
	return cur, nil
}

func (n *net) apply(st stage, x *ts.Tensor) (*ts.Tensor, error) {
	l := st.layer
	switch l.Kind {
	case cnncalc.KindConv:
		if l.PadExtra != [2]int{} {
			// An even filter's odd padding: the extra zero row/column
			// goes at the bottom/right, as cnncalc (and TensorFlow's SAME) do.
			padded, err := x.ConstantPadNd([]int64{0, int64(l.PadExtra[1]), 0, int64(l.PadExtra[0])}, false)
			if err != nil {
				return nil, err
			}
			defer padded.MustDrop()
			x = padded
		}
		if st.conv != nil {
			return st.conv.Forward(x) // [1, N, H', W']
		}
		return ts.Conv2d(x, st.weight, ts.None, ints(l.Stride[:]), ints(l.Pad[:]), []int64{1, 1}, 1)
	case cnncalc.KindPool:
		k := ints(l.Kernel[:])
		if n.avg {
			return x.AvgPool2d(k, k, []int64{0, 0}, false, true, nil, false)
		}
		return x.MaxPool2d(k, k, []int64{0, 0}, []int64{1, 1}, false, false)
	case cnncalc.KindFC:
		flat := x
		if x.Dim() > 2 {
			var err error
			if flat, err = x.Flatten(1, -1, false); err != nil { // [1, C*H*W], channels first
				return nil, err
			}
			defer flat.MustDrop()
		}
		return st.fc.Forward(flat) // [1, N]
	default:
		return nil, fmt.Errorf("unknown layer kind %q", l.Kind)
	}
}

func ints(v []int) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}
