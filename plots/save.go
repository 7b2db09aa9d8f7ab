package plots

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgeps"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgpdf"
	"gonum.org/v1/plot/vg/vgsvg"
)

// dpi is the resolution of raster output: at 150 dpi a 6×4 in chart is
// 900×600 px, sharp on a laptop screen without being heavy in a report.
const dpi = 150

// Size of line, scatter and heat map charts.
const (
	chartWidth  = 6 * vg.Inch
	chartHeight = 4 * vg.Inch
)

// newCanvas returns a canvas that encodes to the format named by path's
// extension. It is called before the file is created so that an unsupported
// extension leaves no empty file behind.
func newCanvas(path string, w, h vg.Length) (vg.CanvasWriterTo, error) {
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(path), "."))
	switch ext {
	case "png":
		return vgimg.PngCanvas{Canvas: rasterCanvas(w, h)}, nil
	case "jpg", "jpeg":
		return vgimg.JpegCanvas{Canvas: rasterCanvas(w, h)}, nil
	case "tif", "tiff":
		return vgimg.TiffCanvas{Canvas: rasterCanvas(w, h)}, nil
	case "svg":
		return vgsvg.New(w, h), nil
	case "pdf":
		return vgpdf.New(w, h), nil
	case "eps":
		return vgeps.New(w, h), nil
	}
	return nil, fmt.Errorf("%w %q for %s (want png, jpg, tif, svg, pdf or eps)", ErrFormat, ext, path)
}

// rasterCanvas is a white canvas at the package resolution.
func rasterCanvas(w, h vg.Length) *vgimg.Canvas {
	return vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi))
}

// render draws a w×h figure with drawFn and writes it to path.
func render(path string, w, h vg.Length, drawFn func(c draw.Canvas)) (err error) {
	cw, err := newCanvas(path, w, h)
	if err != nil {
		return err
	}
	// gonum/plot reports some inconsistent states (for example a log axis
	// over non-positive values) by panicking. Input is validated before we
	// get here, but a figure is never worth crashing a training run that
	// still has a checkpoint to write, so a panic becomes an error.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("plots: draw %s: %v", path, r)
		}
	}()
	drawFn(draw.New(cw))
	return writeFile(path, cw)
}

// writeFile writes src to path and reports the error of Close, which is
// where a full disk shows up for buffered writes.
func writeFile(path string, src io.WriterTo) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("plots: close %s: %w", path, cerr)
		}
	}()
	if _, err := src.WriteTo(f); err != nil {
		return fmt.Errorf("plots: write %s: %w", path, err)
	}
	return nil
}

// pxLen converts a length in output pixels to a canvas length.
func pxLen(px int) vg.Length {
	return vg.Length(px) * vg.Inch / dpi
}

// lenPx converts a canvas length to whole output pixels, rounding up so
// that text measured this way is never clipped.
func lenPx(l vg.Length) int {
	px := float64(l / vg.Inch * dpi)
	n := int(px)
	if float64(n) < px {
		n++
	}
	return n
}
