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

// The assignment's questions, in its order and closely paraphrased (its
// text is not part of this repository); W and H are its names for the
// image's width and height.
const (
	QuestionSamePadding    = "How can a conv layer's output keep its input's size (height and width; channels aside)? Explain with a filter 2w+1 wide and 2h+1 high, stride 1, on an image W wide and H high."
	QuestionOutputSizes    = "Without padding, what is the output size of each intermediate layer (every layer but the input and the last, fully connected one)?"
	QuestionReceptiveField = "What is the receptive field of one output neuron of the last conv layer (ignoring boundary effects)?"
	QuestionSameSizeParams = "How many parameters does the network have when every conv layer's output keeps its input's height and width?"
)

// Checks holds what an independent build of the network (cnn-calc's
// libtorch check) confirmed for each answer, one sentence each. An empty
// field means that answer was not checked.
type Checks struct {
	SamePadding       string // (1)
	OutputSizes       string // (2)
	ReceptiveField    string // (3)
	SameSizeParams    string // (4)
	NoPaddingParams   string // extra: weights without padding
	HalfPaddingParams string // extra: (k-1)/2 padding with strides kept
}

// Answer is one section of the answers: one of the assignment's questions
// or, with an empty Number, extra material the assignment did not ask for.
type Answer struct {
	Number   string // "(1)" to "(4)"; "" for extra material
	Topic    string // a few words, for headings
	Question string // the question as asked; "" for extra material
	Body     string // the derivation and the answer, lines without indent
	Check    string // what libtorch confirmed; "" if not checked
}

// Heading is the section's short heading: the number and the topic, or
// "Extra: " and the topic.
func (a Answer) Heading() string {
	if a.Number == "" {
		return "Extra: " + a.Topic
	}
	return a.Number + " " + a.Topic
}

// Answers returns the assignment's four questions answered in its order,
// then the extra material. c may be nil (nothing checked).
func Answers(r *Report, c *Checks) []Answer {
	if r == nil {
		return nil
	}
	if c == nil {
		c = &Checks{}
	}
	section := func(number, topic, question string, write func(*strings.Builder), check string) Answer {
		var b strings.Builder
		write(&b)
		lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
		for i, l := range lines {
			lines[i] = strings.TrimRight(l, " ") // tabwriter pads the last column
		}
		return Answer{Number: number, Topic: topic, Question: question, Body: strings.Join(lines, "\n"), Check: check}
	}
	as := []Answer{
		section("(1)", "Padding that keeps the output size", QuestionSamePadding,
			func(b *strings.Builder) { writeSamePadding(b, r) }, c.SamePadding),
		section("(2)", "Output sizes without padding", QuestionOutputSizes,
			func(b *strings.Builder) { writeOutputSizes(b, r) }, c.OutputSizes),
		section("(3)", "Receptive field of the last conv layer", QuestionReceptiveField,
			func(b *strings.Builder) { writeReceptiveField(b, r) }, c.ReceptiveField),
		section("(4)", "Parameters when every conv keeps its input's size", QuestionSameSizeParams,
			func(b *strings.Builder) { writeSameSize(b, r) }, c.SameSizeParams),
		section("", "the layers as specified, with receptive fields and jumps", "",
			func(b *strings.Builder) { writeTable(b, r) }, ""),
		section("", "weights without padding", "",
			func(b *strings.Builder) { writeNoPadding(b, r) }, c.NoPaddingParams),
		section("", "another reading of (4): (k-1)/2 padding on every conv, strides kept", "",
			func(b *strings.Builder) { writeHalfPadding(b, r) }, c.HalfPaddingParams),
	}
	if strided := stridedNotes(r); strided != "" {
		as = append(as, section("", "\"same\" padding for a strided conv", "",
			func(b *strings.Builder) { b.WriteString(strided) }, ""))
	}
	return as
}

// Explain returns the answers as text, the way the command prints them:
// each question with its derivation and check, then the extra material.
// c may be nil (nothing checked).
func Explain(r *Report, c *Checks) string {
	if r == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Network: %s\n", r.Spec)
	b.WriteString(Conventions)
	extra := false
	for _, a := range Answers(r, c) {
		if a.Number == "" && !extra {
			b.WriteString("\n---- Extra: not asked by the assignment ----\n")
			extra = true
		}
		if a.Number != "" {
			fmt.Fprintf(&b, "\n%s %s\n", a.Number, a.Question)
		} else {
			fmt.Fprintf(&b, "\n%s\n", a.Heading())
		}
		for _, line := range strings.Split(a.Body, "\n") {
			fmt.Fprintf(&b, "  %s\n", line)
		}
		if a.Check != "" {
			fmt.Fprintf(&b, "  Checked: %s\n", a.Check)
		}
	}
	return b.String()
}

// Markdown returns the answers as Markdown: a "## " section per question,
// the question quoted, its derivation in a text block and its check below,
// then the extra material under "## Extra: " headings. c may be nil (nothing checked).
func Markdown(r *Report, c *Checks) string {
	if r == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "The network: `%s`.\n%s", r.Spec, Conventions)
	for _, a := range Answers(r, c) {
		fmt.Fprintf(&b, "\n## %s\n\n", a.Heading())
		if a.Question != "" {
			fmt.Fprintf(&b, "> %s\n\n", a.Question)
		}
		fmt.Fprintf(&b, "```text\n%s\n```\n", a.Body)
		if a.Check != "" {
			fmt.Fprintf(&b, "\nChecked: %s\n", a.Check)
		}
	}
	return b.String()
}

// Conventions says how sizes are written and computed, for the top of the
// answers.
const Conventions = "Sizes are height x width (x channels). No biases, no activations.\n" +
	"Shapes: conv out = floor((in + 2p - k)/s) + 1; pool out = floor(in/P), leftover rows/columns dropped.\n"

func writeTable(b *strings.Builder, r *Report) {
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tlayer\thyperparameters\tin\tout\tweights\treceptive field\tjump")
	fmt.Fprintf(tw, "0\tinput\t\t\t%s\t\t1x1\t1x1\n", shape(r.Input))
	for _, l := range r.Layers {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n",
			l.Index, l.Name, describe(l.LayerSpec), shape(l.In), shape(l.Out), l.Params, hw(l.ReceptiveField), hw(l.Jump))
	}
	fmt.Fprintf(tw, "\t\t\t\ttotal\t%d\t\t\n", r.Params)
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
	b.WriteString(`Answer: pad the input with zeros, h rows on top and h on the bottom, w columns on
the left and w on the right; the output is then H high and W wide, for any W and H.
Why: a stride-1 conv with a filter k = 2h+1 high and 2w+1 wide and p zeros on each
side gives out = in + 2p - k + 1 in each direction. Setting out = in gives
2p = k - 1, so p = (k-1)/2: h = (k-1)/2 rows, w = (k-1)/2 columns.
For this network's convs:
`)
	for _, sp := range r.SamePadding {
		fmt.Fprintf(b, "%s (layer %d), filter %s: pad %s on each side (rows x columns)\n",
			sp.Name, sp.Layer, hw(sp.Kernel), hw(sp.Pad))
		fmt.Fprintf(b, "  %s\n", sp.Reasoning)
		if sp.Strided != "" {
			fmt.Fprintf(b, "  (its stride is %s: what keeping its size then takes is in (4) and in the extra below)\n", pair(sp.Stride))
		}
	}
}

// stridedNotes collects the strided convs' notes on "same" padding.
func stridedNotes(r *Report) string {
	var b strings.Builder
	for _, sp := range r.SamePadding {
		if sp.Strided == "" {
			continue
		}
		fmt.Fprintf(&b, "%s (layer %d), filter %s:\n", sp.Name, sp.Layer, hw(sp.Kernel))
		for _, line := range strings.Split(sp.Strided, "\n") {
			fmt.Fprintf(&b, "  %s\n", line)
		}
	}
	return b.String()
}

func writeOutputSizes(b *strings.Builder, r *Report) {
	b.WriteString("Without padding: conv out = floor((in - k)/s) + 1; pool out = floor(in/P).\n")
	v := r.NoPadding
	if v.Invalid != "" {
		fmt.Fprintf(b, "Not computable: %s\n", v.Invalid)
		return
	}
	var answers []string
	for i, l := range v.Layers {
		if i == len(v.Layers)-1 && l.Kind == KindFC {
			break // the last fc is not an intermediate layer
		}
		var step [2]string
		for d := range 2 {
			switch l.Kind {
			case KindConv:
				step[d] = fmt.Sprintf("floor((%d - %d)/%d) + 1 = %d", l.In[d], l.Kernel[d], l.Stride[d], l.Out[d])
			case KindPool:
				step[d] = fmt.Sprintf("floor(%d/%d) = %d", l.In[d], l.Kernel[d], l.Out[d])
			default:
				step[d] = "1"
			}
		}
		fmt.Fprintf(b, "%s %s: %s -> %s\n", l.Name, describe(l.LayerSpec), perDim(step), shape(l.Out))
		answers = append(answers, l.Name+" "+shape(l.Out))
	}
	fmt.Fprintf(b, "Answer: %s.\n", strings.Join(answers, ", "))
}

func writeReceptiveField(b *strings.Builder, r *Report) {
	var last Layer
	for _, l := range r.Layers {
		if l.Index == r.ReceptiveFieldLayer {
			last = l
		}
	}
	fmt.Fprintf(b, `The last conv is %s (layer %d). Start from one input pixel: r = 1, j = 1 (r: field
size in input pixels; j: distance in input pixels between neighbouring neurons).
Through each conv and pool (a pool is k = s = its window):
r_out = r_in + (k-1)*j_in, j_out = j_in*s.
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
		fmt.Fprintf(b, "%s: %s\n", what, perDim(step))
		rf, jump = l.ReceptiveField, l.Jump
	}
	fmt.Fprintf(b, "Answer: %s input pixels (height x width). Padding does not change it: it only\n"+
		"adds zeros around the image, so near a border part of the field lies on zeros.\n", hw(r.ReceptiveField))
}

func writeNoPadding(b *strings.Builder, r *Report) {
	b.WriteString("conv: KH*KW*Cin*N; fc: (H*W*C of its flattened input)*N; pool: none.\n")
	if r.NoPadding.Invalid != "" {
		fmt.Fprintf(b, "Not computable: %s\n", r.NoPadding.Invalid)
		return
	}
	writeWeights(b, r.NoPadding)
	if r.ParamsNoPadding != r.Params {
		fmt.Fprintf(b, "(The spec's padding was removed; as specified the total is %d.)\n", r.Params)
	}
}

func writeSameSize(b *strings.Builder, r *Report) {
	b.WriteString(`The parameters are the weights (no biases): conv KH*KW*Cin*N, fc (H*W*C of its
flattened input)*N, pool none. Each conv gets the zero padding for which its output is
as high and as wide as its input; strides stay as given. A conv's weights do not
depend on its padding, so only the fc's input changes. A stride-1 conv needs
p = (k-1)/2, as in (1). A conv with stride s > 1 shrinks the image unless the padding
undoes the stride: the smallest p with floor((in + 2p - k)/s) + 1 = in needs
2p >= (in-1)*s + k - in, far more than the filter. It is computed anyway, to answer
the question as asked; the extra below gives the other reading.
`)
	if r.SameSize.Invalid != "" {
		fmt.Fprintf(b, "Not computable: %s\n", r.SameSize.Invalid)
		return
	}
	for _, l := range r.SameSize.Layers {
		if l.Kind != KindConv || l.Stride == [2]int{1, 1} {
			continue
		}
		var step [2]string
		for d := range 2 {
			step[d] = fmt.Sprintf("(%d-1)*%d + %d - %d = %d zeros in total",
				l.In[d], l.Stride[d], l.Kernel[d], l.In[d], 2*l.Pad[d]+l.PadExtra[d])
		}
		fmt.Fprintf(b, "%s, stride %s: %s, so pad %s on each side\n", l.Name, pair(l.Stride), perDim(step), hw(l.Pad))
	}
	writeWeights(b, r.SameSize)
	fmt.Fprintf(b, "Answer: %d parameters.\n", r.SameSize.Params)
}

func writeHalfPadding(b *strings.Builder, r *Report) {
	h := r.HalfPadding
	if h.Invalid != "" {
		fmt.Fprintf(b, "Not computable: %s\n", h.Invalid)
		return
	}
	b.WriteString("Every conv padded (k-1)/2 as in (1), strides kept, so strided convs still shrink the image:\n")
	writeWeights(b, h)
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
		fmt.Fprintf(tw, "%s\tin %s\t%s\tout %s\tweights %s\n", l.Name, shape(l.In), pad, shape(l.Out), weights)
		if l.Params > 0 {
			terms = append(terms, strconv.Itoa(l.Params))
		}
	}
	tw.Flush()
	fmt.Fprintf(b, "Total: %s = %d\n", strings.Join(terms, " + "), v.Params)
}

// perDim prints one formula for both directions when they agree, else one
// per direction.
func perDim(s [2]string) string {
	if s[0] == s[1] {
		return s[0]
	}
	return "height " + s[0] + "; width " + s[1]
}
