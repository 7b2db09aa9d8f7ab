package cnncalc

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestParseDefaultSpec(t *testing.T) {
	got, err := Parse(DefaultSpec)
	if err != nil {
		t.Fatalf("Parse(DefaultSpec): %v", err)
	}
	want := &Network{
		Input: [3]int{256, 256, 3},
		Layers: []LayerSpec{
			{Kind: KindConv, N: 100, Kernel: [2]int{3, 3}, Stride: [2]int{1, 1}},
			{Kind: KindConv, N: 50, Kernel: [2]int{5, 5}, Stride: [2]int{3, 3}},
			{Kind: KindPool, Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}},
			{Kind: KindConv, N: 30, Kernel: [2]int{3, 3}, Stride: [2]int{1, 1}},
			// 2 rows high, 4 columns wide.
			{Kind: KindPool, Kernel: [2]int{2, 4}, Stride: [2]int{2, 4}},
			{Kind: KindFC, N: 10},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse(DefaultSpec) =\n%+v\nwant\n%+v", got, want)
	}
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		name string
		spec string
		want *Network
	}{
		{
			name: "defaults: stride 1, no padding",
			spec: "in 5x6x2; conv 4 3x3",
			want: &Network{Input: [3]int{5, 6, 2}, Layers: []LayerSpec{
				{Kind: KindConv, N: 4, Kernel: [2]int{3, 3}, Stride: [2]int{1, 1}},
			}},
		},
		{
			name: "options in any order, per-direction stride and padding",
			spec: "in 5x6x2; conv 4 3x5 p1x2 s2x1",
			want: &Network{Input: [3]int{5, 6, 2}, Layers: []LayerSpec{
				{Kind: KindConv, N: 4, Kernel: [2]int{3, 5}, Stride: [2]int{2, 1}, Pad: [2]int{1, 2}},
			}},
		},
		{
			name: "upper case, extra spaces, trailing and blank items",
			spec: "  IN 8x8X1 ;; CONV 2  3X3   S1 P0 ; POOL 2x2; FC 3;",
			want: &Network{Input: [3]int{8, 8, 1}, Layers: []LayerSpec{
				{Kind: KindConv, N: 2, Kernel: [2]int{3, 3}, Stride: [2]int{1, 1}},
				{Kind: KindPool, Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}},
				{Kind: KindFC, N: 3},
			}},
		},
		{
			name: "fc after fc",
			spec: "in 4x4x1; fc 8; fc 2",
			want: &Network{Input: [3]int{4, 4, 1}, Layers: []LayerSpec{
				{Kind: KindFC, N: 8},
				{Kind: KindFC, N: 2},
			}},
		},
		{
			name: "input only",
			spec: "in 1x1x1",
			want: &Network{Input: [3]int{1, 1, 1}},
		},
		{
			name: "filter fits only thanks to padding",
			spec: "in 2x2x1; conv 1 4x4 p1",
			want: &Network{Input: [3]int{2, 2, 1}, Layers: []LayerSpec{
				{Kind: KindConv, N: 1, Kernel: [2]int{4, 4}, Stride: [2]int{1, 1}, Pad: [2]int{1, 1}},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.spec)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.spec, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q) =\n%+v\nwant\n%+v", tt.spec, got, tt.want)
			}
			// String writes a spec that parses back to the same network.
			again, err := Parse(got.String())
			if err != nil {
				t.Fatalf("Parse(String() = %q): %v", got.String(), err)
			}
			if !reflect.DeepEqual(again, got) {
				t.Errorf("round trip through %q changed the network:\n%+v", got.String(), again)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name   string
		spec   string
		layer  int
		token  string
		reason string // part of the reason
	}{
		{"unknown kind", "in 8x8x1; cnv 2 3x3", 1, "cnv", "unknown layer kind"},
		{"unknown kind relu", "in 8x8x1; conv 2 3x3; relu", 2, "relu", "unknown layer kind"},
		{"malformed filter", "in 8x8x1; conv 2 3by3", 1, "3by3", "malformed"},
		{"filter with three numbers", "in 8x8x1; conv 2 3x3x3", 1, "3x3x3", "malformed size"},
		{"filter missing width", "in 8x8x1; conv 2 3x", 1, "3x", "malformed"},
		{"input with two numbers", "in 8x8; conv 2 3x3", 0, "8x8", "malformed size"},
		{"malformed pool", "in 8x8x1; pool 2", 1, "2", "malformed size"},
		{"filters not a number", "in 8x8x1; conv 3x3 s1", 1, "3x3", "number of filters"},
		{"zero filter height", "in 8x8x1; conv 2 0x3", 1, "0x3", "not positive"},
		{"zero filters", "in 8x8x1; conv 0 3x3", 1, "0", "not positive"},
		{"zero channels", "in 8x8x0; conv 1 3x3", 0, "8x8x0", "not positive"},
		{"negative pool", "in 8x8x1; pool 2x-1", 1, "2x-1", "not positive"},
		{"zero fc", "in 8x8x1; conv 1 1x1; fc 0", 2, "0", "not positive"},
		{"zero stride", "in 8x8x1; conv 2 3x3 s0", 1, "s0", "stride"},
		{"negative padding", "in 8x8x1; conv 2 3x3 p-1", 1, "p-1", "negative"},
		{"too large", "in 99999999999x8x1; conv 1 1x1", 0, "99999999999x8x1", "too large"},
		{"filter larger than input", "in 4x4x1; conv 2 5x5", 1, "5x5", "larger than its padded input 4x4"},
		{"filter larger than padded input", "in 4x4x1; conv 2 7x7 p1", 1, "7x7", "larger than its padded input 6x6"},
		{"pool wider than input", "in 4x4x1; pool 2x8", 1, "2x8", "larger than its input 4x4"},
		{"filter larger than a later input", "in 8x8x1; conv 2 3x3; pool 4x4; conv 1 3x3", 3, "3x3", "larger than its padded input 1x1"},
		{"input missing", "conv 2 3x3; fc 1", 0, "conv", "input is missing"},
		{"input repeated", "in 4x4x1; conv 1 1x1; in 4x4x1", 2, "in", "repeated"},
		{"conv after fc", "in 4x4x1; fc 3; conv 2 1x1", 2, "conv", "after fc"},
		{"pool after fc", "in 4x4x1; fc 3; pool 1x1", 2, "pool", "after fc"},
		{"unknown conv option", "in 8x8x1; conv 2 3x3 q1", 1, "q1", "unknown conv option"},
		{"stride twice", "in 8x8x1; conv 2 3x3 s1 s2", 1, "s2", "twice"},
		{"conv without filter size", "in 8x8x1; conv 2", 1, "conv", "conv N KHxKW"},
		{"fc with two numbers", "in 8x8x1; fc 3 4", 1, "fc", "fc N"},
		{"in without size", "in", 0, "in", "in HxWxC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			net, err := Parse(tt.spec)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want an error", tt.spec, net)
			}
			var se *SpecError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %q is not a *SpecError", tt.spec, err)
			}
			if se.Layer != tt.layer || se.Token != tt.token {
				t.Errorf("Parse(%q) blames layer %d token %q, want layer %d token %q", tt.spec, se.Layer, se.Token, tt.layer, tt.token)
			}
			msg := err.Error()
			for _, part := range []string{`token "` + tt.token + `"`, fmt.Sprintf("layer %d ", tt.layer), tt.reason} {
				if !strings.Contains(msg, part) {
					t.Errorf("Parse(%q) error %q does not mention %q", tt.spec, msg, part)
				}
			}
		})
	}
}

func TestParseEmpty(t *testing.T) {
	for _, spec := range []string{"", "  ", ";;"} {
		if _, err := Parse(spec); err == nil || !strings.Contains(err.Error(), "empty") {
			t.Errorf("Parse(%q) error = %v, want one saying the spec is empty", spec, err)
		}
	}
}
