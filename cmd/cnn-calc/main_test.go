package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"torchlab/torch/torchrt"
)

// jsonOut is the part of --json's output the tests read.
type jsonOut struct {
	Layers []struct {
		Kind string `json:"kind"`
		Out  [3]int `json:"out"`
	} `json:"layers"`
	SamePadding []struct {
		Pad [2]int `json:"pad"`
	} `json:"same_padding"`
	ReceptiveField  [2]int `json:"receptive_field"`
	ParamsNoPadding int    `json:"params_no_padding"`
	ParamsSameSize  int    `json:"params_same_size"`
	Check           *struct {
		Libtorch string `json:"libtorch"`
		Variants []struct {
			Name   string   `json:"name"`
			Also   []string `json:"also"`
			Shapes int      `json:"shapes"`
			Params int      `json:"params"`
			Field  struct {
				Want [2]int `json:"want"`
				Rows [2]int `json:"rows"`
				Cols [2]int `json:"cols"`
			} `json:"receptive_field"`
		} `json:"variants"`
	} `json:"libtorch_check"`
}

func runCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	torchrt.Lock()
	var out, errOut bytes.Buffer
	cfg, err := parseFlags(args, &errOut)
	if err != nil {
		return "", errOut.String(), err
	}
	cfg.Threads = 2
	err = answer(cfg, &out, &errOut)
	return out.String(), errOut.String(), err
}

// The assignment's network, no arguments but --json: the exact answers,
// and libtorch's agreement on the specified, same-size and half-padded
// networks (the specified one has no padding, so it is also the no-padding one).
func TestAssignmentJSONCheckedByLibtorch(t *testing.T) {
	stdout, stderr, err := runCmd(t, "--json")
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	var got jsonOut
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, stdout)
	}
	wantOut := [][3]int{{254, 254, 100}, {84, 84, 50}, {42, 42, 50}, {40, 40, 30}, {20, 10, 30}, {1, 1, 10}}
	wantKind := []string{"conv", "conv", "pool", "conv", "pool", "fc"}
	if len(got.Layers) != len(wantOut) {
		t.Fatalf("%d layers, want %d", len(got.Layers), len(wantOut))
	}
	for i, l := range got.Layers {
		if l.Kind != wantKind[i] || l.Out != wantOut[i] {
			t.Errorf("layer %d: %s %v, want %s %v", i+1, l.Kind, l.Out, wantKind[i], wantOut[i])
		}
	}
	var pads [][2]int
	for _, sp := range got.SamePadding {
		pads = append(pads, sp.Pad)
	}
	if len(pads) != 3 || pads[0] != [2]int{1, 1} || pads[1] != [2]int{2, 2} || pads[2] != [2]int{1, 1} {
		t.Errorf("same padding %v, want [1 1] [2 2] [1 1]", pads)
	}
	if got.ReceptiveField != [2]int{22, 22} || got.ParamsNoPadding != 201200 || got.ParamsSameSize != 755600 {
		t.Errorf("receptive field %v, params %d / %d; want [22 22], 201200 / 755600",
			got.ReceptiveField, got.ParamsNoPadding, got.ParamsSameSize)
	}

	if got.Check == nil {
		t.Fatal("no libtorch_check in the JSON")
	}
	wantVariants := map[string]int{"as specified": 201200, "same size": 755600, "half padding": 204200}
	if len(got.Check.Variants) != len(wantVariants) {
		t.Errorf("libtorch checked %d variants, want %d", len(got.Check.Variants), len(wantVariants))
	}
	for _, v := range got.Check.Variants {
		if v.Name == "as specified" && (len(v.Also) != 1 || v.Also[0] != "no padding") {
			t.Errorf("as specified is also %q, want [no padding]: it has no padding", v.Also)
		}
		if v.Params != wantVariants[v.Name] || v.Shapes != 6 || v.Field.Want != [2]int{22, 22} {
			t.Errorf("variant %q: %d shapes, %d weights, field %v; want 6, %d, [22 22]", v.Name, v.Shapes, v.Params, v.Field.Want, wantVariants[v.Name])
		}
		if v.Field.Rows[1]-v.Field.Rows[0]+1 != 22 || v.Field.Cols[1]-v.Field.Cols[0]+1 != 22 {
			t.Errorf("variant %q: gradient rows %v cols %v, want 22 of each", v.Name, v.Field.Rows, v.Field.Cols)
		}
	}
	for _, want := range []string{
		"checked by libtorch " + got.Check.Libtorch + " (as specified): all 6 shapes and the parameter count (201200) agree",
		"checked by libtorch " + got.Check.Libtorch + " (same size): all 6 shapes and the parameter count (755600) agree",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

// The default text answers the four questions with their arithmetic.
func TestAssignmentText(t *testing.T) {
	stdout, _, err := runCmd(t, "--check=false")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Network: in 256x256x3; conv 100 3x3 s1 p0; conv 50 5x5 s3 p0; pool 2x2; conv 30 3x3 s1 p0; pool 2x4; fc 10",
		"conv1 (layer 1), filter 3x3: pad 1x1 on each side",
		"conv2 (layer 2), filter 5x5: pad 2x2 on each side",
		"pool2  max-pool window 2x4               40x40x30     20x10x30",
		"Answer: 22x22 input pixels (height x width)",
		"Total: 2700 + 125000 + 13500 + 60000 = 201200",
		"conv2, stride 3: (256-1)*3 + 5 - 256 = 514 zeros in total, so pad 257x257 on each side",
		"Total: 2700 + 125000 + 13500 + 614400 = 755600",
		"Not checked by libtorch (--check=false).",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// The committed answers are the command's output: regenerate them with
// MarkdownCommand when the answers or their wording change.
func TestCommittedAnswers(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "results", "cnn-basics.md")
	committed, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	stdout, stderr, err := runCmd(t, "--markdown")
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	if stdout == string(committed) {
		return
	}
	got, want := strings.Split(stdout, "\n"), strings.Split(string(committed), "\n")
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Fatalf("%s differs from cnn-calc --markdown at line %d:\n  file:    %q\n  command: %q\nregenerate: %s",
				path, i+1, w, g, MarkdownCommand)
		}
	}
}

// The text answers (1)-(4) in the assignment's order, each with its
// libtorch check, before the extra material.
func TestAnswersNumberedAndChecked(t *testing.T) {
	stdout, stderr, err := runCmd(t)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	last := -1
	for _, want := range []string{
		"\n(1) How can a conv layer's output keep its input's size",
		"Checked: libtorch 1.13 built the network with (k-1)/2 zeros on each side of every conv",
		"conv1 256x256 -> 256x256, conv3 43x43 -> 43x43.",
		"\n(2) Without padding, what is the output size of each intermediate layer",
		"Checked: libtorch 1.13 built the network without padding and ran a zero 256x256x3 image through it: all 6 layers' output shapes",
		"\n(3) What is the receptive field of one output neuron of the last conv layer",
		"input rows 114-135 and columns 114-135 have a non-zero gradient, 22x22 pixels.",
		"\n(4) How many parameters does the network have",
		"Answer: 755600 parameters.",
		"Checked: libtorch 1.13 built that network: its VarStore holds 755600 weights and all 6",
		"\n---- Extra: not asked by the assignment ----",
		"Checked: libtorch 1.13's VarStore of that network holds 201200 weights.",
		"its VarStore holds 204200 weights",
	} {
		i := strings.Index(stdout, want)
		if i < 0 {
			t.Errorf("output lacks %q", want)
			continue
		}
		if i < last {
			t.Errorf("%q comes before the previous line checked", want)
		}
		last = i
	}
	if strings.Contains(stdout, "Q1.") || strings.Contains(stdout, "Q2.") {
		t.Errorf("output still numbers the questions Q1, Q2:\n%s", stdout)
	}
	if _, _, err := runCmd(t, "--json", "--markdown"); err == nil {
		t.Errorf("--json with --markdown did not fail")
	}
}

// Other networks with answers worked out by hand, checked by libtorch.
func TestOtherSpecs(t *testing.T) {
	tests := []struct {
		spec             string
		out              [][3]int
		rf               [2]int
		noPad, sameSize  int
		checkedVariants  int
		wantSummaryParts []string
	}{
		{
			// 28 -> conv 5x5: 24 -> pool: 12 -> conv 3x3: 10 -> pool: 5;
			// fc 5*5*16*10 = 4000; weights 5*5*1*8 = 200, 3*3*8*16 = 1152.
			// Field: 1+4 = 5, +1*1 = 6 (j 2), +2*2 = 10.
			// Same size: 28, 14, 14, 7 -> fc 7*7*16*10 = 7840.
			spec:            "in 28x28x1; conv 8 5x5; pool 2x2; conv 16 3x3; pool 2x2; fc 10",
			out:             [][3]int{{24, 24, 8}, {12, 12, 8}, {10, 10, 16}, {5, 5, 16}, {1, 1, 10}},
			rf:              [2]int{10, 10},
			noPad:           200 + 1152 + 4000,
			sameSize:        200 + 1152 + 7840,
			checkedVariants: 2, // as specified = no padding = half padding (stride 1)
		},
		{
			// Rectangular: 9x16 -> conv 3x5 s1x2: 7x6 -> pool 1x2: 7x3 -> fc.
			// Field 3x5, then the pool: 3 x (5+1*2) = 3x7 (conv is last: 3x5).
			spec:            "in 9x16x2; conv 4 3x5 s1x2; pool 1x2; fc 3",
			out:             [][3]int{{7, 6, 4}, {7, 3, 4}, {1, 1, 3}},
			rf:              [2]int{3, 5},
			noPad:           3*5*2*4 + 7*3*4*3,
			sameSize:        3*5*2*4 + 9*8*4*3, // 9x16 kept -> pool 9x8
			checkedVariants: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			stdout, stderr, err := runCmd(t, "--json", "--spec", tt.spec)
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			var got jsonOut
			if err := json.Unmarshal([]byte(stdout), &got); err != nil {
				t.Fatal(err)
			}
			for i, l := range got.Layers {
				if l.Out != tt.out[i] {
					t.Errorf("layer %d out %v, want %v", i+1, l.Out, tt.out[i])
				}
			}
			if got.ReceptiveField != tt.rf || got.ParamsNoPadding != tt.noPad || got.ParamsSameSize != tt.sameSize {
				t.Errorf("field %v, params %d / %d; want %v, %d / %d", got.ReceptiveField,
					got.ParamsNoPadding, got.ParamsSameSize, tt.rf, tt.noPad, tt.sameSize)
			}
			if got.Check == nil || len(got.Check.Variants) != tt.checkedVariants {
				t.Errorf("libtorch check %+v, want %d variants", got.Check, tt.checkedVariants)
			}
			if !strings.Contains(stderr, "checked by libtorch") {
				t.Errorf("stderr does not say the check ran: %q", stderr)
			}
		})
	}
}

func TestBadSpecs(t *testing.T) {
	tests := []struct {
		spec string
		want []string
	}{
		{"in 32x32x3; conv 8 3x3; relu; fc 10", []string{`token "relu"`, "unknown layer kind"}},
		{"in 4x4x1; conv 2 5x5; fc 1", []string{`token "5x5"`, "larger than its padded input 4x4"}},
		{"in 8x8x1; conv 0 3x3; fc 1", []string{`token "0"`, "not positive"}},
		{"in 8x8x1; conv 2 3x3 s-1; fc 1", []string{`token "s-1"`, "not positive"}},
		{"in 8x8x1; pool 9x2", []string{`token "9x2"`, "larger than its input"}},
		{"in 0x8x1; conv 1 1x1", []string{`token "0x8x1"`}},
		{"conv 1 3x3", []string{`token "conv"`, "the input is missing"}},
		{"in 8x8x1; fc 10", []string{"no conv layer"}},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			stdout, _, err := runCmd(t, "--spec", tt.spec)
			if err == nil {
				t.Fatalf("no error; output:\n%s", stdout)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	if _, _, err := runCmd(t, "extra"); err == nil || !strings.Contains(err.Error(), "--spec") {
		t.Errorf("a stray argument gives %v, want an error pointing at --spec", err)
	}
}
