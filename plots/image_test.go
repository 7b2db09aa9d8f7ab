package plots

import (
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// digit is a 28×28 grey test image: a bright ring, like a zero.
func digit(shift float64) Image {
	img := Image{C: 1, H: 28, W: 28, Pix: make([]float32, 28*28)}
	for y := range 28 {
		for x := range 28 {
			r := math.Hypot(float64(x)-13.5-shift, float64(y)-13.5)
			img.Pix[y*28+x] = float32(math.Max(0, 1-math.Abs(r-8)/3))
		}
	}
	return img
}

// quad is a 2×2 RGB image whose pixels are red, green, blue and black, to
// check the CHW layout.
func quad() Image {
	return Image{C: 3, H: 2, W: 2, Pix: []float32{
		1, 0, 0, 0, // R plane
		0, 1, 0, 0, // G plane
		0, 0, 1, 0, // B plane
	}}
}

func TestImageGridLayout(t *testing.T) {
	path := outPath(t, "grid_layout.png")
	// No title or labels: tile [0][0] starts at the margin, and 2 px are
	// upscaled 32 times to reach 64 px.
	if err := ImageGrid(path, "", [][]Image{{quad(), quad()}}, nil); err != nil {
		t.Fatal(err)
	}
	img := readPNG(t, path)
	checkSize(t, img, 2*marginPx+2*64+tileGapPx, 2*marginPx+64)
	tests := []struct {
		x, y int
		want color.RGBA
	}{
		{marginPx + 16, marginPx + 16, color.RGBA{255, 0, 0, 255}},
		{marginPx + 48, marginPx + 16, color.RGBA{0, 255, 0, 255}},
		{marginPx + 16, marginPx + 48, color.RGBA{0, 0, 255, 255}},
		{marginPx + 48, marginPx + 48, color.RGBA{0, 0, 0, 255}},
		// Edges of the nearest-neighbour blocks are exact too.
		{marginPx + 31, marginPx, color.RGBA{255, 0, 0, 255}},
		{marginPx + 32, marginPx, color.RGBA{0, 255, 0, 255}},
		{marginPx + 64 + tileGapPx + 16, marginPx + 16, color.RGBA{255, 0, 0, 255}},
		{marginPx + 64 + 1, marginPx + 16, color.RGBA{255, 255, 255, 255}}, // gap
		{2, 2, color.RGBA{255, 255, 255, 255}},                             // margin
	}
	for _, tt := range tests {
		if got := rgba(img.At(tt.x, tt.y)); got != tt.want {
			t.Errorf("pixel (%d,%d) = %v, want %v", tt.x, tt.y, got, tt.want)
		}
	}
}

func TestImageGrid(t *testing.T) {
	orig := []Image{digit(0), digit(2), digit(-2), digit(1)}
	recon := []Image{digit(0.5), digit(1.5), digit(-1.5), digit(0.5)}
	filters := make([]Image, 8)
	for i := range filters {
		pix := make([]float32, 3*3)
		for j := range pix {
			pix[j] = float32(math.Sin(float64(i*9 + j)))
		}
		filters[i] = Image{C: 1, H: 3, W: 3, Pix: NormalizeTile(pix)}
	}
	tests := []struct {
		name   string
		title  string
		rows   [][]Image
		labels []string
		minW   int // lower bound from tile sizes alone
		minH   int
	}{
		{"reconstructions", "VAE reconstructions, epoch 10", [][]Image{orig, recon}, []string{"original", "reconstruction"}, 4 * 84, 2 * 84},
		{"filters", "conv1 filters", [][]Image{filters[:4], filters[4:]}, nil, 4 * 66, 2 * 66},
		{"ragged rows", "", [][]Image{orig, orig[:2]}, []string{"a", "b"}, 4 * 84, 2 * 84},
		{"rgb", "CIFAR", [][]Image{{quad(), quad()}}, []string{"cat"}, 2 * 64, 64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := outPath(t, "grid_"+strings.ReplaceAll(tt.name, " ", "_")+".png")
			if err := ImageGrid(path, tt.title, tt.rows, tt.labels); err != nil {
				t.Fatal(err)
			}
			img := readPNG(t, path)
			b := img.Bounds()
			if b.Dx() < tt.minW+2*marginPx || b.Dy() < tt.minH+2*marginPx {
				t.Errorf("size %v, want at least %d×%d", b.Size(), tt.minW+2*marginPx, tt.minH+2*marginPx)
			}
			hist := histogram(img)
			distinct, inked := colorCount(hist)
			if distinct < 8 || inked < 0.2 {
				t.Errorf("looks blank: %d colours, %.3f inked", distinct, inked)
			}
		})
	}
}

func TestImageGridErrors(t *testing.T) {
	ok := digit(0)
	nan := digit(0)
	nan.Pix[5] = float32(math.NaN())
	tests := []struct {
		name   string
		rows   [][]Image
		labels []string
		want   error
	}{
		{"no rows", nil, nil, ErrNoData},
		{"empty row", [][]Image{{ok}, {}}, nil, ErrNoData},
		{"two channels", [][]Image{{{C: 2, H: 1, W: 1, Pix: []float32{0, 0}}}}, nil, ErrShape},
		{"zero size", [][]Image{{{C: 1}}}, nil, ErrShape},
		{"short pix", [][]Image{{{C: 3, H: 2, W: 2, Pix: make([]float32, 4)}}}, nil, ErrLength},
		{"NaN pixel", [][]Image{{ok, nan}}, nil, ErrNaN},
		{"mixed sizes", [][]Image{{ok, quad()}}, nil, ErrShape},
		{"label count", [][]Image{{ok}, {ok}}, []string{"one"}, ErrLength},
		{"too large", [][]Image{slices.Repeat([]Image{ok}, 300)}, nil, ErrShape},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "g.png")
			checkErr(t, ImageGrid(path, "t", tt.rows, tt.labels), tt.want)
			checkNoFile(t, path)
		})
	}
}

func TestNormalizeTile(t *testing.T) {
	nan := float32(math.NaN())
	tests := []struct {
		name string
		in   []float32
		want []float32
	}{
		{"range", []float32{0, 2, 4}, []float32{0, 0.5, 1}},
		{"negative", []float32{-0.5, 0, 0.5}, []float32{0, 0.5, 1}},
		{"constant", []float32{3, 3}, []float32{0.5, 0.5}},
		{"single", []float32{-7}, []float32{0.5}},
		{"empty", []float32{}, []float32{}},
		{"NaN kept", []float32{1, nan, 3}, []float32{0, nan, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.in)
			got := NormalizeTile(in)
			if !slices.EqualFunc(got, tt.want, func(a, b float32) bool { return a == b || (a != a && b != b) }) {
				t.Errorf("NormalizeTile(%v) = %v, want %v", tt.in, got, tt.want)
			}
			if !slices.EqualFunc(in, tt.in, func(a, b float32) bool { return a == b || (a != a && b != b) }) {
				t.Errorf("input modified to %v", in)
			}
		})
	}
}
