package cnncalc

import (
	"reflect"
	"strings"
	"testing"
)

// want holds hand-computed answers for one spec. Per-layer slices follow
// the layers after the input.
type want struct {
	out         [][3]int
	params      []int
	rf          [][2]int // per layer
	lastRF      [2]int
	lastRFLayer int
	samePad     [][2]int // stride-1 "same" padding per conv
	noPad       int
	sameSize    int
	sameSizeOut [][3]int // per layer, same-size variant
	halfPad     int
}

func TestAnalyzeNetworks(t *testing.T) {
	tests := []struct {
		name string
		spec string
		want want
	}{
		{
			// The assignment. conv2: floor((254-5)/3)+1 = 84. pool 2x4
			// halves the height and quarters the width. Receptive field:
			// r = 1+2*1 = 3 (j 1), 3+4*1 = 7 (j 3), 7+1*3 = 10 (j 6),
			// 10+2*6 = 22. Same size: conv2 needs 2p = 255*3+5-256 = 514.
			name: "assignment",
			spec: DefaultSpec,
			want: want{
				out:         [][3]int{{254, 254, 100}, {84, 84, 50}, {42, 42, 50}, {40, 40, 30}, {20, 10, 30}, {1, 1, 10}},
				params:      []int{2700, 125000, 0, 13500, 0, 60000},
				rf:          [][2]int{{3, 3}, {7, 7}, {10, 10}, {22, 22}, {28, 40}, {256, 256}},
				lastRF:      [2]int{22, 22},
				lastRFLayer: 4,
				samePad:     [][2]int{{1, 1}, {2, 2}, {1, 1}},
				noPad:       201200,
				sameSize:    755600,
				sameSizeOut: [][3]int{{256, 256, 100}, {256, 256, 50}, {128, 128, 50}, {128, 128, 30}, {64, 32, 30}, {1, 1, 10}},
				// conv2 with p=2: floor((256+4-5)/3)+1 = 86; pools give
				// 43x43 then 21x10; 2700+125000+13500+21*10*30*10.
				halfPad: 204200,
			},
		},
		{
			// VGG-style blocks of two padded 3x3 convs: sizes kept, so
			// the spec already is its same-size variant. Without padding:
			// 30, 28, 14, 12, 10, 5 -> fc 5*5*128*10 = 32000. The fc's
			// field, 16+7*4 = 44, is wider than the image: padding.
			name: "vgg block",
			spec: "in 32x32x3; conv 64 3x3 p1; conv 64 3x3 p1; pool 2x2; conv 128 3x3 p1; conv 128 3x3 p1; pool 2x2; fc 10",
			want: want{
				out:         [][3]int{{32, 32, 64}, {32, 32, 64}, {16, 16, 64}, {16, 16, 128}, {16, 16, 128}, {8, 8, 128}, {1, 1, 10}},
				params:      []int{1728, 36864, 0, 73728, 147456, 0, 81920},
				rf:          [][2]int{{3, 3}, {5, 5}, {6, 6}, {10, 10}, {14, 14}, {16, 16}, {44, 44}},
				lastRF:      [2]int{14, 14},
				lastRFLayer: 5,
				samePad:     [][2]int{{1, 1}, {1, 1}, {1, 1}, {1, 1}},
				noPad:       291776,
				sameSize:    341696,
				sameSizeOut: [][3]int{{32, 32, 64}, {32, 32, 64}, {16, 16, 64}, {16, 16, 128}, {16, 16, 128}, {8, 8, 128}, {1, 1, 10}},
				halfPad:     341696,
			},
		},
		{
			// Stride 2: floor((28-3)/2)+1 = 13, floor((13-3)/2)+1 = 6.
			// Same size: 2p >= 27*2+3-28 = 29, odd, so p = 15 on each side
			// (floor((28+30-3)/2)+1 = 28).
			name: "stride-2 convs",
			spec: "in 28x28x1; conv 8 3x3 s2; conv 16 3x3 s2; fc 10",
			want: want{
				out:         [][3]int{{13, 13, 8}, {6, 6, 16}, {1, 1, 10}},
				params:      []int{72, 1152, 5760},
				rf:          [][2]int{{3, 3}, {7, 7}, {27, 27}},
				lastRF:      [2]int{7, 7},
				lastRFLayer: 2,
				samePad:     [][2]int{{1, 1}, {1, 1}},
				noPad:       6984,
				sameSize:    126664,
				sameSizeOut: [][3]int{{28, 28, 8}, {28, 28, 16}, {1, 1, 10}},
				halfPad:     9064, // 14x14, 7x7: fc 7*7*16*10 = 7840
			},
		},
		{
			// Rectangular filter with per-direction padding, then a
			// stride of 2 rows and 1 column. conv2 in 5x5:
			// height floor((5-3)/2)+1 = 2, width 5-3+1 = 3.
			name: "rectangular, padded, per-direction stride",
			spec: "in 10x20x2; conv 4 3x5 p1x2; pool 2x4; conv 6 3x3 s2x1; fc 5",
			want: want{
				out:         [][3]int{{10, 20, 4}, {5, 5, 4}, {2, 3, 6}, {1, 1, 5}},
				params:      []int{120, 0, 216, 180},
				rf:          [][2]int{{3, 5}, {4, 8}, {8, 16}, {12, 24}},
				lastRF:      [2]int{8, 16},
				lastRFLayer: 3,
				samePad:     [][2]int{{1, 2}, {1, 1}},
				noPad:       396, // 8x16, 4x4, 1x2: fc 12*5 = 60
				sameSize:    1086,
				sameSizeOut: [][3]int{{10, 20, 4}, {5, 5, 4}, {5, 5, 6}, {1, 1, 5}},
				halfPad:     396 - 60 + 3*5*6*5, // conv2 p1: 3x5x6
			},
		},
		{
			// Pools drop what does not fill a window: 7/2 = 3, 9/4 = 2.
			// An even filter needs k-1 = 1 zero: none on top, one below.
			name: "even filter, floor pooling",
			spec: "in 7x9x1; conv 1 2x2; pool 2x4; fc 1",
			want: want{
				out:         [][3]int{{6, 8, 1}, {3, 2, 1}, {1, 1, 1}},
				params:      []int{4, 0, 6},
				rf:          [][2]int{{2, 2}, {3, 5}, {7, 9}},
				lastRF:      [2]int{2, 2},
				lastRFLayer: 1,
				samePad:     [][2]int{{0, 0}},
				noPad:       10,
				sameSize:    10, // 7x9 -> pool 3x2, as without padding
				sameSizeOut: [][3]int{{7, 9, 1}, {3, 2, 1}, {1, 1, 1}},
				halfPad:     10,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			net, err := Parse(tt.spec)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			r, err := Analyze(net)
			if err != nil {
				t.Fatalf("Analyze: %v", err)
			}
			w := tt.want
			if len(r.Layers) != len(w.out) {
				t.Fatalf("got %d layers, want %d", len(r.Layers), len(w.out))
			}
			sum := 0
			for i, l := range r.Layers {
				if l.Index != i+1 {
					t.Errorf("layer %d has Index %d", i+1, l.Index)
				}
				if l.Out != w.out[i] || l.Params != w.params[i] || l.ReceptiveField != w.rf[i] {
					t.Errorf("%s: out %v params %d rf %v, want out %v params %d rf %v",
						l.Name, l.Out, l.Params, l.ReceptiveField, w.out[i], w.params[i], w.rf[i])
				}
				sum += l.Params
			}
			if r.Params != sum {
				t.Errorf("Params = %d, want the layers' sum %d", r.Params, sum)
			}
			if r.ReceptiveField != w.lastRF || r.ReceptiveFieldLayer != w.lastRFLayer {
				t.Errorf("receptive field %v of layer %d, want %v of layer %d",
					r.ReceptiveField, r.ReceptiveFieldLayer, w.lastRF, w.lastRFLayer)
			}
			var pads [][2]int
			for _, sp := range r.SamePadding {
				pads = append(pads, sp.Pad)
			}
			if !reflect.DeepEqual(pads, w.samePad) {
				t.Errorf("same padding %v, want %v", pads, w.samePad)
			}
			if r.ParamsNoPadding != w.noPad || r.ParamsSameSize != w.sameSize || r.HalfPadding.Params != w.halfPad {
				t.Errorf("params: no padding %d, same size %d, half padding %d; want %d, %d, %d",
					r.ParamsNoPadding, r.ParamsSameSize, r.HalfPadding.Params, w.noPad, w.sameSize, w.halfPad)
			}
			for _, v := range []Variant{r.NoPadding, r.SameSize, r.HalfPadding} {
				if v.Invalid != "" {
					t.Errorf("variant invalid: %s", v.Invalid)
				}
			}
			for i, l := range r.SameSize.Layers {
				if l.Out != w.sameSizeOut[i] {
					t.Errorf("same size %s: out %v, want %v", l.Name, l.Out, w.sameSizeOut[i])
				}
				if l.Kind == KindConv && (l.Out[0] != l.In[0] || l.Out[1] != l.In[1]) {
					t.Errorf("same size %s: %v -> %v does not keep the size", l.Name, l.In, l.Out)
				}
			}
			for _, l := range r.NoPadding.Layers {
				if l.Pad != [2]int{} || l.PadExtra != [2]int{} {
					t.Errorf("no padding %s: pad %v+%v", l.Name, l.Pad, l.PadExtra)
				}
			}
		})
	}
}

// The padding details for the assignment's strided conv and for an even
// filter, which the table above only checks through the totals.
func TestAnalyzePaddingDetails(t *testing.T) {
	r := analyze(t, DefaultSpec)
	conv2 := r.SameSize.Layers[1]
	if conv2.Pad != [2]int{257, 257} || conv2.PadExtra != [2]int{} {
		t.Errorf("same-size conv2 pad %v+%v, want 257x257", conv2.Pad, conv2.PadExtra)
	}
	sp := r.SamePadding[1]
	// ceil(254/3) = 85, needing (85-1)*3 + 5 - 254 = 3 zeros in total.
	if sp.Layer != 2 || sp.StridedOut != [2]int{85, 85} || sp.StridedPadTotal != [2]int{3, 3} {
		t.Errorf("conv2 strided same: layer %d out %v total %v, want layer 2 out 85x85 total 3x3",
			sp.Layer, sp.StridedOut, sp.StridedPadTotal)
	}
	if r.SamePadding[0].StridedPadTotal != [2]int{2, 2} {
		t.Errorf("conv1 stride-1 total padding %v, want k-1 = 2", r.SamePadding[0].StridedPadTotal)
	}

	r = analyze(t, "in 8x8x1; conv 2 4x2; fc 1")
	sp = r.SamePadding[0]
	if sp.Pad != [2]int{1, 0} || sp.PadExtra != [2]int{1, 1} {
		t.Errorf("4x2 filter: pad %v+%v, want 1x0 plus 1x1", sp.Pad, sp.PadExtra)
	}
	if l := r.SameSize.Layers[0]; l.Out != [3]int{8, 8, 2} || l.Pad != [2]int{1, 0} || l.PadExtra != [2]int{1, 1} {
		t.Errorf("same-size 4x2 conv: pad %v+%v out %v, want 1x0+1x1 and 8x8x2", l.Pad, l.PadExtra, l.Out)
	}
}

func TestAnalyzeInvalidVariant(t *testing.T) {
	// The 3x3 filter fits the 2x2 input only with its padding.
	r := analyze(t, "in 2x2x1; conv 1 3x3 p1; fc 1")
	if r.NoPadding.Invalid == "" || r.ParamsNoPadding != 0 {
		t.Errorf("no-padding variant: invalid %q params %d, want an explanation and 0", r.NoPadding.Invalid, r.ParamsNoPadding)
	}
	if !strings.Contains(r.NoPadding.Invalid, "larger than its padded input 2x2") {
		t.Errorf("no-padding variant: invalid %q does not say why", r.NoPadding.Invalid)
	}
	if r.ParamsSameSize != 9+4 {
		t.Errorf("ParamsSameSize = %d, want 13", r.ParamsSameSize)
	}
	if !strings.Contains(Explain(r, nil), "Not computable") {
		t.Errorf("Explain does not say the no-padding question has no answer")
	}
}

func TestAnalyzeErrors(t *testing.T) {
	conv := LayerSpec{Kind: KindConv, N: 1, Kernel: [2]int{3, 3}, Stride: [2]int{1, 1}}
	with := func(f func(*LayerSpec)) LayerSpec {
		l := conv
		f(&l)
		return l
	}
	tests := []struct {
		name string
		net  *Network
		want string
	}{
		{"nil", nil, "nil network"},
		{"no conv", &Network{Input: [3]int{4, 4, 1}, Layers: []LayerSpec{{Kind: KindFC, N: 2}}}, "no conv layer"},
		{"zero input", &Network{Input: [3]int{0, 4, 1}, Layers: []LayerSpec{conv}}, "input 0x4x1"},
		{"zero stride", &Network{Input: [3]int{4, 4, 1}, Layers: []LayerSpec{with(func(l *LayerSpec) { l.Stride = [2]int{} })}}, "layer 1"},
		{"negative pad", &Network{Input: [3]int{4, 4, 1}, Layers: []LayerSpec{with(func(l *LayerSpec) { l.Pad[0] = -1 })}}, "out of range"},
		{"filter too large", &Network{Input: [3]int{2, 4, 1}, Layers: []LayerSpec{conv}}, "larger than its padded input 2x4"},
		{"overlapping pool", &Network{Input: [3]int{4, 4, 1}, Layers: []LayerSpec{conv,
			{Kind: KindPool, Kernel: [2]int{2, 2}, Stride: [2]int{1, 1}}}}, "layer 2"},
		{"unknown kind", &Network{Input: [3]int{4, 4, 1}, Layers: []LayerSpec{{Kind: "relu"}}}, "unknown layer kind"},
		{"too many weights", &Network{Input: [3]int{maxValue, maxValue, maxValue}, Layers: []LayerSpec{
			{Kind: KindFC, N: maxValue}}}, "overflows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Analyze(tt.net)
			if err == nil {
				t.Fatalf("Analyze = %+v, want an error", r)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Analyze error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func analyze(t *testing.T, spec string) *Report {
	t.Helper()
	net, err := Parse(spec)
	if err != nil {
		t.Fatalf("Parse(%q): %v", spec, err)
	}
	r, err := Analyze(net)
	if err != nil {
		t.Fatalf("Analyze(%q): %v", spec, err)
	}
	return r
}
