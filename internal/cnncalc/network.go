package cnncalc

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Kind is a layer type as written in a spec.
type Kind string

// The layer kinds a spec may contain after its input.
const (
	KindConv Kind = "conv"
	KindPool Kind = "pool"
	KindFC   Kind = "fc"
)

// maxValue bounds every number in a network. It keeps sums such as in+2p and
// products of two numbers far from int overflow, so only the longer products
// (weight counts, flattened sizes, receptive fields) need checked arithmetic.
const maxValue = math.MaxInt32

// LayerSpec holds the hyperparameters of one layer after the input. Sizes
// are [height, width]. Fields a kind does not use are zero.
type LayerSpec struct {
	Kind Kind `json:"kind"`
	// N is the number of filters (output channels) of a conv and the
	// number of outputs of an fc.
	N int `json:"n,omitzero"`
	// Kernel is a conv's filter size or a pool's window size.
	Kernel [2]int `json:"kernel,omitzero"`
	// Stride is a conv's stride; a pool's always equals its Kernel.
	Stride [2]int `json:"stride,omitzero"`
	// Pad is a conv's zero padding on each side: Pad[0] rows on top and
	// on the bottom, Pad[1] columns on the left and on the right.
	Pad [2]int `json:"pad"`
	// PadExtra is one more row at the bottom and/or column at the right.
	// A spec cannot ask for it; the analysis sets it when a stride-1
	// filter has an even size, because k-1 zeros cannot then be split
	// evenly between the two sides (libtorch needs an explicit pad op).
	PadExtra [2]int `json:"pad_extra,omitzero"`
}

// Network is a parsed spec: the input shape and the layers after it, in
// order. It holds everything needed to rebuild the net in another framework.
type Network struct {
	// Input is [height, width, channels].
	Input  [3]int      `json:"input"`
	Layers []LayerSpec `json:"layers"`
}

// SpecError is a Parse error: which layer of the spec is wrong, the token
// that is wrong in it and why.
type SpecError struct {
	Layer  int    // spec layer number; the input is layer 0
	Item   string // the layer's text as written
	Token  string // the offending token
	Reason string
}

func (e *SpecError) Error() string {
	return fmt.Sprintf("spec layer %d %q: token %q: %s", e.Layer, e.Item, e.Token, e.Reason)
}

// Parse reads a network spec (see the package documentation and Grammar).
// It checks the syntax and also the shapes, so a filter or window larger
// than its padded input is reported here, with its token.
func Parse(spec string) (*Network, error) {
	var items []string
	for _, it := range strings.Split(spec, ";") {
		// Blank items are skipped so that a trailing ';' or a spec split
		// over lines with ';' at both ends still parses.
		if it = strings.TrimSpace(it); it != "" {
			items = append(items, it)
		}
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("parse spec: empty, want at least %q", "in HxWxC")
	}

	net := &Network{}
	var cur [3]int // output shape of the previous layer
	seenFC := false
	for i, item := range items {
		toks := strings.Fields(item)
		fail := func(tok, format string, args ...any) error {
			return &SpecError{Layer: i, Item: item, Token: tok, Reason: fmt.Sprintf(format, args...)}
		}
		kindTok := toks[0]
		kind := strings.ToLower(kindTok)
		if i == 0 && kind != "in" {
			return nil, fail(kindTok, "the input is missing: the first layer must be %q", "in HxWxC")
		}

		var l LayerSpec
		var sizeTok string // the token to blame if the shape does not fit
		switch kind {
		case "in":
			if i != 0 {
				return nil, fail(kindTok, "the input is repeated: %q may only be the first layer", "in")
			}
			if len(toks) != 2 {
				return nil, fail(kindTok, "want %q", "in HxWxC")
			}
			dims, err := parseSize(toks[1], 3)
			if err != nil {
				return nil, fail(toks[1], "input size: %v, want HxWxC", err)
			}
			net.Input = [3]int{dims[0], dims[1], dims[2]}
			cur = net.Input
			continue
		case "conv":
			if seenFC {
				return nil, fail(kindTok, "conv after fc: the fc has already flattened the image")
			}
			var err error
			if l, err = parseConv(toks, fail); err != nil {
				return nil, err
			}
			sizeTok = toks[2]
		case "pool":
			if seenFC {
				return nil, fail(kindTok, "pool after fc: the fc has already flattened the image")
			}
			if len(toks) != 2 {
				return nil, fail(kindTok, "want %q", "pool PHxPW")
			}
			dims, err := parseSize(toks[1], 2)
			if err != nil {
				return nil, fail(toks[1], "pool window: %v, want PHxPW", err)
			}
			w := [2]int{dims[0], dims[1]}
			l = LayerSpec{Kind: KindPool, Kernel: w, Stride: w}
			sizeTok = toks[1]
		case "fc":
			if len(toks) != 2 {
				return nil, fail(kindTok, "want %q", "fc N")
			}
			n, err := parseCount(toks[1])
			if err != nil {
				return nil, fail(toks[1], "number of outputs: %v", err)
			}
			l = LayerSpec{Kind: KindFC, N: n}
			sizeTok = toks[1]
			seenFC = true
		default:
			return nil, fail(kindTok, "unknown layer kind, want in, conv, pool or fc")
		}

		out, err := layerOut(cur, l)
		if err != nil {
			return nil, fail(sizeTok, "%v", err)
		}
		cur = out
		net.Layers = append(net.Layers, l)
	}
	return net, nil
}

// parseConv reads "conv N KHxKW [sS] [pP]"; fail builds the error for a token.
func parseConv(toks []string, fail func(tok, format string, args ...any) error) (LayerSpec, error) {
	l := LayerSpec{Kind: KindConv, Stride: [2]int{1, 1}}
	if len(toks) < 3 {
		return l, fail(toks[0], "want %q", "conv N KHxKW [sS] [pP]")
	}
	n, err := parseCount(toks[1])
	if err != nil {
		return l, fail(toks[1], "number of filters: %v", err)
	}
	l.N = n
	dims, err := parseSize(toks[2], 2)
	if err != nil {
		return l, fail(toks[2], "filter size: %v, want KHxKW", err)
	}
	l.Kernel = [2]int{dims[0], dims[1]}

	seen := map[byte]bool{}
	for _, tok := range toks[3:] {
		opt := strings.ToLower(tok)
		if len(opt) < 2 || (opt[0] != 's' && opt[0] != 'p') {
			return l, fail(tok, "unknown conv option, want sS (stride) or pP (padding)")
		}
		if seen[opt[0]] {
			return l, fail(tok, "option given twice")
		}
		seen[opt[0]] = true
		if opt[0] == 's' {
			if l.Stride, err = parsePair(opt[1:], 1); err != nil {
				return l, fail(tok, "stride: %v", err)
			}
		} else {
			if l.Pad, err = parsePair(opt[1:], 0); err != nil {
				return l, fail(tok, "padding: %v", err)
			}
		}
	}
	return l, nil
}

// parseSize reads n positive numbers joined by 'x', such as "3x3" or "256x256x3".
func parseSize(tok string, n int) ([]int, error) {
	parts := strings.Split(strings.ToLower(tok), "x")
	if len(parts) != n {
		return nil, fmt.Errorf("malformed size, want %d numbers joined by 'x'", n)
	}
	dims := make([]int, n)
	for i, p := range parts {
		v, err := parseNumber(p, 1)
		if err != nil {
			return nil, err
		}
		dims[i] = v
	}
	return dims, nil
}

// parsePair reads "S" (both directions) or "HxW", each at least least.
func parsePair(s string, least int) ([2]int, error) {
	parts := strings.Split(s, "x")
	if len(parts) > 2 {
		return [2]int{}, fmt.Errorf("malformed, want one number or HxW")
	}
	var v [2]int
	for i, p := range parts {
		n, err := parseNumber(p, least)
		if err != nil {
			return [2]int{}, err
		}
		v[i] = n
	}
	if len(parts) == 1 {
		v[1] = v[0]
	}
	return v, nil
}

// parseCount reads a positive count such as a number of filters.
func parseCount(s string) (int, error) {
	return parseNumber(s, 1)
}

func parseNumber(s string, least int) (int, error) {
	v, err := strconv.Atoi(s)
	if err != nil {
		// Atoi's own message repeats the token; the caller already quotes it.
		return 0, fmt.Errorf("malformed number %q", s)
	}
	if v < least {
		if least == 1 {
			return 0, fmt.Errorf("%d is not positive", v)
		}
		return 0, fmt.Errorf("%d is negative", v)
	}
	if v > maxValue {
		return 0, fmt.Errorf("%d is too large (max %d)", v, maxValue)
	}
	return v, nil
}

// layerOut checks one layer's hyperparameters against its input shape
// [height, width, channels] and returns its output shape. It repeats the
// checks Parse makes on syntax because a Network may also be built by hand.
func layerOut(in [3]int, l LayerSpec) ([3]int, error) {
	for _, v := range []int{l.N, l.Kernel[0], l.Kernel[1], l.Stride[0], l.Stride[1], l.Pad[0], l.Pad[1], l.PadExtra[0], l.PadExtra[1]} {
		if v < 0 || v > maxValue {
			return [3]int{}, fmt.Errorf("%s hyperparameter %d out of range [0, %d]", l.Kind, v, maxValue)
		}
	}
	switch l.Kind {
	case KindConv:
		if l.N < 1 || l.Kernel[0] < 1 || l.Kernel[1] < 1 || l.Stride[0] < 1 || l.Stride[1] < 1 {
			return [3]int{}, fmt.Errorf("conv needs positive filters, filter size and stride, got %d %s s%s",
				l.N, hw(l.Kernel), hw(l.Stride))
		}
		var out [3]int
		for d := range 2 {
			padded := in[d] + 2*l.Pad[d] + l.PadExtra[d]
			if l.Kernel[d] > padded {
				return [3]int{}, fmt.Errorf("filter %s is larger than its padded input %s",
					hw(l.Kernel), hw(paddedSize(in, l)))
			}
			// Integer division floors because padded >= kernel: the last
			// positions the filter cannot reach fully are dropped.
			out[d] = (padded-l.Kernel[d])/l.Stride[d] + 1
		}
		out[2] = l.N
		return out, nil
	case KindPool:
		if l.Kernel[0] < 1 || l.Kernel[1] < 1 {
			return [3]int{}, fmt.Errorf("pool window %s is not positive", hw(l.Kernel))
		}
		if l.Stride != l.Kernel || l.Pad != [2]int{} || l.PadExtra != [2]int{} {
			return [3]int{}, fmt.Errorf("pool must have stride = window %s and no padding, got stride %s pad %s",
				hw(l.Kernel), hw(l.Stride), hw(l.Pad))
		}
		if l.Kernel[0] > in[0] || l.Kernel[1] > in[1] {
			return [3]int{}, fmt.Errorf("pool window %s is larger than its input %s", hw(l.Kernel), hw([2]int{in[0], in[1]}))
		}
		return [3]int{in[0] / l.Kernel[0], in[1] / l.Kernel[1], in[2]}, nil
	case KindFC:
		if l.N < 1 {
			return [3]int{}, fmt.Errorf("fc needs a positive number of outputs, got %d", l.N)
		}
		// The flattened vector is kept as a 1x1 image with N channels so
		// that an fc after an fc flattens trivially.
		return [3]int{1, 1, l.N}, nil
	default:
		return [3]int{}, fmt.Errorf("unknown layer kind %q", l.Kind)
	}
}

func paddedSize(in [3]int, l LayerSpec) [2]int {
	return [2]int{in[0] + 2*l.Pad[0] + l.PadExtra[0], in[1] + 2*l.Pad[1] + l.PadExtra[1]}
}

// String returns the network as a spec, with every conv's stride and padding
// written out. Parse reads it back unless a layer has PadExtra.
func (n *Network) String() string {
	if n == nil {
		return ""
	}
	parts := []string{fmt.Sprintf("in %s", shape(n.Input))}
	for _, l := range n.Layers {
		parts = append(parts, l.String())
	}
	return strings.Join(parts, "; ")
}

// String returns the layer in spec syntax. PadExtra has no syntax, so it is
// appended as "+HxW" only to keep the information visible.
func (l LayerSpec) String() string {
	switch l.Kind {
	case KindConv:
		s := fmt.Sprintf("conv %d %s s%s p%s", l.N, hw(l.Kernel), pair(l.Stride), pair(l.Pad))
		if l.PadExtra != [2]int{} {
			s += "+" + hw(l.PadExtra)
		}
		return s
	case KindPool:
		return fmt.Sprintf("pool %s", hw(l.Kernel))
	case KindFC:
		return fmt.Sprintf("fc %d", l.N)
	default:
		return fmt.Sprintf("%s?", l.Kind)
	}
}

// hw formats [height, width] as "HxW".
func hw(v [2]int) string { return fmt.Sprintf("%dx%d", v[0], v[1]) }

// pair formats a stride or padding the short way when both directions agree.
func pair(v [2]int) string {
	if v[0] == v[1] {
		return strconv.Itoa(v[0])
	}
	return hw(v)
}

// shape formats [height, width, channels] as "HxWxC".
func shape(v [3]int) string { return fmt.Sprintf("%dx%dx%d", v[0], v[1], v[2]) }
