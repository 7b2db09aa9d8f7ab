package reference

import (
	"math"
	"testing"
)

// TestCompareFailsOnNaN: a NaN anywhere, on either side, is an error, and
// a difference is measured as absolute and as relative to max(|want|, floor).
func TestCompareFailsOnNaN(t *testing.T) {
	nan := math.NaN()
	for _, tt := range []struct {
		name      string
		got, want []float64
	}{
		{"got", []float64{1, nan, 3}, []float64{1, 2, 3}},
		{"want", []float64{1, 2, 3}, []float64{1, 2, nan}},
		{"both", []float64{nan}, []float64{nan}},
		{"inf against inf", []float64{math.Inf(1)}, []float64{math.Inf(1)}},
	} {
		if _, err := Compare(tt.got, tt.want, 1); err == nil {
			t.Errorf("%s: NaN difference passed", tt.name)
		}
	}
	d, err := Compare([]float64{1, 2.5, -40}, []float64{1, 2, -44}, 1)
	if err != nil || d.MaxAbs != 4 || d.Index != 2 || d.MaxRel != 0.25 {
		t.Errorf("Compare = %+v, %v; want MaxAbs 4 at 2, MaxRel 0.25 (0.5/2)", d, err)
	}
	if _, err := Compare([]float64{1}, []float64{1, 2}, 1); err == nil {
		t.Error("different lengths passed")
	}
}
