package plots

import (
	"image/color"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// palette10 holds ten colours that stay distinguishable from each other,
// including in print, so that ten classes (MNIST, CIFAR-10) each get their
// own (the widely used "category10" set).
var palette10 = []color.RGBA{
	{0x1f, 0x77, 0xb4, 0xff}, // blue
	{0xff, 0x7f, 0x0e, 0xff}, // orange
	{0x2c, 0xa0, 0x2c, 0xff}, // green
	{0xd6, 0x27, 0x28, 0xff}, // red
	{0x94, 0x67, 0xbd, 0xff}, // purple
	{0x8c, 0x56, 0x4b, 0xff}, // brown
	{0xe3, 0x77, 0xc2, 0xff}, // pink
	{0x7f, 0x7f, 0x7f, 0xff}, // grey
	{0xbc, 0xbd, 0x22, 0xff}, // olive
	{0x17, 0xbe, 0xcf, 0xff}, // cyan
}

// dashes is cycled independently of the colours so that series stay
// distinguishable in greyscale.
var dashes = [][]vg.Length{
	nil,
	{vg.Points(6), vg.Points(3)},
	{vg.Points(2), vg.Points(2)},
	{vg.Points(8), vg.Points(3), vg.Points(2), vg.Points(3)},
}

// shapes changes once the colours run out, so that group 11 does not look
// like group 1.
var shapes = []draw.GlyphDrawer{
	draw.CircleGlyph{},
	draw.SquareGlyph{},
	draw.TriangleGlyph{},
	draw.PyramidGlyph{},
	draw.RingGlyph{},
	draw.CrossGlyph{},
	draw.PlusGlyph{},
	draw.BoxGlyph{},
}

func colorAt(i int) color.RGBA { return palette10[i%len(palette10)] }

func dashAt(i int) []vg.Length { return dashes[i%len(dashes)] }

func shapeAt(i int) draw.GlyphDrawer { return shapes[(i/len(palette10))%len(shapes)] }

// sans is used instead of plot's default serif font, which is harder to read
// at the small sizes of tick labels.
func sans(size vg.Length) font.Font {
	return font.From(font.Font{Typeface: "Liberation", Variant: "Sans"}, size)
}

// textStyle is a black sans style with the given size and alignment.
func textStyle(size vg.Length, xa draw.XAlignment, ya draw.YAlignment) text.Style {
	return text.Style{
		Color:   color.Black,
		Font:    sans(size),
		XAlign:  xa,
		YAlign:  ya,
		Handler: plot.DefaultTextHandler,
	}
}

// newPlot returns a plot with title, axis labels and readable font sizes.
func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = sans(13)
	p.Title.Padding = vg.Points(8)
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = sans(11)
		a.Tick.Label.Font = sans(9)
		a.Tick.Marker = linearTicks{}
	}
	return p
}

// gridLines returns light grid lines at the major ticks.
func gridLines() *plotter.Grid {
	g := plotter.NewGrid()
	sty := draw.LineStyle{Color: color.Gray{Y: 0xdd}, Width: vg.Points(0.6)}
	g.Vertical, g.Horizontal = sty, sty
	return g
}

// newLegend returns an empty legend laid out for drawing beside a plot.
func newLegend() *plot.Legend {
	l := plot.NewLegend()
	l.TextStyle = textStyle(9, draw.XLeft, draw.YBottom)
	l.Top, l.Left = true, true
	l.Padding = vg.Points(3)
	l.ThumbnailWidth = vg.Points(24)
	return &l
}

// drawWithLegend draws p and, when l is not nil, l outside p's data area,
// so that it can never hide the end of a curve or a cluster of points: to
// the right of the data, or below it when a legend of long names would
// squeeze the data into a narrow strip (see legendBelow).
func drawWithLegend(c draw.Canvas, p *plot.Plot, l *plot.Legend) {
	if l == nil {
		p.Draw(c)
		return
	}
	gap := vg.Points(8)
	size := l.Rectangle(c).Size()
	// The title is centred over the whole figure, legend included, as
	// plot.Draw would over the plot's own narrower canvas, where a long
	// title runs off the left edge.
	var top vg.Length
	if title := p.Title.Text; title != "" {
		sty := p.Title.TextStyle
		c.FillText(sty, vg.Point{X: c.Center().X, Y: c.Max.Y + sty.FontExtents().Descent}, title)
		top = sty.Rectangle(title).Size().Y + p.Title.Padding
		p.Title.Text = ""
		defer func() { p.Title.Text = title }()
	}
	// The plot's canvas leaves room for the legend; the legend's box is
	// placed against the data area the plot then has.
	var pc draw.Canvas
	below := legendBelow(c.Rectangle.Size(), size)
	if below {
		pc = draw.Crop(c, 0, 0, size.Y+2*gap, -top)
	} else {
		pc = draw.Crop(c, 0, -(size.X + 2*gap), 0, -top)
	}
	data := p.DataCanvas(pc)
	p.Draw(pc)
	box := vg.Rectangle{ // beside: right of the data, as tall as it
		Min: vg.Point{X: c.Max.X - size.X - gap, Y: data.Min.Y},
		Max: vg.Point{X: c.Max.X - gap, Y: data.Max.Y},
	}
	if below { // below: under the data's left edge, at the bottom
		box = vg.Rectangle{
			Min: vg.Point{X: data.Min.X, Y: c.Min.Y + gap},
			Max: vg.Point{X: c.Max.X - gap, Y: c.Min.Y + size.Y + gap},
		}
	}
	l.Draw(draw.Canvas{Canvas: c.Canvas, Rectangle: box})
}

// legendBelow says whether a legend of the given size goes below the data
// rather than beside it: when beside it would take more than 30 % of the
// figure's width (long names such as "train (whole training split, 55,000
// images, eval mode)") and below it takes at most 30 % of the height (a few
// entries). A tall legend of short names stays beside.
func legendBelow(figure, legend vg.Point) bool {
	return legend.X > 0.3*figure.X && legend.Y <= 0.3*figure.Y
}

// glyphThumb is a legend thumbnail showing one glyph, used where the
// plotted glyphs are too small or too transparent to identify a group.
type glyphThumb draw.GlyphStyle

// Thumbnail implements plot.Thumbnailer.
func (g glyphThumb) Thumbnail(c *draw.Canvas) {
	c.DrawGlyphNoClip(draw.GlyphStyle(g), c.Center())
}

// seriesName is the legend text of the i-th series or group.
func seriesName(name string, i int) string {
	if name != "" {
		return name
	}
	return "series " + strconv.Itoa(i+1)
}
