package cnncalc

import (
	"errors"
	"fmt"
	"math"
)

// Layer is one layer of an analysed network: its hyperparameters, its input
// and output shapes, its weight count and the receptive field of one of its
// output neurons. Shapes are [height, width, channels]; an fc's output is
// [1, 1, N].
type Layer struct {
	// Index is the spec layer number: the input is 0, the first layer 1.
	Index int `json:"layer"`
	// Name is the kind and its count, such as "conv2" or "pool1".
	Name string `json:"name"`
	LayerSpec
	In  [3]int `json:"in"`
	Out [3]int `json:"out"`
	// Params counts weights: KH*KW*Cin*N for a conv, in_features*N for an
	// fc, 0 for a pool. There are no biases.
	Params int `json:"params"`
	// ReceptiveField is [height, width] of the patch of the input that one
	// output neuron of this layer depends on, in input pixels. It ignores
	// padding, so near a border part of it lies on padding zeros. An fc
	// neuron sees its whole input.
	ReceptiveField [2]int `json:"receptive_field"`
	// Jump is the distance, in input pixels, between the receptive fields
	// of two neighbouring output neurons: the product of the strides so far.
	Jump [2]int `json:"jump"`
}

// SamePad answers the padding question for one conv layer.
type SamePad struct {
	Layer  int    `json:"layer"` // spec layer number of the conv
	Name   string `json:"name"`
	Kernel [2]int `json:"kernel"`
	// Pad is [pad_h, pad_w], the zeros on each side that keep a stride-1
	// conv's output as large as its input: (k-1)/2, whatever the input.
	Pad [2]int `json:"pad"`
	// PadExtra is 1 where k is even: k-1 zeros cannot be split evenly, so
	// one side gets one more.
	PadExtra [2]int `json:"pad_extra,omitzero"`
	// Stride is the conv's own stride. With s > 1, keeping the size takes
	// padding that grows with the input (see Report.SameSize), so the
	// usual meaning of "same" is then out = ceil(in/s) (TensorFlow's
	// SAME), here for the input size In the layer has in the network as
	// specified.
	Stride [2]int `json:"stride"`
	In     [2]int `json:"in"`
	// StridedOut is ceil(in/s).
	StridedOut [2]int `json:"strided_out"`
	// StridedPadTotal is the total padding (both sides together) giving
	// StridedOut: (ceil(in/s)-1)*s + k - in, at least 0. When it is odd
	// the extra zero goes at the bottom or right.
	StridedPadTotal [2]int `json:"strided_pad_total"`
	// Reasoning is the stride-1 derivation for this layer.
	Reasoning string `json:"reasoning"`
	// Strided, for a conv whose stride is not 1, says what keeping its
	// size would take and what "same" then usually means; "" otherwise.
	Strided string `json:"strided,omitempty"`
}

// Variant is the network with its conv padding replaced by a rule, such as
// no padding at all. Strides and filters are unchanged.
type Variant struct {
	Layers []Layer `json:"layers,omitempty"`
	Params int     `json:"params"`
	// Invalid says why the variant cannot be built, for example a filter
	// that only fitted thanks to the spec's padding. Layers and Params are
	// then empty.
	Invalid string `json:"invalid,omitempty"`
}

// Report holds the answers to the CNN-basics questions for one network.
type Report struct {
	Spec  string `json:"spec"` // the network, as Network.String writes it
	Input [3]int `json:"input"`
	// Layers is the network as specified, including any padding the spec
	// gives, and Params its total weight count.
	Layers []Layer `json:"layers"`
	Params int     `json:"params"`

	// SamePadding has one entry per conv layer, in order.
	SamePadding []SamePad `json:"same_padding"`

	// ReceptiveField is [height, width] of the receptive field of one
	// neuron of the last conv layer, whose spec number is
	// ReceptiveFieldLayer. Per-layer values are in Layers.
	ReceptiveField      [2]int `json:"receptive_field"`
	ReceptiveFieldLayer int    `json:"receptive_field_layer"`

	// ParamsNoPadding is NoPadding.Params: the total with every conv
	// unpadded, so the fc's input comes from the unpadded shapes.
	ParamsNoPadding int     `json:"params_no_padding"`
	NoPadding       Variant `json:"no_padding"`

	// ParamsSameSize is SameSize.Params: the total when every conv's
	// output has the same height and width as its input. Strides are kept,
	// so a strided conv needs the smallest padding p with
	// floor((in+2p-k)/s)+1 = in, far larger than its filter. Conv weight
	// counts do not depend on padding; only the fc's input grows.
	ParamsSameSize int     `json:"params_same_size"`
	SameSize       Variant `json:"same_size"`

	// HalfPadding is the other reading of the last question: every conv
	// gets the stride-1 "same" padding (k-1)/2 of SamePadding and keeps its
	// stride, so strided convs still shrink the image.
	HalfPadding Variant `json:"half_padding"`
}

// padRule returns the conv l, whose input is in, with its padding replaced.
type padRule func(l LayerSpec, in [3]int) LayerSpec

// Analyze computes the report for a network from Parse or built by hand.
// It fails if the network is inconsistent or has no conv layer, since the
// padding and receptive-field questions are about conv layers.
func Analyze(net *Network) (*Report, error) {
	if net == nil {
		return nil, errors.New("analyze: nil network")
	}
	for _, v := range net.Input {
		if v < 1 || v > maxValue {
			return nil, fmt.Errorf("analyze: input %s: sizes must be in [1, %d]", shape(net.Input), maxValue)
		}
	}
	layers, total, err := build(net.Input, net.Layers, nil)
	if err != nil {
		return nil, fmt.Errorf("analyze %q: %w", net.String(), err)
	}

	r := &Report{Spec: net.String(), Input: net.Input, Layers: layers, Params: total, ReceptiveFieldLayer: -1}
	for _, l := range layers {
		if l.Kind != KindConv {
			continue
		}
		r.SamePadding = append(r.SamePadding, samePad(l))
		r.ReceptiveField = l.ReceptiveField
		r.ReceptiveFieldLayer = l.Index
	}
	if r.ReceptiveFieldLayer < 0 {
		return nil, fmt.Errorf("analyze %q: no conv layer, so the padding and receptive-field questions have no answer", net.String())
	}

	r.NoPadding = variant(net, func(l LayerSpec, _ [3]int) LayerSpec {
		l.Pad, l.PadExtra = [2]int{}, [2]int{}
		return l
	})
	r.SameSize = variant(net, func(l LayerSpec, in [3]int) LayerSpec {
		for d := range 2 {
			l.Pad[d], l.PadExtra[d] = keepSizePad(in[d], l.Kernel[d], l.Stride[d])
		}
		return l
	})
	r.HalfPadding = variant(net, func(l LayerSpec, _ [3]int) LayerSpec {
		for d := range 2 {
			l.Pad[d], l.PadExtra[d] = (l.Kernel[d]-1)/2, (l.Kernel[d]-1)%2
		}
		return l
	})
	r.ParamsNoPadding = r.NoPadding.Params
	r.ParamsSameSize = r.SameSize.Params
	return r, nil
}

func variant(net *Network, rule padRule) Variant {
	layers, total, err := build(net.Input, net.Layers, rule)
	if err != nil {
		return Variant{Invalid: err.Error()}
	}
	return Variant{Layers: layers, Params: total}
}

// build walks the layers from the input, computing shapes, weights and
// receptive fields. A non-nil rule replaces every conv's padding first.
func build(input [3]int, specs []LayerSpec, rule padRule) ([]Layer, int, error) {
	layers := make([]Layer, 0, len(specs))
	cur := input
	// A pixel of the input is its own receptive field, one pixel apart from
	// its neighbour.
	rf, jump := [2]int{1, 1}, [2]int{1, 1}
	total := 0
	count := map[Kind]int{}
	for i, s := range specs {
		if rule != nil && s.Kind == KindConv {
			s = rule(s, cur)
		}
		fail := func(err error) ([]Layer, int, error) {
			return nil, 0, fmt.Errorf("layer %d %q: %w", i+1, s.String(), err)
		}
		out, err := layerOut(cur, s)
		if err != nil {
			return fail(err)
		}
		params, err := layerParams(cur, s)
		if err != nil {
			return fail(err)
		}
		if total, err = add(total, params); err != nil {
			return fail(fmt.Errorf("total weights: %w", err))
		}

		// r_out = r_in + (k-1)*j_in and j_out = j_in*s. A pool is a window
		// of k = s = its size; an fc is one window over its whole input.
		k, st := s.Kernel, s.Stride
		if s.Kind == KindFC {
			k, st = [2]int{cur[0], cur[1]}, [2]int{1, 1}
		}
		for d := range 2 {
			grow, err := mul(k[d]-1, jump[d])
			if err == nil {
				rf[d], err = add(rf[d], grow)
			}
			if err == nil {
				jump[d], err = mul(jump[d], st[d])
			}
			if err != nil {
				return fail(fmt.Errorf("receptive field: %w", err))
			}
		}

		count[s.Kind]++
		layers = append(layers, Layer{
			Index:          i + 1,
			Name:           fmt.Sprintf("%s%d", s.Kind, count[s.Kind]),
			LayerSpec:      s,
			In:             cur,
			Out:            out,
			Params:         params,
			ReceptiveField: rf,
			Jump:           jump,
		})
		cur = out
	}
	return layers, total, nil
}

// layerParams counts the weights of l given its input shape.
func layerParams(in [3]int, l LayerSpec) (int, error) {
	switch l.Kind {
	case KindConv:
		// One KHxKWxCin filter per output channel.
		return mul(l.Kernel[0], l.Kernel[1], in[2], l.N)
	case KindFC:
		// The input is flattened, so every value is one input feature.
		return mul(in[0], in[1], in[2], l.N)
	default:
		return 0, nil
	}
}

// keepSizePad returns the padding per side, plus an extra zero at the end,
// with which a conv of filter k and stride s maps in to in.
// floor((in+total-k)/s)+1 = in holds for total in [T, T+s-1] with
// T = (in-1)*s + k - in, which is never negative.
func keepSizePad(in, k, s int) (pad, extra int) {
	t := (in-1)*s + k - in
	switch {
	case t%2 == 0:
		return t / 2, 0
	case s > 1:
		// T+1 is still within the stride's slack, and symmetric padding
		// is what libtorch's Conv2d takes.
		return t/2 + 1, 0
	default:
		return t / 2, 1
	}
}

func samePad(l Layer) SamePad {
	sp := SamePad{
		Layer:  l.Index,
		Name:   l.Name,
		Kernel: l.Kernel,
		Stride: l.Stride,
		In:     [2]int{l.In[0], l.In[1]},
	}
	for d := range 2 {
		k, s, in := l.Kernel[d], l.Stride[d], l.In[d]
		sp.Pad[d], sp.PadExtra[d] = (k-1)/2, (k-1)%2
		sp.StridedOut[d] = (in + s - 1) / s
		sp.StridedPadTotal[d] = max(0, (sp.StridedOut[d]-1)*s+k-in)
	}
	sp.Reasoning, sp.Strided = padReasoning(sp)
	return sp
}

// padReasoning returns the stride-1 derivation of sp's padding and, for a
// strided conv, the note on what "same" means for it.
func padReasoning(sp SamePad) (stride1, strided string) {
	var dims [2]string
	for d, side := range [2]string{"top and bottom", "left and right"} {
		k := sp.Kernel[d]
		dims[d] = fmt.Sprintf("(%d-1)/2 = %d %s", k, sp.Pad[d], side)
		if sp.PadExtra[d] != 0 {
			// Which side gets the extra zero is a convention; this
			// package follows TensorFlow's SAME and puts it last.
			dims[d] += fmt.Sprintf(", plus 1 at the %s since k-1 = %d is odd",
				[2]string{"bottom", "right"}[d], k-1)
		}
	}
	text := fmt.Sprintf("stride 1: out = in + 2p - k + 1 = in  =>  p = (k-1)/2: rows %s; columns %s", dims[0], dims[1])
	if sp.Stride == [2]int{1, 1} {
		return text, ""
	}
	before := [2]int{sp.StridedPadTotal[0] / 2, sp.StridedPadTotal[1] / 2}
	after := [2]int{sp.StridedPadTotal[0] - before[0], sp.StridedPadTotal[1] - before[1]}
	return text, fmt.Sprintf(
		"Its actual stride is %s. Keeping the size would then take (in-1)*s + k - in zeros,\n"+
			"growing with the input ((4) works it out), so \"same\" for a strided conv usually\n"+
			"means out = ceil(in/s) (TensorFlow's SAME). For its input %s that is %s, needing\n"+
			"(ceil(in/s)-1)*s + k - in = %s zeros in total (%s before, %s after).",
		pair(sp.Stride), hw(sp.In), hw(sp.StridedOut), hw(sp.StridedPadTotal), hw(before), hw(after))
}

// mul multiplies non-negative numbers, failing instead of overflowing.
func mul(vals ...int) (int, error) {
	p := 1
	for _, v := range vals {
		if v != 0 && p > math.MaxInt/v {
			return 0, fmt.Errorf("product of %v overflows", vals)
		}
		p *= v
	}
	return p, nil
}

// add adds non-negative numbers, failing instead of overflowing.
func add(a, b int) (int, error) {
	if a > math.MaxInt-b {
		return 0, fmt.Errorf("sum %d + %d overflows", a, b)
	}
	return a + b, nil
}
