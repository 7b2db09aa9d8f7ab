package plots

import (
	"image"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

// firstRow returns the smallest y, left of the colour bar, of a pixel for
// which match holds, or -1.
func firstRow(img image.Image, match func(r, g, b uint8) bool) int {
	b := img.Bounds()
	barPx := lenPx(colorBarWidth)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X-barPx; x++ {
			c := rgba(img.At(x, y))
			if match(c.R, c.G, c.B) {
				return y
			}
		}
	}
	return -1
}

func isRed(r, g, b uint8) bool  { return int(r) > int(b)+80 && int(r) > int(g)+60 }
func isBlue(r, g, b uint8) bool { return int(b) > int(r)+80 }

func TestHeatmap(t *testing.T) {
	// Row 0 positive, the rest negative: red must be drawn above blue.
	topRed := func(rows, cols int) []float64 {
		v := make([]float64, rows*cols)
		for i := range v {
			v[i] = -0.5 - 0.1*math.Sin(float64(i))
			if i < cols {
				v[i] = 1
			}
		}
		return v
	}
	tests := []struct {
		name       string
		rows, cols int
		values     []float64
		colors     bool // expect both red and blue cells
	}{
		{"small", 4, 6, topRed(4, 6), true},
		{"one cell", 1, 1, []float64{0.3}, false},
		{"all zero", 3, 3, make([]float64, 9), false},
		{"large", 200, 100, topRed(200, 100), true},
		{"wide", 10, 784, topRed(10, 784), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := outPath(t, "heatmap_"+strings.ReplaceAll(tt.name, " ", "_")+".png")
			err := Heatmap(path, "fc1 weights", tt.rows, tt.cols, tt.values, "input unit", "output unit")
			if err != nil {
				t.Fatal(err)
			}
			img := readPNG(t, path)
			checkSize(t, img, 900, 600)
			hist := histogram(img)
			distinct, inked := colorCount(hist)
			if distinct < 30 || inked < 0.2 {
				t.Errorf("looks blank: %d colours, %.3f inked", distinct, inked)
			}
			if !tt.colors {
				return
			}
			red, blue := firstRow(img, isRed), firstRow(img, isBlue)
			if red < 0 || blue < 0 || red >= blue {
				t.Errorf("first red row %d, first blue row %d: want red (row 0) above blue", red, blue)
			}
		})
	}
}

func TestMatrixGrid(t *testing.T) {
	// 2×3 matrix, each cell repeated 2 times across and 3 times down.
	g := matrixGrid{rows: 2, cols: 3, v: []float64{0, 1, 2, 10, 11, 12}, kx: 2, ky: 3}
	if c, r := g.Dims(); c != 6 || r != 6 {
		t.Fatalf("Dims() = %d, %d, want 6, 6", c, r)
	}
	tests := []struct {
		c, r int
		want float64
	}{
		{0, 5, 0}, {1, 3, 0}, {5, 5, 2}, // top row of the plot is matrix row 0
		{0, 0, 10}, {4, 2, 12},
	}
	for _, tt := range tests {
		if got := g.Z(tt.c, tt.r); got != tt.want {
			t.Errorf("Z(%d, %d) = %g, want %g", tt.c, tt.r, got, tt.want)
		}
	}
	// Cell edges stay on half-integers, where the index ticks expect them.
	if x0, x5 := g.X(0)-(g.X(1)-g.X(0))/2, g.X(5)+(g.X(5)-g.X(4))/2; x0 != -0.5 || x5 != 2.5 {
		t.Errorf("x extent [%g, %g], want [-0.5, 2.5]", x0, x5)
	}
	if y0, y5 := g.Y(0)-(g.Y(1)-g.Y(0))/2, g.Y(5)+(g.Y(5)-g.Y(4))/2; math.Abs(y0+0.5) > 1e-12 || math.Abs(y5-1.5) > 1e-12 {
		t.Errorf("y extent [%g, %g], want [-0.5, 1.5]", y0, y5)
	}
}

func TestHeatmapErrors(t *testing.T) {
	tests := []struct {
		name       string
		rows, cols int
		values     []float64
		want       error
	}{
		{"no rows", 0, 3, nil, ErrNoData},
		{"negative", -1, 3, []float64{1, 2, 3}, ErrShape},
		{"length", 2, 2, []float64{1, 2, 3}, ErrLength},
		{"NaN", 1, 2, []float64{1, math.NaN()}, ErrNaN},
		{"Inf", 1, 2, []float64{math.Inf(-1), 1}, ErrInf},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "h.png")
			checkErr(t, Heatmap(path, "t", tt.rows, tt.cols, tt.values, "x", "y"), tt.want)
			checkNoFile(t, path)
		})
	}
}
