package plots

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Layout of ImageGrid, in output pixels.
const (
	minTilePx  = 64 // tiles are upscaled to at least this size
	tileGapPx  = 4
	marginPx   = 10
	maxImagePx = 16384 // guards against a mistaken 10000-image grid
)

// Image is one tile of an ImageGrid: C channels (1 grey, 3 RGB) of H×W
// pixels in CHW order, as a tensor is laid out, with values in [0,1].
type Image struct {
	C, H, W int
	Pix     []float32
}

// check validates the shape and values of img.
func (img Image) check() error {
	if img.C != 1 && img.C != 3 {
		return fmt.Errorf("%d channels, want 1 or 3: %w", img.C, ErrShape)
	}
	if img.H <= 0 || img.W <= 0 {
		return fmt.Errorf("size %d×%d: %w", img.H, img.W, ErrShape)
	}
	if want := img.C * img.H * img.W; len(img.Pix) != want {
		return fmt.Errorf("%d values for %d×%d×%d: %w", len(img.Pix), img.C, img.H, img.W, ErrLength)
	}
	for i, v := range img.Pix {
		if err := checkFinite(float64(v)); err != nil {
			return fmt.Errorf("pix[%d]: %w", i, err)
		}
	}
	return nil
}

// upscale renders img scale times larger with nearest-neighbour sampling,
// which keeps the pixels of a 28×28 digit or a 3×3 filter crisp. Values
// outside [0,1] are clamped.
func (img Image) upscale(scale int) *image.NRGBA {
	out := image.NewNRGBA(image.Rect(0, 0, img.W*scale, img.H*scale))
	plane := img.H * img.W
	for y := range img.H {
		for x := range img.W {
			i := y*img.W + x
			var c color.NRGBA
			if img.C == 1 {
				g := toByte(img.Pix[i])
				c = color.NRGBA{R: g, G: g, B: g, A: 0xff}
			} else {
				c = color.NRGBA{R: toByte(img.Pix[i]), G: toByte(img.Pix[plane+i]), B: toByte(img.Pix[2*plane+i]), A: 0xff}
			}
			for dy := range scale {
				for dx := range scale {
					out.SetNRGBA(x*scale+dx, y*scale+dy, c)
				}
			}
		}
	}
	return out
}

func toByte(v float32) uint8 {
	return uint8(math.Round(float64(min(max(v, 0), 1)) * 255))
}

// NormalizeTile rescales pix to [0,1] by its own minimum and maximum, so
// that a filter of small weights is as visible as one of large weights. A
// constant tile becomes 0.5 (mid grey). NaN values stay NaN so that
// ImageGrid reports them. pix is not modified.
func NormalizeTile(pix []float32) []float32 {
	lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
	for _, v := range pix {
		if v != v { // NaN
			continue
		}
		lo, hi = min(lo, v), max(hi, v)
	}
	out := make([]float32, len(pix))
	for i, v := range pix {
		switch {
		case v != v:
			out[i] = v
		case hi > lo:
			out[i] = (v - lo) / (hi - lo)
		default:
			out[i] = 0.5
		}
	}
	return out
}

// ImageGrid writes rows of images as a grid of tiles to path, for example
// samples of each class beside originals, reconstructions beside inputs, or
// convolution filters. All images share one H×W; rows may differ in length.
// Tiles are upscaled to at least 64 px. rowLabels is nil or has one label
// per row, drawn left of the row; title, if not empty, is drawn on top.
func ImageGrid(path, title string, rows [][]Image, rowLabels []string) error {
	h, w, cols, err := checkGrid(rows, rowLabels)
	if err != nil {
		return fmt.Errorf("image grid %s: %w", path, err)
	}
	scale := max(1, (minTilePx+max(h, w)-1)/max(h, w))
	tileW, tileH := w*scale, h*scale

	labelSty := textStyle(9, draw.XRight, draw.YCenter)
	titleSty := textStyle(11, draw.XCenter, draw.YTop)
	labelW := 0
	for _, l := range rowLabels {
		labelW = max(labelW, lenPx(labelSty.Width(l)))
	}
	if labelW > 0 {
		labelW += 2 * tileGapPx
	}
	titleH := 0
	if title != "" {
		titleH = lenPx(titleSty.Height(title)) + 2*tileGapPx
	}
	gridW := cols*tileW + (cols-1)*tileGapPx
	gridH := len(rows)*tileH + (len(rows)-1)*tileGapPx
	totalW := max(2*marginPx+labelW+gridW, 2*marginPx+lenPx(titleSty.Width(title)))
	totalH := 2*marginPx + titleH + gridH
	if totalW > maxImagePx || totalH > maxImagePx {
		return fmt.Errorf("image grid %s: %d×%d px is too large: %w", path, totalW, totalH, ErrShape)
	}

	// Positions are computed in whole output pixels so that each tile pixel
	// lands on exactly one canvas pixel; vg's origin is bottom left.
	left := marginPx + labelW
	top := marginPx + titleH
	return render(path, pxLen(totalW), pxLen(totalH), func(c draw.Canvas) {
		if title != "" {
			c.FillText(titleSty, vg.Point{X: pxLen(totalW) / 2, Y: pxLen(totalH - marginPx)}, title)
		}
		for r, row := range rows {
			y0 := top + r*(tileH+tileGapPx) // from the top
			if rowLabels != nil {
				pt := vg.Point{X: pxLen(left - 2*tileGapPx), Y: pxLen(totalH - y0 - tileH/2)}
				c.FillText(labelSty, pt, rowLabels[r])
			}
			for col, img := range row {
				x0 := left + col*(tileW+tileGapPx)
				rect := vg.Rectangle{
					Min: vg.Point{X: pxLen(x0), Y: pxLen(totalH - y0 - tileH)},
					Max: vg.Point{X: pxLen(x0 + tileW), Y: pxLen(totalH - y0)},
				}
				c.DrawImage(rect, img.upscale(scale))
			}
		}
	})
}

// checkGrid validates rows and labels and returns the common tile size and
// the number of columns.
func checkGrid(rows [][]Image, labels []string) (h, w, cols int, err error) {
	if len(rows) == 0 {
		return 0, 0, 0, fmt.Errorf("no rows: %w", ErrNoData)
	}
	if labels != nil && len(labels) != len(rows) {
		return 0, 0, 0, fmt.Errorf("%d row labels for %d rows: %w", len(labels), len(rows), ErrLength)
	}
	for r, row := range rows {
		if len(row) == 0 {
			return 0, 0, 0, fmt.Errorf("row %d: %w", r, ErrNoData)
		}
		cols = max(cols, len(row))
		for c, img := range row {
			if err := img.check(); err != nil {
				return 0, 0, 0, fmt.Errorf("image [%d][%d]: %w", r, c, err)
			}
			if h == 0 {
				h, w = img.H, img.W
			}
			if img.H != h || img.W != w {
				return 0, 0, 0, fmt.Errorf("image [%d][%d] is %d×%d, image [0][0] is %d×%d: %w", r, c, img.H, img.W, h, w, ErrShape)
			}
		}
	}
	return h, w, cols, nil
}
