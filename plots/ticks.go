package plots

import (
	"math"
	"strconv"

	"gonum.org/v1/plot"
)

// linearTicks labels up to about nine round values (steps of 1, 2, 2.5 or
// 5 times a power of ten). plot.DefaultTicks labels only two or three
// values over a typical loss range, too few to read a curve off the chart.
// With integer set the step is at least 1, so that an axis of five epochs
// is not labelled 1.5, 2.5, ….
type linearTicks struct{ integer bool }

// Ticks implements plot.Ticker.
func (t linearTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(hi-lo, 0) {
		return nil
	}
	raw := (hi - lo) / 8
	mag := math.Pow10(int(math.Floor(math.Log10(raw))))
	mult := 10.0
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*mag >= raw {
			mult = m
			break
		}
	}
	if t.integer && mult*mag < 1 {
		mult, mag = 1, 1
	}
	if t.integer && mult*mag != math.Trunc(mult*mag) {
		mult = 5 // a step of 2.5 would put labels between integers
	}
	step := mult * mag
	decimals := max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	if scaled := step * math.Pow10(decimals); math.Abs(scaled-math.Round(scaled)) > 1e-9 {
		decimals++ // steps of 0.25 need one more digit than steps of 0.2
	}
	label := func(v float64) string {
		if step >= 1e5 || step < 1e-4 {
			return strconv.FormatFloat(v, 'g', 6, 64)
		}
		return strconv.FormatFloat(v, 'f', decimals, 64)
	}
	var ticks []plot.Tick
	// Integer multiples avoid accumulating rounding and a "-0" label.
	for k := int64(math.Ceil(lo/step - 1e-9)); float64(k)*step <= hi+step*1e-9; k++ {
		v := float64(k) * step
		ticks = append(ticks, plot.Tick{Value: v, Label: label(v)})
		if mid := v + step/2; mid <= hi {
			ticks = append(ticks, plot.Tick{Value: mid})
		}
	}
	return ticks
}

// logTicks marks a logarithmic axis. plot.LogTicks labels only powers of
// ten, so a loss falling from 0.9 to 0.2 would get no label at all; here,
// when fewer than three powers of ten fall inside the range, the 2× and 5×
// multiples are labelled too, and when that still gives fewer than two
// labels, every multiple.
type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0 && hi >= lo) || math.IsInf(hi, 0) {
		return nil
	}
	first := int(math.Floor(math.Log10(lo)))
	last := int(math.Ceil(math.Log10(hi)))
	// With many decades every label would overlap, so label every step-th.
	step := (last - first + 7) / 8
	if step < 1 {
		step = 1
	}
	inRange := func(v float64) bool {
		// Tolerate rounding in m*10^e at the ends of the range.
		return v >= lo*(1-1e-9) && v <= hi*(1+1e-9)
	}
	labelled := func(m, e int) bool { return m == 1 && (e-first)%step == 0 }
	count := func(label func(m, e int) bool) int {
		n := 0
		for e := first; e <= last; e++ {
			for m := 1; m <= 9; m++ {
				if label(m, e) && inRange(float64(m)*math.Pow10(e)) {
					n++
				}
			}
		}
		return n
	}
	if count(labelled) < 3 {
		labelled = func(m, _ int) bool { return m == 1 || m == 2 || m == 5 }
		if count(labelled) < 2 {
			labelled = func(int, int) bool { return true }
		}
	}
	var ticks []plot.Tick
	for e := first; e <= last; e++ {
		for m := 1; m <= 9; m++ {
			v := float64(m) * math.Pow10(e)
			if !inRange(v) {
				continue
			}
			t := plot.Tick{Value: v}
			if labelled(m, e) {
				// Six significant digits hide the rounding in m*10^e.
				t.Label = strconv.FormatFloat(v, 'g', 6, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// indexTicks labels the integer indices 0..n-1 of a matrix axis with a
// round step. With flip set, index i sits at position n-1-i so that row 0
// is drawn at the top, as a matrix is printed.
type indexTicks struct {
	n    int
	flip bool
}

// Ticks implements plot.Ticker.
func (t indexTicks) Ticks(_, _ float64) []plot.Tick {
	step := 1
	for mult := 0; (t.n+step-1)/step > 10; mult++ {
		step = []int{2, 5, 10}[mult%3] * int(math.Pow10(mult/3))
	}
	var ticks []plot.Tick
	for i := 0; i < t.n; i += step {
		pos := float64(i)
		if t.flip {
			pos = float64(t.n - 1 - i)
		}
		ticks = append(ticks, plot.Tick{Value: pos, Label: strconv.Itoa(i)})
	}
	return ticks
}
