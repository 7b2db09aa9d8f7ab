package torchcheck

import (
	"strings"
	"testing"

	"torchlab/internal/cnncalc"
	"torchlab/torch/torchrt"
)

func analyze(t *testing.T, spec string) *cnncalc.Report {
	t.Helper()
	net, err := cnncalc.Parse(spec)
	if err != nil {
		t.Fatalf("Parse(%q): %v", spec, err)
	}
	r, err := cnncalc.Analyze(net)
	if err != nil {
		t.Fatalf("Analyze(%q): %v", spec, err)
	}
	return r
}

// The assignment's network is checked through cmd/cnn-calc's tests; these
// are smaller networks that reach the other branches.
func TestCheckAgrees(t *testing.T) {
	torchrt.Lock()
	tests := []struct {
		name     string
		spec     string
		variants []string
		field    Field // of the first variant
	}{
		{
			// Rectangular filter, per-direction stride and padding: the
			// plain ts.Conv2d path. conv2 (3x3 s2x1) on 5x5 from pool 2x4
			// has an 8x16 field (cnncalc's tests). Its fields start at
			// row -1+4*o and column -2+4*o: every row range pokes out of
			// the 10 rows, so the rows are clipped (0-6), while neuron
			// column 1 fits (2-17).
			name:     "rectangular",
			spec:     "in 10x20x2; conv 4 3x5 p1x2; pool 2x4; conv 6 3x3 s2x1; fc 5",
			variants: []string{"as specified", "no padding", "same size", "half padding"},
			field:    Field{Layer: "conv2", Want: [2]int{8, 16}, Rows: [2]int{0, 6}, Cols: [2]int{2, 17}, Clipped: true},
		},
		{
			// An even filter: same size needs one extra zero at the
			// bottom/right, made with ConstantPadNd.
			name:     "even filter",
			spec:     "in 7x9x1; conv 1 2x2; pool 2x4; fc 1",
			variants: []string{"as specified", "same size"},
			field:    Field{Layer: "conv1", Want: [2]int{2, 2}, Connected: [2]int{2, 2}},
		},
		{
			// A 1x1 filter with stride 3 then a 3x3 conv: the field spans
			// 1+2*3 = 7 pixels but only every third is connected.
			name:     "gaps",
			spec:     "in 12x12x1; conv 2 1x1 s3; conv 1 3x3",
			variants: []string{"as specified", "same size", "half padding"},
			field:    Field{Layer: "conv2", Want: [2]int{7, 7}, Connected: [2]int{3, 3}},
		},
		{
			// The padded 3x3 filter on a 2x2 image: every neuron's field
			// lies partly on padding, so only the part inside is compared.
			// No-padding is impossible and skipped.
			name:     "clipped",
			spec:     "in 2x2x1; conv 1 3x3 p1; fc 1",
			variants: []string{"as specified"},
			field:    Field{Layer: "conv1", Want: [2]int{3, 3}, Rows: [2]int{0, 1}, Cols: [2]int{0, 1}, Clipped: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			torchrt.Lock() // a subtest is a new goroutine
			r := analyze(t, tt.spec)
			res, err := Check(r)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, v := range res.Variants {
				names = append(names, v.Name)
			}
			if strings.Join(names, ",") != strings.Join(tt.variants, ",") {
				t.Fatalf("checked variants %v, want %v", names, tt.variants)
			}
			v := res.Variants[0]
			if v.Params != r.Params || v.Shapes != len(r.Layers) {
				t.Errorf("checked %d shapes and %d weights, want %d and %d", v.Shapes, v.Params, len(r.Layers), r.Params)
			}
			f, w := v.Field, tt.field
			if f.Layer != w.Layer || f.Want != w.Want || f.Clipped != w.Clipped {
				t.Errorf("field %+v, want layer %s size %v clipped %v", f, w.Layer, w.Want, w.Clipped)
			}
			if !f.Clipped && (f.Rows[1]-f.Rows[0]+1 != w.Want[0] || f.Cols[1]-f.Cols[0]+1 != w.Want[1]) {
				t.Errorf("measured rows %v cols %v, want a %v field", f.Rows, f.Cols, w.Want)
			}
			if w.Connected != [2]int{} && f.Connected != w.Connected {
				t.Errorf("connected %v, want %v", f.Connected, w.Connected)
			}
			if f.Clipped && (f.Rows != w.Rows || f.Cols != w.Cols) {
				t.Errorf("clipped field rows %v cols %v, want %v %v", f.Rows, f.Cols, w.Rows, w.Cols)
			}
			if s := res.Summary(); !strings.Contains(s, "checked by libtorch "+res.Libtorch) {
				t.Errorf("summary %q", s)
			}
		})
	}
}

// A report whose arithmetic is wrong must fail the check, naming the layer.
func TestCheckFindsMismatch(t *testing.T) {
	torchrt.Lock()
	const spec = "in 16x16x3; conv 4 3x3; pool 2x2; conv 2 3x3 s2; fc 3"
	tests := []struct {
		name   string
		tamper func(r *cnncalc.Report)
		want   string
	}{
		{"shape", func(r *cnncalc.Report) { r.Layers[1].Out[0]++ }, "pool1: libtorch's output is [1 4 7 7]"},
		{"layer weights", func(r *cnncalc.Report) { r.Layers[0].Params-- }, "conv1: weight [4 3 3 3] has 108 values, cnncalc counts 107"},
		{"total weights", func(r *cnncalc.Report) { r.Params++ }, "holds 234 weights, cnncalc counts 235"},
		{"receptive field", func(r *cnncalc.Report) { r.Layers[2].ReceptiveField[1]-- }, "conv2 neuron"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			torchrt.Lock() // a subtest is a new goroutine
			r := analyze(t, spec)
			if _, err := Check(r); err != nil {
				t.Fatalf("untampered report fails: %v", err)
			}
			tt.tamper(r)
			_, err := Check(r)
			if err == nil {
				t.Fatal("tampered report passed the check")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

// Checks puts each variant's outcome under the answer about that variant,
// finding a variant also by the names it stands for, and leaves an answer
// whose variant was not built unchecked.
func TestChecksPerAnswer(t *testing.T) {
	rep := analyze(t, "in 8x8x1; conv 2 3x3; pool 2x2; fc 1")
	res := &Result{Libtorch: "9.9", Variants: []Variant{
		{Name: "as specified", Also: []string{"no padding"}, Shapes: 3, Params: 27,
			Field: Field{Layer: "conv1", Neuron: [2]int{2, 2}, Want: [2]int{3, 3}, Rows: [2]int{2, 4}, Cols: [2]int{2, 4}, Connected: [2]int{3, 3}}},
		{Name: "same size", Also: []string{"half padding"}, Shapes: 3, Params: 50},
	}}
	if v, ok := res.Find("no padding"); !ok || v.Name != "as specified" {
		t.Errorf("Find(no padding) = %q, %v; want the as-specified variant", v.Name, ok)
	}
	if _, ok := res.Find("tuned"); ok {
		t.Errorf("Find found a variant that was never checked")
	}
	c := res.Checks(rep)
	for name, tt := range map[string]struct{ got, want string }{
		"(1)":          {c.SamePadding, "conv1 8x8 -> 8x8"},
		"(2)":          {c.OutputSizes, "zero 8x8x1 image through it: all 3 layers' output shapes"},
		"(3)":          {c.ReceptiveField, "input rows 2-4 and columns 2-4 have a non-zero gradient, 3x3 pixels."},
		"(4)":          {c.SameSizeParams, "holds 50 weights"},
		"no padding":   {c.NoPaddingParams, "holds 27 weights"},
		"half padding": {c.HalfPaddingParams, "holds 50 weights"},
	} {
		if !strings.Contains(tt.got, tt.want) || !strings.Contains(tt.got, "libtorch 9.9") {
			t.Errorf("check of %s = %q, want it to name libtorch 9.9 and say %q", name, tt.got, tt.want)
		}
	}
	res.Variants = res.Variants[:1]
	if c := res.Checks(rep); c.SameSizeParams != "" || c.SamePadding != "" {
		t.Errorf("unbuilt variants reported as checked: %+v", c)
	}
}
