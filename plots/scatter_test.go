package plots

import (
	"math"
	"path/filepath"
	"strings"
	"testing"
)

// clusters returns n groups of points around n centres on a circle, like
// a 2-D latent space coloured by class.
func clusters(n, per int) []ScatterGroup {
	groups := make([]ScatterGroup, n)
	for g := range groups {
		cx, cy := 3*math.Cos(float64(g)), 3*math.Sin(float64(g))
		grp := ScatterGroup{Name: "class " + string(rune('0'+g%10)), X: make([]float64, per), Y: make([]float64, per)}
		for i := range per {
			a, r := float64(i)*2.4, math.Sqrt(float64(i)/float64(per))
			grp.X[i], grp.Y[i] = cx+r*math.Cos(a), cy+r*math.Sin(a)
		}
		groups[g] = grp
	}
	return groups
}

func TestScatter(t *testing.T) {
	tests := []struct {
		name   string
		groups []ScatterGroup
		legend int // groups whose opaque legend colour must appear
	}{
		{"one group", clusters(1, 200), 0},
		{"ten classes", clusters(10, 200), 10},
		{"twelve groups", clusters(12, 50), 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := outPath(t, "scatter_"+strings.ReplaceAll(tt.name, " ", "_")+".png")
			if err := Scatter(path, "VAE latent space (test set)", "z[0]", "z[1]", tt.groups); err != nil {
				t.Fatal(err)
			}
			img := readPNG(t, path)
			checkSize(t, img, 900, 600)
			hist := histogram(img)
			distinct, inked := colorCount(hist)
			if distinct < 50 || inked < 0.02 {
				t.Errorf("looks blank: %d colours, %.3f inked", distinct, inked)
			}
			for i := range tt.legend {
				if hist[colorAt(i)] == 0 {
					t.Errorf("legend colour of group %d (%v) not drawn", i, colorAt(i))
				}
			}
		})
	}
}

func TestScatterErrors(t *testing.T) {
	ok := ScatterGroup{Name: "ok", X: []float64{1}, Y: []float64{2}}
	tests := []struct {
		name   string
		groups []ScatterGroup
		want   error
	}{
		{"no groups", nil, ErrNoData},
		{"empty group", []ScatterGroup{ok, {Name: "7"}}, ErrNoData},
		{"length", []ScatterGroup{{X: []float64{1, 2}, Y: []float64{1}}}, ErrLength},
		{"NaN", []ScatterGroup{ok, {X: []float64{math.NaN()}, Y: []float64{1}}}, ErrNaN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s.png")
			checkErr(t, Scatter(path, "t", "x", "y", tt.groups), tt.want)
			checkNoFile(t, path)
		})
	}
}
