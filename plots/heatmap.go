package plots

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// heatSamplesX and heatSamplesY are the minimum numbers of samples across
// and down the raster behind a heat map, a little more than the pixels of
// its data area. Drawing cells as vector rectangles leaves
// antialiasing seams between them (and makes SVG and PDF output huge for a
// 784×128 matrix), while a raster of one pixel per cell is blurred when
// scaled up bilinearly. Repeating each cell until the raster is at least as
// large as the data area keeps cell edges sharp.
const (
	heatSamplesX = 768
	heatSamplesY = 512
)

// colorBarWidth is the strip right of a heat map holding its colour scale.
const colorBarWidth = 0.95 * vg.Inch

// Heatmap writes a rows×cols matrix, given row-major in values, as a heat
// map to path: row 0 is at the top, as the matrix is printed. The colour
// map diverges from white at 0 to blue (negative) and red (positive) and is
// symmetric, so that the sign of a weight reads at a glance; a colour bar
// shows the scale.
func Heatmap(path, title string, rows, cols int, values []float64, xLabel, yLabel string) error {
	if err := checkMatrix(rows, cols, values); err != nil {
		return fmt.Errorf("heatmap %s: %w", path, err)
	}
	limit := 0.0
	for _, v := range values {
		limit = max(limit, math.Abs(v))
	}
	if limit == 0 {
		// An all-zero matrix still needs a non-empty scale.
		limit = 1
	}

	cmap := moreland.SmoothBlueRed()
	cmap.SetMin(-limit)
	cmap.SetMax(limit)
	grid := matrixGrid{
		rows: rows, cols: cols, v: values,
		kx: (heatSamplesX + cols - 1) / cols, ky: (heatSamplesY + rows - 1) / rows,
	}
	heat := plotter.NewHeatMap(grid, cmap.Palette(255))
	heat.Min, heat.Max = -limit, limit
	heat.Rasterized = true

	p := newPlot(title, xLabel, yLabel)
	p.Add(heat)
	p.X.Tick.Marker = indexTicks{n: cols}
	p.Y.Tick.Marker = indexTicks{n: rows, flip: true}
	// The data range is exactly the cells; padding would leave white bands.
	p.X.Padding, p.Y.Padding = 0, 0

	bar := plot.New()
	bar.HideX()
	bar.Y.Padding = 0
	bar.Y.Tick.Label.Font = sans(8)
	bar.Y.Tick.Length = vg.Points(3)
	bar.Add(&plotter.ColorBar{ColorMap: cmap, Vertical: true})

	return render(path, chartWidth, chartHeight, func(c draw.Canvas) {
		hc := draw.Crop(c, 0, -colorBarWidth, 0, 0)
		data := p.DataCanvas(hc)
		p.Draw(hc)
		// Align the bar with the data area so that it reads as its key.
		bc := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: c.Max.X - colorBarWidth + vg.Points(12), Y: data.Min.Y},
			Max: vg.Point{X: c.Max.X - vg.Points(10), Y: data.Max.Y},
		}}
		// The bar's plot pads its own data area to fit its tick labels;
		// grow its canvas by that padding.
		bd := bar.DataCanvas(bc)
		bc.Min.Y -= bd.Min.Y - data.Min.Y
		bc.Max.Y += data.Max.Y - bd.Max.Y
		bar.Draw(bc)
	})
}

// checkMatrix validates a row-major matrix.
func checkMatrix(rows, cols int, values []float64) error {
	if rows < 0 || cols < 0 {
		return fmt.Errorf("%d×%d matrix: %w", rows, cols, ErrShape)
	}
	if rows == 0 || cols == 0 {
		return fmt.Errorf("%d×%d matrix: %w", rows, cols, ErrNoData)
	}
	if len(values) != rows*cols {
		return fmt.Errorf("%d values for a %d×%d matrix: %w", len(values), rows, cols, ErrLength)
	}
	for i, v := range values {
		if err := checkFinite(v); err != nil {
			return fmt.Errorf("value [%d][%d]: %w", i/cols, i%cols, err)
		}
	}
	return nil
}

// matrixGrid presents a row-major matrix as a plotter.GridXYZ with row 0 at
// the top: the plot's Y axis grows upwards, so row r is centred on
// y = rows-1-r. Each cell is repeated kx times across and ky times down
// (see heatSamplesX) on sub-cell coordinates, so cell c still spans
// [c-0.5, c+0.5].
type matrixGrid struct {
	rows, cols int
	v          []float64
	kx, ky     int
}

// Dims implements plotter.GridXYZ.
func (g matrixGrid) Dims() (c, r int) { return g.cols * g.kx, g.rows * g.ky }

// Z implements plotter.GridXYZ.
func (g matrixGrid) Z(c, r int) float64 { return g.v[(g.rows-1-r/g.ky)*g.cols+c/g.kx] }

// X implements plotter.GridXYZ.
func (g matrixGrid) X(c int) float64 { return (float64(c)+0.5)/float64(g.kx) - 0.5 }

// Y implements plotter.GridXYZ.
func (g matrixGrid) Y(r int) float64 { return (float64(r)+0.5)/float64(g.ky) - 0.5 }
