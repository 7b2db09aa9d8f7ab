package plots

import (
	"slices"
	"testing"
)

func TestLogTicks(t *testing.T) {
	tests := []struct {
		lo, hi float64
		labels []string
	}{
		{0.001, 10, []string{"0.001", "0.01", "0.1", "1", "10"}},
		{0.05, 2, []string{"0.05", "0.1", "0.2", "0.5", "1", "2"}},
		{0.2, 0.9, []string{"0.2", "0.5"}},
		{0.31, 0.45, []string{"0.4"}}, // all multiples labelled; only 0.4 is inside
		{1.5, 1.5, nil},
		{1e-12, 1e12, []string{"1e-12", "1e-09", "1e-06", "0.001", "1", "1000", "1e+06", "1e+09", "1e+12"}},
		{0, 1, nil},
		{-1, 1, nil},
	}
	for _, tt := range tests {
		ticks := logTicks{}.Ticks(tt.lo, tt.hi)
		var labels []string
		for _, tk := range ticks {
			if tk.Value < tt.lo*(1-1e-9) || tk.Value > tt.hi*(1+1e-9) {
				t.Errorf("[%g, %g]: tick %g outside the range", tt.lo, tt.hi, tk.Value)
			}
			if tk.Label != "" {
				labels = append(labels, tk.Label)
			}
		}
		if !slices.Equal(labels, tt.labels) {
			t.Errorf("[%g, %g]: labels %q, want %q", tt.lo, tt.hi, labels, tt.labels)
		}
	}
}

func TestLinearTicks(t *testing.T) {
	tests := []struct {
		lo, hi  float64
		integer bool
		labels  []string
	}{
		{0.28, 0.92, false, []string{"0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9"}},
		{1, 5, false, []string{"1.0", "1.5", "2.0", "2.5", "3.0", "3.5", "4.0", "4.5", "5.0"}},
		{1, 5, true, []string{"1", "2", "3", "4", "5"}},
		{0, 200, true, []string{"0", "25", "50", "75", "100", "125", "150", "175", "200"}},
		{0, 18, true, []string{"0", "5", "10", "15"}},
		{0, 18, false, []string{"0.0", "2.5", "5.0", "7.5", "10.0", "12.5", "15.0", "17.5"}},
		{0, 500, false, []string{"0", "100", "200", "300", "400", "500"}},
		{-3.9, 3.9, false, []string{"-3", "-2", "-1", "0", "1", "2", "3"}},
		{0, 1.7, false, []string{"0.00", "0.25", "0.50", "0.75", "1.00", "1.25", "1.50"}},
		{0, 3e6, false, []string{"0", "500000", "1e+06", "1.5e+06", "2e+06", "2.5e+06", "3e+06"}},
		{1, 1, false, nil},
	}
	for _, tt := range tests {
		var labels []string
		for _, tk := range (linearTicks{integer: tt.integer}).Ticks(tt.lo, tt.hi) {
			if tk.Value < tt.lo || tk.Value > tt.hi+1e-12 {
				t.Errorf("[%g, %g]: tick %g outside the range", tt.lo, tt.hi, tk.Value)
			}
			if tk.Label != "" {
				labels = append(labels, tk.Label)
			}
		}
		if !slices.Equal(labels, tt.labels) {
			t.Errorf("[%g, %g]: labels %q, want %q", tt.lo, tt.hi, labels, tt.labels)
		}
	}
}

func TestIndexTicks(t *testing.T) {
	tests := []struct {
		n      int
		flip   bool
		labels []string
		first  float64 // position of label "0"
	}{
		{3, false, []string{"0", "1", "2"}, 0},
		{3, true, []string{"0", "1", "2"}, 2},
		{25, false, []string{"0", "5", "10", "15", "20"}, 0},
		{784, true, []string{"0", "100", "200", "300", "400", "500", "600", "700"}, 783},
	}
	for _, tt := range tests {
		ticks := indexTicks{n: tt.n, flip: tt.flip}.Ticks(0, 0)
		var labels []string
		for _, tk := range ticks {
			labels = append(labels, tk.Label)
		}
		if !slices.Equal(labels, tt.labels) {
			t.Errorf("n=%d: labels %q, want %q", tt.n, labels, tt.labels)
		}
		if ticks[0].Value != tt.first {
			t.Errorf("n=%d flip=%v: label 0 at %g, want %g", tt.n, tt.flip, ticks[0].Value, tt.first)
		}
	}
}
