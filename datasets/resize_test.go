package datasets

import (
	"math"
	"math/rand"
	"testing"
)

func TestResizeBilinear(t *testing.T) {
	// Along one axis, 2 -> 4 with align_corners=False samples the source at
	// 0 (clamped), 0.25, 0.75 and 1.25 (edge-clamped to 1), giving these
	// fractions of the way from the first to the second pixel.
	f := []float32{0, 0.25, 0.75, 1}
	want2to4 := make([]float32, 16)
	for i := range 4 {
		for j := range 4 {
			want2to4[i*4+j] = 2*f[i] + f[j] // input [[0,1],[2,3]]
		}
	}
	ramp := randomPlane(5, 7, 1)
	tests := []struct {
		name             string
		src              []float32
		h, w, outH, outW int
		want             []float32
	}{
		{"2x2 to 4x4", []float32{0, 1, 2, 3}, 2, 2, 4, 4, want2to4},
		{"identity", ramp, 5, 7, 5, 7, ramp},
		// 4 -> 2 samples at 0.5 and 2.5: the mean of each pair.
		{"halve width", []float32{0, 2, 4, 8}, 1, 4, 1, 2, []float32{1, 6}},
		{"constant up", constPlane(3, 5, 0.3), 3, 5, 8, 2, constPlane(8, 2, 0.3)},
		{"constant down", constPlane(28, 28, 0.7), 28, 28, 5, 9, constPlane(5, 9, 0.7)},
		{"bad length", []float32{1, 2, 3}, 2, 2, 4, 4, nil},
		{"zero output", []float32{1}, 1, 1, 0, 4, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ResizeBilinear(tt.src, tt.h, tt.w, tt.outH, tt.outW)
			checkPlane(t, got, tt.want, 1e-6)
		})
	}
}

func TestResizeArea(t *testing.T) {
	tests := []struct {
		name             string
		src              []float32
		h, w, outH, outW int
		want             []float32
	}{
		{"2x2 blocks", []float32{
			1, 3, 5, 7,
			1, 3, 5, 7,
			0, 0, 4, 4,
			8, 8, 4, 4,
		}, 4, 4, 2, 2, []float32{2, 6, 4, 4}},
		// 3 -> 2: each output covers 1.5 pixels, so weights 2/3 and 1/3.
		{"3 to 2", []float32{3, 6, 9}, 1, 3, 1, 2, []float32{4, 8}},
		{"identity", []float32{1, 2, 3, 4, 5, 6}, 2, 3, 2, 3, []float32{1, 2, 3, 4, 5, 6}},
		// Upsampling: 2 -> 3, the middle output straddles both pixels.
		{"2 to 3", []float32{0, 6}, 1, 2, 1, 3, []float32{0, 3, 6}},
		{"constant", constPlane(212, 212, 0.4), 212, 212, 64, 64, constPlane(64, 64, 0.4)},
		{"bad size", []float32{1}, 1, 1, -1, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ResizeArea(tt.src, tt.h, tt.w, tt.outH, tt.outW)
			checkPlane(t, got, tt.want, 1e-5)
		})
	}
}

// An area filter must keep the mean: every source pixel is spread over the
// outputs with weights that add up to its share.
func TestResizeAreaKeepsMean(t *testing.T) {
	for _, sz := range [][4]int{{212, 212, 64, 64}, {30, 17, 7, 5}, {9, 9, 3, 3}} {
		src := randomPlane(sz[0], sz[1], 2)
		got := ResizeArea(src, sz[0], sz[1], sz[2], sz[3])
		if d := math.Abs(mean(got) - mean(src)); d > 1e-5 {
			t.Errorf("%v: mean changed by %g", sz, d)
		}
	}
}

func checkPlane(t *testing.T, got, want []float32, tol float64) {
	t.Helper()
	if want == nil {
		if got != nil {
			t.Fatalf("got %v, want nil", got)
		}
		return
	}
	if len(got) != len(want) {
		t.Fatalf("len %d, want %d", len(got), len(want))
	}
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > tol {
			t.Errorf("[%d] = %v, want %v", i, got[i], want[i])
		}
	}
}

func constPlane(h, w int, v float32) []float32 {
	p := make([]float32, h*w)
	for i := range p {
		p[i] = v
	}
	return p
}

func randomPlane(h, w int, seed int64) []float32 {
	rng := rand.New(rand.NewSource(seed))
	p := make([]float32, h*w)
	for i := range p {
		p[i] = rng.Float32()
	}
	return p
}

func mean(p []float32) float64 {
	var s float64
	for _, v := range p {
		s += float64(v)
	}
	return s / float64(len(p))
}
