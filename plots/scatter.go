package plots

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// dotAlpha lets dense clusters show their density and overlapping classes
// show through each other.
const dotAlpha = 0x90

// ScatterGroup is one set of points drawn in one colour, such as the
// latent codes of one class.
type ScatterGroup struct {
	Name string
	X, Y []float64
}

// Scatter writes groups as small semi-transparent dots, one colour per
// group (ten distinct colours, then the glyph shape changes), with a legend
// when there is more than one group.
func Scatter(path, title, xLabel, yLabel string, groups []ScatterGroup) error {
	if len(groups) == 0 {
		return fmt.Errorf("scatter %s: no groups: %w", path, ErrNoData)
	}
	for i, g := range groups {
		if err := checkXY(fmt.Sprintf("group %q", seriesName(g.Name, i)), g.X, g.Y); err != nil {
			return fmt.Errorf("scatter %s: %w", path, err)
		}
	}
	p := newPlot(title, xLabel, yLabel)
	p.Add(gridLines())
	var legend *plot.Legend
	if len(groups) > 1 {
		legend = newLegend()
	}
	for i, g := range groups {
		dots, err := plotter.NewScatter(xys{g.X, g.Y})
		if err != nil {
			return fmt.Errorf("scatter %s: group %q: %w", path, g.Name, err)
		}
		c := colorAt(i)
		dots.GlyphStyle = draw.GlyphStyle{
			Color:  color.NRGBA{R: c.R, G: c.G, B: c.B, A: dotAlpha},
			Radius: vg.Points(1.6),
			Shape:  shapeAt(i),
		}
		p.Add(dots)
		if legend != nil {
			// The dots are too small and faint to identify a group in the
			// legend, so it shows a larger, opaque one.
			legend.Add(seriesName(g.Name, i), glyphThumb{Color: c, Radius: vg.Points(3.5), Shape: shapeAt(i)})
		}
	}
	return render(path, chartWidth, chartHeight, func(c draw.Canvas) {
		drawWithLegend(c, p, legend)
	})
}
