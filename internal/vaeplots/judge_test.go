package vaeplots

import (
	"math"
	"testing"

	"torchlab/datasets"
)

// TestSampleScale: a class the classifier never recognises on real images
// is left out; samples that score the classifier's real-test recall in
// every class normalise to 1, samples at chance to about 0, and the
// bootstrap interval holds the point.
func TestSampleScale(t *testing.T) {
	j := &Judge{recall: map[datasets.Class]float64{datasets.SmoothRound: 0.75, datasets.Spiral: 0.625,
		datasets.EdgeOn: 0.875, datasets.SmoothCigar: 0}}
	n := map[datasets.Class]int{datasets.SmoothRound: 32, datasets.Spiral: 32, datasets.EdgeOn: 32, datasets.SmoothCigar: 32}
	atCeiling := map[datasets.Class]int{datasets.SmoothRound: 24, datasets.Spiral: 20, datasets.EdgeOn: 28, datasets.SmoothCigar: 0}
	s, ok := j.scale(atCeiling, n)
	if !ok || len(s.Scored) != 3 || math.Abs(s.Chance-1.0/3) > 1e-12 || math.Abs(s.Ceiling-0.75) > 1e-12 {
		t.Fatalf("scale %+v (ok %v): want 3 scored classes, chance 1/3, ceiling 0.75", s, ok)
	}
	if math.Abs(s.Normalised-1) > 1e-9 || !(s.Lo < s.Normalised && s.Normalised < s.Hi) {
		t.Errorf("at the ceiling: normalised %v [%v, %v], want 1 inside its interval", s.Normalised, s.Lo, s.Hi)
	}
	atChance := map[datasets.Class]int{datasets.SmoothRound: 11, datasets.Spiral: 11, datasets.EdgeOn: 10, datasets.SmoothCigar: 3}
	if s, _ := j.scale(atChance, n); math.Abs(s.Normalised) > 0.05 || !(s.Lo < 0 && s.Hi > 0) {
		t.Errorf("at chance: normalised %v [%v, %v], want about 0 with 0 inside the interval", s.Normalised, s.Lo, s.Hi)
	}
}
