package cnncalc

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
)

// JSON returns the report as indented JSON. Shapes are [height, width,
// channels] and sizes [height, width], as everywhere in the package.
func (r *Report) JSON() ([]byte, error) {
	if r == nil {
		return nil, errors.New("report json: nil report")
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("report json: %w", err)
	}
	return b, nil
}

// Explain returns the answers to the four questions with their reasoning
// and formulas, as the command prints them.
func Explain(r *Report) string {
	if r == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Network: %s\n", r.Spec)
	b.WriteString("Sizes are height x width (x channels). No biases, no activations.\n")
	b.WriteString("Shapes: conv out = floor((in + 2p - k)/s) + 1; pool out = floor(in/P), leftover rows/columns dropped.\n\n")
	writeTable(&b, r)
	b.WriteString("\n")
	writeSamePadding(&b, r)
	b.WriteString("\n")
	writeReceptiveField(&b, r)
	b.WriteString("\n")
	writeNoPadding(&b, r)
	b.WriteString("\n")
	writeSameSize(&b, r)
	return b.String()
}

func writeTable(b *strings.Builder, r *Report) {
	b.WriteString("Layers as specified:\n")
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  #\tlayer\thyperparameters\tin\tout\tweights\treceptive field\tjump")
	fmt.Fprintf(tw, "  0\tinput\t\t\t%s\t\t1x1\t1x1\n", shape(r.Input))
	for _, l := range r.Layers {
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n",
			l.Index, l.Name, describe(l.LayerSpec), shape(l.In), shape(l.Out), l.Params, hw(l.ReceptiveField), hw(l.Jump))
	}
	fmt.Fprintf(tw, "  \t\t\t\ttotal\t%d\t\t\n", r.Params)
	tw.Flush()
}

// describe gives a layer's hyperparameters in words for the table.
func describe(l LayerSpec) string {
	switch l.Kind {
	case KindConv:
		s := fmt.Sprintf("%d filters %s, stride %s, pad %s", l.N, hw(l.Kernel), pair(l.Stride), pair(l.Pad))
		if l.PadExtra != [2]int{} {
			s += fmt.Sprintf(" +%s at bottom/right", hw(l.PadExtra))
		}
		return s
	case KindPool:
		return fmt.Sprintf("max-pool window %s", hw(l.Kernel))
	case KindFC:
		return fmt.Sprintf("%d outputs", l.N)
	default:
		return string(l.Kind)
	}
}

func writeSamePadding(b *strings.Builder, r *Report) {
	b.WriteString(`Q1. Padding that keeps a stride-1 conv's output as large as its input
  A stride-1 conv with a filter k = 2h+1 high and 2w+1 wide and p zeros on each side
  gives out = in + 2p - k + 1. Setting out = in gives 2p = k - 1, so p = (k-1)/2:
  h rows on top and on the bottom, w columns on the left and on the right,
  whatever the input size.
`)
	for _, sp := range r.SamePadding {
		fmt.Fprintf(b, "  %s (layer %d), filter %s: pad %s on each side (rows x columns)\n",
			sp.Name, sp.Layer, hw(sp.Kernel), hw(sp.Pad))
		for _, line := range strings.Split(sp.Reasoning, "\n") {
			fmt.Fprintf(b, "    %s\n", line)
		}
	}
}

func writeReceptiveField(b *strings.Builder, r *Report) {
	var last Layer
	for _, l := range r.Layers {
		if l.Index == r.ReceptiveFieldLayer {
			last = l
		}
	}
	fmt.Fprintf(b, `Q2. Receptive field of one neuron of %s (layer %d), the last conv
  Start from one input pixel: r = 1, j = 1 (r: field size in input pixels; j: distance
  in input pixels between neighbouring neurons). Through each conv and pool (a pool is
  k = s = its window): r_out = r_in + (k-1)*j_in, j_out = j_in*s.
`, last.Name, last.Index)
	rf, jump := [2]int{1, 1}, [2]int{1, 1}
	for _, l := range r.Layers {
		if l.Index > r.ReceptiveFieldLayer {
			break
		}
		var step [2]string
		for d := range 2 {
			step[d] = fmt.Sprintf("r = %d + %d*%d = %d, j = %d*%d = %d",
				rf[d], l.Kernel[d]-1, jump[d], l.ReceptiveField[d], jump[d], l.Stride[d], l.Jump[d])
		}
		what := fmt.Sprintf("%s %s", l.Name, hw(l.Kernel))
		if l.Kind == KindConv {
			what += " s" + pair(l.Stride)
		}
		fmt.Fprintf(b, "  %s: %s\n", what, perDim(step))
		rf, jump = l.ReceptiveField, l.Jump
	}
	fmt.Fprintf(b, "  Answer: %s input pixels (height x width). Padding does not change it: it only\n"+
		"  adds zeros around the image, so near a border part of the field lies on zeros.\n", hw(r.ReceptiveField))
}

func writeNoPadding(b *strings.Builder, r *Report) {
	b.WriteString(`Q3. Weights without padding (no biases)
  conv: KH*KW*Cin*N; fc: (H*W*C of its flattened input)*N; pool: none.
`)
	if r.NoPadding.Invalid != "" {
		fmt.Fprintf(b, "  Not computable: %s\n", r.NoPadding.Invalid)
		return
	}
	writeWeights(b, r.NoPadding)
	if r.ParamsNoPadding != r.Params {
		fmt.Fprintf(b, "  (The spec's padding was removed; as specified the total is %d.)\n", r.Params)
	}
}

func writeSameSize(b *strings.Builder, r *Report) {
	b.WriteString(`Q4. Weights when every conv's output keeps its input's height and width
  Reading: each conv gets the zero padding for which its output is as high and as wide
  as its input; strides stay as given. A conv's weights do not depend on its padding,
  so only the fc's input changes. A stride-1 conv needs p = (k-1)/2 (Q1). A conv with
  stride s > 1 shrinks the image unless the padding undoes the stride: the smallest p
  with floor((in + 2p - k)/s) + 1 = in needs 2p >= (in-1)*s + k - in, far more than
  the filter. It is computed anyway, to answer the question as asked.
`)
	if r.SameSize.Invalid != "" {
		fmt.Fprintf(b, "  Not computable: %s\n", r.SameSize.Invalid)
	} else {
		for _, l := range r.SameSize.Layers {
			if l.Kind != KindConv || l.Stride == [2]int{1, 1} {
				continue
			}
			var step [2]string
			for d := range 2 {
				step[d] = fmt.Sprintf("(%d-1)*%d + %d - %d = %d zeros in total",
					l.In[d], l.Stride[d], l.Kernel[d], l.In[d], 2*l.Pad[d]+l.PadExtra[d])
			}
			fmt.Fprintf(b, "  %s, stride %s: %s, so pad %s on each side\n", l.Name, pair(l.Stride), perDim(step), hw(l.Pad))
		}
		writeWeights(b, r.SameSize)
	}

	h := r.HalfPadding
	if h.Invalid != "" {
		fmt.Fprintf(b, "  Another reading, pad (k-1)/2 on every conv with strides kept, is not computable: %s\n", h.Invalid)
		return
	}
	fmt.Fprintf(b, "  Another reading, pad (k-1)/2 on every conv (Q1) with strides kept, so strided convs\n"+
		"  still shrink the image, gives %d weights", h.Params)
	for _, l := range h.Layers {
		if l.Kind == KindFC {
			fmt.Fprintf(b, " (the first fc sees %s)", shape(l.In))
			break
		}
	}
	b.WriteString(".\n")
}

// writeWeights lists a variant's layers with the arithmetic of each weight
// count, then the total as a sum.
func writeWeights(b *strings.Builder, v Variant) {
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	var terms []string
	for _, l := range v.Layers {
		var pad, weights string
		switch l.Kind {
		case KindConv:
			pad = "pad " + hw(l.Pad)
			if l.PadExtra != [2]int{} {
				pad += "+" + hw(l.PadExtra)
			}
			weights = fmt.Sprintf("%d*%d*%d*%d = %d", l.Kernel[0], l.Kernel[1], l.In[2], l.N, l.Params)
		case KindFC:
			weights = fmt.Sprintf("%d*%d*%d*%d = %d", l.In[0], l.In[1], l.In[2], l.N, l.Params)
		default:
			weights = "0"
		}
		fmt.Fprintf(tw, "  %s\tin %s\t%s\tout %s\tweights %s\n", l.Name, shape(l.In), pad, shape(l.Out), weights)
		if l.Params > 0 {
			terms = append(terms, strconv.Itoa(l.Params))
		}
	}
	tw.Flush()
	fmt.Fprintf(b, "  Total: %s = %d\n", strings.Join(terms, " + "), v.Params)
}

// perDim prints one formula for both directions when they agree, else one
// per direction.
func perDim(s [2]string) string {
	if s[0] == s[1] {
		return s[0]
	}
	return "height " + s[0] + "; width " + s[1]
}
