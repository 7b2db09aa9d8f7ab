package plots

import (
	"fmt"
	"math"
)

// checkFinite reports NaN and infinite values, which gonum/plot would
// otherwise either reject without saying where or silently skip.
func checkFinite(v float64) error {
	switch {
	case math.IsNaN(v):
		return ErrNaN
	case math.IsInf(v, 0):
		return ErrInf
	}
	return nil
}

// checkXY validates one series or group; what names it in errors.
func checkXY(what string, x, y []float64) error {
	if len(x) != len(y) {
		return fmt.Errorf("%s: %d x values but %d y values: %w", what, len(x), len(y), ErrLength)
	}
	if len(x) == 0 {
		return fmt.Errorf("%s: %w", what, ErrNoData)
	}
	for i := range x {
		if err := checkFinite(x[i]); err != nil {
			return fmt.Errorf("%s: x[%d]: %w", what, i, err)
		}
		if err := checkFinite(y[i]); err != nil {
			return fmt.Errorf("%s: y[%d]: %w", what, i, err)
		}
	}
	return nil
}

// xys pairs x and y, which checkXY has found to be of equal length.
type xys struct{ x, y []float64 }

// Len implements plotter.XYer.
func (d xys) Len() int { return len(d.x) }

// XY implements plotter.XYer.
func (d xys) XY(i int) (float64, float64) { return d.x[i], d.y[i] }
