package cnncalc

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestExplain(t *testing.T) {
	tests := []struct {
		spec string
		want []string // each answer with the arithmetic that leads to it
	}{
		{DefaultSpec, []string{
			"p = (k-1)/2",
			"conv1 (layer 1), filter 3x3: pad 1x1",
			"p = (k-1)/2: rows (3-1)/2 = 1 top and bottom; columns (3-1)/2 = 1 left and right",
			"conv2 (layer 2), filter 5x5: pad 2x2",
			"Its actual stride is 3",
			"(ceil(in/s)-1)*s + k - in = 3x3 zeros in total",
			"conv2 5x5 s3: r = 3 + 4*1 = 7, j = 1*3 = 3",
			"pool1 2x2: r = 7 + 1*3 = 10, j = 3*2 = 6",
			"Answer: 22x22 input pixels",
			"weights 20*10*30*10 = 60000",
			"Total: 2700 + 125000 + 13500 + 60000 = 201200",
			"(256-1)*3 + 5 - 256 = 514 zeros in total, so pad 257x257",
			"Total: 2700 + 125000 + 13500 + 614400 = 755600",
			"Total: 2700 + 125000 + 13500 + 63000 = 204200",
			"Answer: conv1 254x254x100, conv2 84x84x50, pool1 42x42x50, conv3 40x40x30, pool2 20x10x30.",
			"pool2 max-pool window 2x4: height floor(40/2) = 20; width floor(40/4) = 10 -> 20x10x30",
			"Answer: 755600 parameters.",
		}},
		{"in 10x20x2; conv 4 3x5 p1x2; pool 2x4; conv 6 3x3 s2x1; fc 5", []string{
			"conv1 (layer 1), filter 3x5: pad 1x2",
			"pool1 2x4: height r = 3 + 1*1 = 4, j = 1*2 = 2; width r = 5 + 3*1 = 8, j = 1*4 = 4",
			"Answer: 8x16 input pixels",
			"as specified the total is 516",
			"height (5-1)*2 + 3 - 5 = 6 zeros in total; width (5-1)*1 + 3 - 5 = 2 zeros in total, so pad 3x1",
		}},
		{"in 8x8x1; conv 2 4x2; fc 1", []string{
			"filter 4x2: pad 1x0 on each side",
			"rows (4-1)/2 = 1 top and bottom, plus 1 at the bottom since k-1 = 3 is odd; columns (2-1)/2 = 0 left and right, plus 1 at the right since k-1 = 1 is odd",
			"pad 1x0+1x1",
		}},
	}
	for _, tt := range tests {
		text := Explain(analyze(t, tt.spec), nil)
		for _, want := range tt.want {
			if !strings.Contains(text, want) {
				t.Errorf("Explain(%q) does not contain %q; got:\n%s", tt.spec, want, text)
			}
		}
	}
	if Explain(nil, nil) != "" || Markdown(nil, nil) != "" || Answers(nil, nil) != nil {
		t.Errorf("a nil report gives answers")
	}
}

// The assignment's questions come first, numbered (1)-(4) in its order,
// each once, before anything extra; every check lands under its own
// question.
func TestAnswersFollowTheAssignment(t *testing.T) {
	r := analyze(t, DefaultSpec)
	checks := &Checks{SamePadding: "check-1", OutputSizes: "check-2", ReceptiveField: "check-3",
		SameSizeParams: "check-4", NoPaddingParams: "check-nopad", HalfPaddingParams: "check-half"}
	as := Answers(r, checks)
	want := []struct{ number, question, check, inBody string }{
		{"(1)", QuestionSamePadding, "check-1", "p = (k-1)/2"},
		{"(2)", QuestionOutputSizes, "check-2", "-> 20x10x30"},
		{"(3)", QuestionReceptiveField, "check-3", "Answer: 22x22 input pixels"},
		{"(4)", QuestionSameSizeParams, "check-4", "Answer: 755600 parameters."},
		{"", "", "", "receptive field  jump"},
		{"", "", "check-nopad", "= 201200"},
		{"", "", "check-half", "= 204200"},
		{"", "", "", "TensorFlow's SAME"},
	}
	if len(as) != len(want) {
		t.Fatalf("%d sections, want %d: %+v", len(as), len(want), as)
	}
	for i, w := range want {
		a := as[i]
		if a.Number != w.number || a.Question != w.question || a.Check != w.check || !strings.Contains(a.Body, w.inBody) {
			t.Errorf("section %d = %q %q check %q, want %q %q check %q with %q in its body:\n%s",
				i, a.Number, a.Question, a.Check, w.number, w.question, w.check, w.inBody, a.Body)
		}
		if (a.Number == "") != strings.HasPrefix(a.Heading(), "Extra: ") {
			t.Errorf("section %d heading %q: extra material must say so, questions must not", i, a.Heading())
		}
	}
	// (2) lists the intermediate layers only: not the input, not the fc.
	if strings.Contains(as[1].Body, "fc1") {
		t.Errorf("(2) lists the last fc layer:\n%s", as[1].Body)
	}

	for name, text := range map[string]string{"Explain": Explain(r, checks), "Markdown": Markdown(r, checks)} {
		prefix := "\n" // a heading starts a line
		if name == "Markdown" {
			prefix = "\n## "
		}
		last := -1
		for _, mark := range []string{"(1) ", "(2) ", "(3) ", "(4) ", "Extra: "} {
			i := strings.Index(text, prefix+mark)
			if i <= last {
				t.Errorf("%s: %q at %d, not after the previous answer (%d)", name, mark, i, last)
			}
			last = i
		}
		for _, c := range []string{"Checked: check-1", "Checked: check-4", "Checked: check-half"} {
			if !strings.Contains(text, c) {
				t.Errorf("%s lacks %q", name, c)
			}
		}
		for i, line := range strings.Split(text, "\n") {
			if strings.HasSuffix(line, " ") {
				t.Errorf("%s line %d ends in a space: %q", name, i+1, line)
			}
		}
	}
	md := Markdown(r, nil)
	for _, w := range []string{"## (1) Padding that keeps the output size\n\n> " + QuestionSamePadding, "## (4) ", "## Extra: weights without padding"} {
		if !strings.Contains(md, w) {
			t.Errorf("Markdown lacks %q", w)
		}
	}
	if strings.Contains(md, "Checked:") {
		t.Errorf("Markdown without checks says something was checked")
	}
}

func TestReportJSON(t *testing.T) {
	b, err := analyze(t, DefaultSpec).JSON()
	if err != nil {
		t.Fatalf("JSON: %v", err)
	}
	var got struct {
		Layers []struct {
			Kind   string `json:"kind"`
			Out    []int  `json:"out"`
			Params int    `json:"params"`
		} `json:"layers"`
		SamePadding []struct {
			Layer int   `json:"layer"`
			Pad   []int `json:"pad"`
		} `json:"same_padding"`
		ReceptiveField  []int `json:"receptive_field"`
		ParamsNoPadding int   `json:"params_no_padding"`
		ParamsSameSize  int   `json:"params_same_size"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
	if len(got.Layers) != 6 || got.Layers[4].Kind != "pool" ||
		!reflect.DeepEqual(got.Layers[4].Out, []int{20, 10, 30}) || got.Layers[5].Params != 60000 {
		t.Errorf("layers = %+v", got.Layers)
	}
	if len(got.SamePadding) != 3 || got.SamePadding[2].Layer != 4 || !reflect.DeepEqual(got.SamePadding[2].Pad, []int{1, 1}) {
		t.Errorf("same_padding = %+v", got.SamePadding)
	}
	if !reflect.DeepEqual(got.ReceptiveField, []int{22, 22}) || got.ParamsNoPadding != 201200 || got.ParamsSameSize != 755600 {
		t.Errorf("receptive_field %v, params_no_padding %d, params_same_size %d",
			got.ReceptiveField, got.ParamsNoPadding, got.ParamsSameSize)
	}

	var nilReport *Report
	if _, err := nilReport.JSON(); err == nil {
		t.Errorf("JSON of a nil report did not fail")
	}
}

func TestGrammarMentionsEveryKind(t *testing.T) {
	for _, want := range []string{"in HxWxC", "conv N KHxKW [sS] [pP]", "pool PHxPW", "fc N", DefaultSpec} {
		if !strings.Contains(Grammar, want) {
			t.Errorf("Grammar does not mention %q", want)
		}
	}
}
