package plots

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// maxMarkers is the longest series drawn with a marker at every point;
// beyond it (per-step losses) the markers merge into a smear.
const maxMarkers = 60

// Series is one named curve of a line chart.
type Series struct {
	Name string
	X, Y []float64

	// Lo and Hi, when not nil, bound a band drawn in the series' colour
	// behind its line, such as the range over seeds around their mean.
	// Each has one value per X, with Lo[i] <= Hi[i].
	Lo, Hi []float64
}

// LineOptions configures LinesWith. Labels should carry units, for example
// "loss (nats)".
type LineOptions struct {
	Title, XLabel, YLabel string

	// LogY draws Y on a logarithmic scale, which keeps the late, small
	// changes of a loss curve visible. Zero or negative values are rejected
	// with ErrNonPositive rather than clamped, so that no point is drawn
	// where the data is not.
	LogY bool

	// YMin and YMax, when not nil, fix the Y range instead of fitting the
	// data; points outside are clipped. Useful to cut off the first,
	// huge losses.
	YMin, YMax *float64
}

// Lines writes a line chart of series to path, with a legend when there is
// more than one series.
func Lines(path, title, xLabel, yLabel string, series ...Series) error {
	return LinesWith(path, LineOptions{Title: title, XLabel: xLabel, YLabel: yLabel}, series...)
}

// LinesWith is Lines with a logarithmic or fixed Y range.
func LinesWith(path string, opts LineOptions, series ...Series) error {
	if err := checkLines(opts, series); err != nil {
		return fmt.Errorf("lines %s: %w", path, err)
	}
	p := newPlot(opts.Title, opts.XLabel, opts.YLabel)
	p.X.Tick.Marker = linearTicks{integer: integral(series)}
	p.Add(gridLines())
	var legend *plot.Legend
	if len(series) > 1 {
		legend = newLegend()
	}
	for i, s := range series {
		if s.Lo != nil {
			band, err := plotter.NewPolygon(bandRing(s))
			if err != nil {
				return fmt.Errorf("lines %s: series %q band: %w", path, s.Name, err)
			}
			c := colorAt(i)
			c.A = 0x38
			band.Color, band.LineStyle.Width = premultiplied(c), 0
			p.Add(band)
		}
		data := xys{s.X, s.Y}
		line, err := plotter.NewLine(data)
		if err != nil {
			return fmt.Errorf("lines %s: series %q: %w", path, s.Name, err)
		}
		line.LineStyle = draw.LineStyle{Color: colorAt(i), Width: vg.Points(1.5), Dashes: dashAt(i)}
		p.Add(line)
		thumbs := []plot.Thumbnailer{line}
		if len(s.X) <= maxMarkers {
			pts, err := plotter.NewScatter(data)
			if err != nil {
				return fmt.Errorf("lines %s: series %q: %w", path, s.Name, err)
			}
			// Each series gets its own marker as well as its own colour and
			// dash, so that curves stay apart in greyscale print.
			pts.GlyphStyle = draw.GlyphStyle{Color: colorAt(i), Radius: vg.Points(2.2), Shape: shapes[i%len(shapes)]}
			p.Add(pts)
			thumbs = append(thumbs, pts)
		}
		if legend != nil {
			legend.Add(seriesName(s.Name, i), thumbs...)
		}
	}
	if opts.YMin != nil {
		p.Y.Min = *opts.YMin
	}
	if opts.YMax != nil {
		p.Y.Max = *opts.YMax
	}
	if p.Y.Min > p.Y.Max {
		return fmt.Errorf("lines %s: Y range [%g, %g] holds no data: %w", path, p.Y.Min, p.Y.Max, ErrRange)
	}
	if opts.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
		// plot widens a flat range by ±1, which can reach zero on a log
		// axis; widen it by a factor instead.
		if p.Y.Min == p.Y.Max {
			p.Y.Min /= 2
			p.Y.Max *= 2
		}
	}
	return render(path, chartWidth, chartHeight, func(c draw.Canvas) {
		drawWithLegend(c, p, legend)
	})
}

// checkLines validates the series and the options against each other.
func checkLines(opts LineOptions, series []Series) error {
	if len(series) == 0 {
		return fmt.Errorf("no series: %w", ErrNoData)
	}
	for i, s := range series {
		what := fmt.Sprintf("series %q", seriesName(s.Name, i))
		if err := checkXY(what, s.X, s.Y); err != nil {
			return err
		}
		if err := checkBand(what, s); err != nil {
			return err
		}
		if !opts.LogY {
			continue
		}
		for j, y := range s.Y {
			if y <= 0 || (s.Lo != nil && s.Lo[j] <= 0) {
				return fmt.Errorf("%s: y[%d] = %g (band from %g): %w", what, j, y, bandLo(s, j), ErrNonPositive)
			}
		}
	}
	for _, b := range []struct {
		name string
		v    *float64
	}{{"YMin", opts.YMin}, {"YMax", opts.YMax}} {
		if b.v == nil {
			continue
		}
		if err := checkFinite(*b.v); err != nil {
			return fmt.Errorf("%s: %w", b.name, err)
		}
		if opts.LogY && *b.v <= 0 {
			return fmt.Errorf("%s = %g: %w", b.name, *b.v, ErrNonPositive)
		}
	}
	if opts.YMin != nil && opts.YMax != nil && *opts.YMin >= *opts.YMax {
		return fmt.Errorf("YMin %g not below YMax %g: %w", *opts.YMin, *opts.YMax, ErrRange)
	}
	return nil
}

// checkBand checks that a series has both band bounds or neither, one of
// each per point, finite and in order.
func checkBand(what string, s Series) error {
	if (s.Lo == nil) != (s.Hi == nil) {
		return fmt.Errorf("%s: a band needs both Lo and Hi: %w", what, ErrLength)
	}
	if s.Lo == nil {
		return nil
	}
	if len(s.Lo) != len(s.X) || len(s.Hi) != len(s.X) {
		return fmt.Errorf("%s: band of %d and %d values for %d points: %w", what, len(s.Lo), len(s.Hi), len(s.X), ErrLength)
	}
	for j := range s.Lo {
		if err := errors.Join(checkFinite(s.Lo[j]), checkFinite(s.Hi[j])); err != nil {
			return fmt.Errorf("%s: band at point %d: %w", what, j, err)
		}
		if s.Lo[j] > s.Hi[j] {
			return fmt.Errorf("%s: band at point %d runs from %g down to %g: %w", what, j, s.Lo[j], s.Hi[j], ErrRange)
		}
	}
	return nil
}

// bandLo is the band's lower bound at point j, or Y where there is no band.
func bandLo(s Series, j int) float64 {
	if s.Lo == nil {
		return s.Y[j]
	}
	return s.Lo[j]
}

// bandRing is the outline of a series' band: along Hi, then back along Lo.
func bandRing(s Series) plotter.XYs {
	ring := make(plotter.XYs, 0, 2*len(s.X))
	for j := range s.X {
		ring = append(ring, plotter.XY{X: s.X[j], Y: s.Hi[j]})
	}
	for j := len(s.X) - 1; j >= 0; j-- {
		ring = append(ring, plotter.XY{X: s.X[j], Y: s.Lo[j]})
	}
	return ring
}

// premultiplied is c with its colour scaled by its alpha, as color.RGBA
// must be.
func premultiplied(c color.RGBA) color.RGBA {
	scale := func(v uint8) uint8 { return uint8(uint16(v) * uint16(c.A) / 0xff) }
	return color.RGBA{R: scale(c.R), G: scale(c.G), B: scale(c.B), A: c.A}
}

// TopAfter is a Y maximum that shows every point of series except the
// first skip of each, with a tenth of their span above them: the first,
// huge losses of a run then leave the top of the chart instead of flattening
// the rest of the curve into a line along the bottom. ok is false when no
// series has more than skip points, or when none of the skipped points lies
// above the rest (nothing would be cut off).
func TopAfter(skip int, series ...Series) (top float64, ok bool) {
	lo, hi, all := math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, s := range series {
		for i, y := range s.Y {
			all = math.Max(all, y)
			if i < skip {
				continue
			}
			lo, hi = math.Min(lo, y), math.Max(hi, y)
		}
	}
	if math.IsInf(hi, -1) || all <= hi {
		return 0, false
	}
	top = hi + (hi-lo)/10
	if hi == lo {
		top = hi + math.Abs(hi)/10 + 1
	}
	return top, true
}

// integral reports whether every X value is a whole number, as epochs and
// steps are.
func integral(series []Series) bool {
	for _, s := range series {
		for _, x := range s.X {
			if x != math.Trunc(x) {
				return false
			}
		}
	}
	return true
}

// Spread merges the same curve from several runs (seeds) into one series
// named name: at each X that every run has, the mean of the runs, with a
// band from their lowest to their highest value. X values that only some
// runs reach are left out, because a mean over fewer runs there would jump
// to whichever seed ran longer and draw a step that is no effect of the
// model (a second seed stopped early, say). It is an error when the runs
// share no X.
func Spread(name string, runs ...Series) (Series, error) {
	if len(runs) == 0 {
		return Series{}, fmt.Errorf("spread %q: no runs: %w", name, ErrNoData)
	}
	at := map[float64][]float64{}
	for i, r := range runs {
		if err := checkXY(fmt.Sprintf("spread %q: run %d", name, i), r.X, r.Y); err != nil {
			return Series{}, err
		}
		seen := map[float64]bool{}
		for j, x := range r.X {
			if seen[x] {
				return Series{}, fmt.Errorf("spread %q: run %d has x = %v twice", name, i, x)
			}
			seen[x] = true
			at[x] = append(at[x], r.Y[j])
		}
	}
	for x, ys := range at {
		if len(ys) < len(runs) {
			delete(at, x)
		}
	}
	if len(at) == 0 {
		return Series{}, fmt.Errorf("spread %q: the %d runs share no X value: %w", name, len(runs), ErrNoData)
	}
	out := Series{Name: name}
	for x := range at {
		out.X = append(out.X, x)
	}
	slices.Sort(out.X)
	for _, x := range out.X {
		ys := at[x]
		sum := 0.0
		for _, y := range ys {
			sum += y
		}
		out.Y = append(out.Y, sum/float64(len(ys)))
		out.Lo = append(out.Lo, slices.Min(ys))
		out.Hi = append(out.Hi, slices.Max(ys))
	}
	return out, nil
}
