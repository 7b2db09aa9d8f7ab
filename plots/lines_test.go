package plots

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"
)

func ptr(v float64) *float64 { return &v }

func TestLinesWith(t *testing.T) {
	long := Series{Name: "train", X: make([]float64, 500), Y: make([]float64, 500)}
	for i := range long.X {
		long.X[i] = float64(i)
		long.Y[i] = 2*math.Exp(-float64(i)/80) + 0.05
	}
	epochs := []float64{1, 2, 3, 4, 5}
	train := Series{Name: "train", X: epochs, Y: []float64{0.9, 0.5, 0.35, 0.3, 0.28}}
	test := Series{Name: "test", X: epochs, Y: []float64{0.8, 0.55, 0.45, 0.42, 0.41}}
	tests := []struct {
		name   string
		opts   LineOptions
		series []Series
		colors int // series whose palette colour must appear
	}{
		{"one series", LineOptions{Title: "loss", XLabel: "epoch", YLabel: "loss (nats)"}, []Series{train}, 1},
		{"train and test", LineOptions{Title: "loss", XLabel: "epoch", YLabel: "loss (nats)"}, []Series{train, test}, 2},
		{"log y", LineOptions{Title: "loss", XLabel: "step", YLabel: "loss (nats)", LogY: true}, []Series{long, test}, 2},
		{"log y within a decade", LineOptions{Title: "loss", LogY: true}, []Series{train}, 1},
		{"log y flat", LineOptions{Title: "flat", LogY: true}, []Series{{X: []float64{0, 1}, Y: []float64{3, 3}}}, 1},
		{"fixed range", LineOptions{Title: "acc", YMin: ptr(0), YMax: ptr(1)}, []Series{train, test}, 2},
		{"single point", LineOptions{Title: "one"}, []Series{{Name: "x", X: []float64{1}, Y: []float64{1}}}, 1},
		{"twelve series", LineOptions{Title: "many"}, manySeries(12), 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := outPath(t, "lines_"+strings.ReplaceAll(tt.name, " ", "_")+".png")
			if err := LinesWith(path, tt.opts, tt.series...); err != nil {
				t.Fatal(err)
			}
			img := readPNG(t, path)
			checkSize(t, img, 900, 600)
			hist := histogram(img)
			distinct, inked := colorCount(hist)
			if distinct < 20 || inked < 0.01 {
				t.Errorf("looks blank: %d colours, %.3f inked", distinct, inked)
			}
			for i := range tt.colors {
				if hist[colorAt(i)] == 0 {
					t.Errorf("colour of series %d (%v) not drawn", i, colorAt(i))
				}
			}
		})
	}
}

func manySeries(n int) []Series {
	s := make([]Series, n)
	for i := range s {
		s[i] = Series{X: []float64{0, 1, 2}, Y: []float64{float64(i), float64(i) + 1, float64(i) + 0.5}}
	}
	return s
}

func TestLinesErrors(t *testing.T) {
	ok := Series{Name: "ok", X: []float64{1, 2}, Y: []float64{1, 2}}
	tests := []struct {
		name   string
		opts   LineOptions
		series []Series
		want   error
	}{
		{"no series", LineOptions{}, nil, ErrNoData},
		{"empty series", LineOptions{}, []Series{ok, {Name: "empty"}}, ErrNoData},
		{"length mismatch", LineOptions{}, []Series{{X: []float64{1, 2}, Y: []float64{1}}}, ErrLength},
		{"NaN y", LineOptions{}, []Series{{X: []float64{1, 2}, Y: []float64{1, math.NaN()}}}, ErrNaN},
		{"Inf x", LineOptions{}, []Series{{X: []float64{math.Inf(1), 2}, Y: []float64{1, 2}}}, ErrInf},
		{"log y with zero", LineOptions{LogY: true}, []Series{{X: []float64{1, 2}, Y: []float64{1, 0}}}, ErrNonPositive},
		{"log y with negative", LineOptions{LogY: true}, []Series{{X: []float64{1, 2}, Y: []float64{-1, 2}}}, ErrNonPositive},
		{"log y with YMin 0", LineOptions{LogY: true, YMin: ptr(0)}, []Series{ok}, ErrNonPositive},
		{"YMin above YMax", LineOptions{YMin: ptr(2), YMax: ptr(1)}, []Series{ok}, ErrRange},
		{"YMin above data", LineOptions{YMin: ptr(5)}, []Series{ok}, ErrRange},
		{"NaN YMax", LineOptions{YMax: ptr(math.NaN())}, []Series{ok}, ErrNaN},
		{"band without Hi", LineOptions{}, []Series{{X: []float64{1, 2}, Y: []float64{1, 2}, Lo: []float64{0, 1}}}, ErrLength},
		{"band too short", LineOptions{}, []Series{{X: []float64{1, 2}, Y: []float64{1, 2}, Lo: []float64{0}, Hi: []float64{2}}}, ErrLength},
		{"band upside down", LineOptions{}, []Series{{X: []float64{1, 2}, Y: []float64{1, 2}, Lo: []float64{0, 3}, Hi: []float64{2, 2.5}}}, ErrRange},
		{"band NaN", LineOptions{}, []Series{{X: []float64{1, 2}, Y: []float64{1, 2}, Lo: []float64{0, math.NaN()}, Hi: []float64{2, 3}}}, ErrNaN},
		{"log y band to zero", LineOptions{LogY: true}, []Series{{X: []float64{1, 2}, Y: []float64{1, 2}, Lo: []float64{0, 1}, Hi: []float64{2, 3}}}, ErrNonPositive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.png")
			checkErr(t, LinesWith(path, tt.opts, tt.series...), tt.want)
			checkNoFile(t, path)
		})
	}
}

func TestLinesErrorNamesSeries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.png")
	err := Lines(path, "", "", "", Series{Name: "test acc", X: []float64{1, 2}, Y: []float64{1, math.NaN()}})
	if err == nil || !strings.Contains(err.Error(), `"test acc"`) || !strings.Contains(err.Error(), "y[1]") {
		t.Errorf("error %v should name the series and the index", err)
	}
}

func TestSaveFormats(t *testing.T) {
	s := Series{X: []float64{1, 2, 3}, Y: []float64{3, 1, 2}}
	tests := []struct {
		file   string
		prefix string // start of a valid file
		want   error
	}{
		{"a.png", "\x89PNG", nil},
		{"a.PNG", "\x89PNG", nil},
		{"a.jpg", "\xff\xd8", nil},
		{"a.svg", "<?xml", nil},
		{"a.pdf", "%PDF", nil},
		{"a.bmp", "", ErrFormat},
		{"noext", "", ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tt.file)
			err := Lines(path, "t", "x", "y", s)
			checkErr(t, err, tt.want)
			if tt.want != nil {
				checkNoFile(t, path)
				return
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(b, []byte(tt.prefix)) {
				t.Errorf("file starts with %q, want %q", b[:min(len(b), 8)], tt.prefix)
			}
		})
	}
}

func TestSaveMissingDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "a.png")
	err := Lines(path, "t", "x", "y", Series{X: []float64{1}, Y: []float64{1}})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error %v, want one wrapping os.ErrNotExist", err)
	}
}

func TestTopAfter(t *testing.T) {
	run := Series{Name: "train", X: []float64{1, 2, 3, 4}, Y: []float64{4500, 2900, 2800, 2760}}
	test := Series{Name: "test", X: []float64{1, 2, 3, 4}, Y: []float64{3000, 2850, 2790, 2770}}
	top, ok := TopAfter(1, run, test)
	// The later points span 2760..2900; the top adds a tenth of that span.
	if !ok || math.Abs(top-2914) > 1e-9 {
		t.Errorf("TopAfter(1, run, test) = %g, %v; want 2914, true", top, ok)
	}
	if _, ok := TopAfter(1, Series{X: []float64{1}, Y: []float64{5}}); ok {
		t.Error("TopAfter with nothing after the skipped points: ok = true, want false")
	}
	rising := Series{X: []float64{1, 2, 3}, Y: []float64{0.1, 0.5, 0.9}}
	if _, ok := TopAfter(1, rising); ok {
		t.Error("TopAfter of a rising curve (nothing to cut off): ok = true, want false")
	}
	flat := Series{X: []float64{1, 2, 3}, Y: []float64{9, 2, 2}}
	if top, ok := TopAfter(1, flat); !ok || top <= 2 {
		t.Errorf("TopAfter of a flat tail = %g, %v; want above 2, true", top, ok)
	}
	// The chart it feeds must draw: the cut-off points are clipped, not an error.
	path := filepath.Join(t.TempDir(), "clipped.png")
	if err := LinesWith(path, LineOptions{Title: "recon", YMax: &top}, run, test); err != nil {
		t.Fatalf("LinesWith with YMax from TopAfter: %v", err)
	}
}

// TestLongLegendGoesBelow checks that a legend of long names does not
// squeeze the data: the first curve, drawn across the whole X range, must
// span most of the figure's width (beside the data, a legend this long left
// it about a third).
func TestLongLegendGoesBelow(t *testing.T) {
	epochs := []float64{1, 2, 3, 4, 5}
	series := []Series{
		{Name: "train (whole training split, 55,000 images, eval mode)", X: epochs, Y: []float64{0.9, 0.5, 0.35, 0.3, 0.28}},
		{Name: "validation (5,000 images)", X: epochs, Y: []float64{0.8, 0.55, 0.45, 0.42, 0.41}},
		{Name: "test (10,000 images)", X: epochs, Y: []float64{0.85, 0.6, 0.5, 0.45, 0.44}},
	}
	for _, tt := range []struct {
		name     string
		series   []Series
		minShare float64
	}{
		{"long names", series, 0.7},
		{"short names", []Series{{Name: "train", X: epochs, Y: series[0].Y}, {Name: "test", X: epochs, Y: series[1].Y}}, 0.7},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := outPath(t, "legend_"+strings.ReplaceAll(tt.name, " ", "_")+".png")
			if err := Lines(path, "accuracy", "epoch", "accuracy (%)", tt.series...); err != nil {
				t.Fatal(err)
			}
			img := readPNG(t, path)
			b := img.Bounds()
			minX, maxX := b.Max.X, b.Min.X
			for y := b.Min.Y; y < b.Max.Y; y++ {
				for x := b.Min.X; x < b.Max.X; x++ {
					if rgba(img.At(x, y)) == colorAt(0) {
						minX, maxX = min(minX, x), max(maxX, x)
					}
				}
			}
			if share := float64(maxX-minX) / float64(b.Dx()); share < tt.minShare {
				t.Errorf("the first curve spans %.2f of the width, want >= %.2f", share, tt.minShare)
			}
		})
	}
}

func TestLegendBelow(t *testing.T) {
	fig := vg.Point{X: 432, Y: 288}
	for _, tt := range []struct {
		legend vg.Point
		want   bool
	}{
		{vg.Point{X: 60, Y: 40}, false},   // short names: beside
		{vg.Point{X: 240, Y: 40}, true},   // long names, few rows: below
		{vg.Point{X: 240, Y: 200}, false}, // long and many: below would take the height
	} {
		if got := legendBelow(fig, tt.legend); got != tt.want {
			t.Errorf("legendBelow(%v, %v) = %v, want %v", fig, tt.legend, got, tt.want)
		}
	}
}

// TestLinesBand draws a band behind a series: its tint (the series' colour
// at low alpha over white) must cover a good part of the chart, and must
// be absent without the band.
func TestLinesBand(t *testing.T) {
	x := []float64{0, 1, 2, 3, 4}
	mean := Series{Name: "val (2 seeds)", X: x, Y: []float64{5, 3, 2, 1.5, 1.2}}
	banded := mean
	banded.Lo = []float64{4, 2, 1, 0.5, 0.2}
	banded.Hi = []float64{6, 4, 3, 2.5, 2.2}
	tinted := func(path string) float64 {
		img := readPNG(t, path)
		c := colorAt(0)
		const a = 0x38 / 255.0
		want := func(v uint8) float64 { return 255*(1-a) + float64(v)*a }
		n, total := 0, 0
		for px, count := range histogram(img) {
			total += count
			if math.Abs(float64(px.R)-want(c.R)) <= 3 && math.Abs(float64(px.G)-want(c.G)) <= 3 && math.Abs(float64(px.B)-want(c.B)) <= 3 {
				n += count
			}
		}
		return float64(n) / float64(total)
	}
	with, without := outPath(t, "lines_band.png"), outPath(t, "lines_no_band.png")
	if err := Lines(with, "band", "epoch", "loss", banded); err != nil {
		t.Fatal(err)
	}
	if err := Lines(without, "band", "epoch", "loss", mean); err != nil {
		t.Fatal(err)
	}
	if got, none := tinted(with), tinted(without); got < 0.05 || none > 0.001 {
		t.Errorf("band tint covers %.3f of the chart (%.4f without the band), want over 0.05 (and none without)", got, none)
	}
}

func TestSpread(t *testing.T) {
	a := Series{X: []float64{1, 2, 3}, Y: []float64{10, 6, 4}}
	b := Series{X: []float64{1, 2}, Y: []float64{12, 5}}
	s, err := Spread("conv val", a, b)
	if err != nil {
		t.Fatal(err)
	}
	// Only x = 1 and 2 are in both runs: x = 3, where run a alone would be
	// "the mean", is left out.
	want := Series{Name: "conv val", X: []float64{1, 2}, Y: []float64{11, 5.5}, Lo: []float64{10, 5}, Hi: []float64{12, 6}}
	if fmt.Sprint(s) != fmt.Sprint(want) {
		t.Errorf("Spread = %+v, want %+v", s, want)
	}
	// The runs need not list their x in the same order or start together.
	c := Series{X: []float64{3, 2, 0}, Y: []float64{7, 8, 9}}
	s, err = Spread("shifted", a, c)
	if err != nil {
		t.Fatal(err)
	}
	want = Series{Name: "shifted", X: []float64{2, 3}, Y: []float64{7, 5.5}, Lo: []float64{6, 4}, Hi: []float64{8, 7}}
	if fmt.Sprint(s) != fmt.Sprint(want) {
		t.Errorf("Spread of shifted runs = %+v, want %+v", s, want)
	}
	if _, err := Spread("disjoint", a, Series{X: []float64{7, 8}, Y: []float64{1, 1}}); !errors.Is(err, ErrNoData) {
		t.Errorf("Spread of runs with no common x: err = %v, want ErrNoData", err)
	}
	if _, err := Spread("twice", a, Series{X: []float64{1, 1}, Y: []float64{1, 2}}); err == nil || !strings.Contains(err.Error(), "run 1 has x = 1 twice") {
		t.Errorf("Spread with a repeated x: err = %v, want one naming run 1 and x = 1", err)
	}
	if _, err := Spread("none"); !errors.Is(err, ErrNoData) {
		t.Errorf("Spread of no runs: err = %v, want ErrNoData", err)
	}
	_, err = Spread("bad", a, Series{X: []float64{1}, Y: []float64{math.NaN()}})
	if !errors.Is(err, ErrNaN) || !strings.Contains(err.Error(), "run 1") {
		t.Errorf("Spread with a NaN in run 1: err = %v, want ErrNaN naming run 1", err)
	}
}
