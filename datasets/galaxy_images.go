package datasets

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"os"
	"sync"
	"sync/atomic"
)

// load fails anyway.
func decodeGalaxies(dst []float32, paths []string, missing []bool, o GalaxyOptions, cropPx, side int) []error {
	errs := make([]error, len(paths))
	stride := 3 * o.Size * o.Size
	next := atomic.Int64{}
	failed := atomic.Bool{}
	var wg sync.WaitGroup
	for range max(o.Workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := newGalaxyPrep(cropPx, o.Size)
			p.side = side
			for {
				i := int(next.Add(1) - 1)
				if i >= len(paths) || (failed.Load() && !o.SkipBad) {
					return
				}
				if missing[i] {
					continue
				}
				if err := p.load(dst[i*stride:(i+1)*stride], paths[i]); err != nil {
					errs[i] = err
					failed.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	return errs
}

// galaxyPrep is one worker's reusable buffers for crop and resize.
type galaxyPrep struct {
	crop, size int
	side       int          // if not 0, every image must be side x side
	planes     [3][]float32 // cropped R, G, B as 0..255
	area       *area
	maxPixels  int // the largest image decoded (maxGalaxyPixels)
}

func newGalaxyPrep(crop, size int) *galaxyPrep {
	p := &galaxyPrep{crop: crop, size: size, area: newArea(crop, crop, size, size), maxPixels: maxGalaxyPixels}
	for c := range p.planes {
		p.planes[c] = make([]float32, crop*crop)
	}
	return p
}

// load decodes path, centre-crops it and writes 3 x size x size values in
// [0,1] into dst.
func (p *galaxyPrep) load(dst []float32, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return p.decode(dst, f, path)
}

// maxGalaxyPixels bounds the image a JPEG header may claim (Galaxy Zoo's
// are 424x424): the decoder allocates the whole image from the header's
// size before it reads the pixels, so a few bytes claiming 65535x65535
// would otherwise ask for 12 GiB.
const maxGalaxyPixels = 4096 * 4096

// decode is load on the JPEG in r; path names it in errors. The size the
// header claims is checked before the image is decoded.
func (p *galaxyPrep) decode(dst []float32, r io.ReadSeeker, path string) error {
	cfg, err := jpeg.DecodeConfig(bufio.NewReaderSize(r, 1<<12))
	if err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	if p.side != 0 && (cfg.Width != p.side || cfg.Height != p.side) {
		return fmt.Errorf("decode %s: image is %dx%d, but %s says %dx%d", path, cfg.Width, cfg.Height, GalaxyFrameName, p.side, p.side)
	}
	if cfg.Width*cfg.Height > p.maxPixels {
		return fmt.Errorf("decode %s: header says %dx%d pixels, more than the %d a galaxy image may have", path, cfg.Width, cfg.Height, p.maxPixels)
	}
	if cfg.Width < p.crop || cfg.Height < p.crop {
		return fmt.Errorf("decode %s: image is %dx%d, smaller than the %dx%d crop", path, cfg.Width, cfg.Height, p.crop, p.crop)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	img, err := jpeg.Decode(bufio.NewReaderSize(r, 1<<15))
	if err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	b := img.Bounds()
	if b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return fmt.Errorf("decode %s: image is %dx%d, its header said %dx%d", path, b.Dx(), b.Dy(), cfg.Width, cfg.Height)
	}
	// Integer halving puts the extra pixel of an odd margin on the
	// right/bottom; the default 424 -> 212 has even margins, so it is exact.
	x0, y0 := b.Min.X+(b.Dx()-p.crop)/2, b.Min.Y+(b.Dy()-p.crop)/2
	p.cropRGB(img, x0, y0)
	n := p.size * p.size
	for c, plane := range p.planes {
		out := dst[c*n : (c+1)*n]
		p.area.resize(out, plane)
		for i, v := range out {
			out[i] = v / 255
		}
	}
	return nil
}

// cropRGB copies the crop into the three planes. JPEGs decode to YCbCr or
// Gray, which get direct loops; image.At allocates per pixel and would be
// several times slower on 45,000 pixels per image.
func (p *galaxyPrep) cropRGB(img image.Image, x0, y0 int) {
	r, g, bl := p.planes[0], p.planes[1], p.planes[2]
	switch m := img.(type) {
	case *image.YCbCr:
		for y := 0; y < p.crop; y++ {
			for x := 0; x < p.crop; x++ {
				yi, ci := m.YOffset(x0+x, y0+y), m.COffset(x0+x, y0+y)
				cr, cg, cb := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				k := y*p.crop + x
				r[k], g[k], bl[k] = float32(cr), float32(cg), float32(cb)
			}
		}
	case *image.Gray:
		for y := 0; y < p.crop; y++ {
			for x := 0; x < p.crop; x++ {
				v := float32(m.Pix[m.PixOffset(x0+x, y0+y)])
				k := y*p.crop + x
				r[k], g[k], bl[k] = v, v, v
			}
		}
	default:
		for y := 0; y < p.crop; y++ {
			for x := 0; x < p.crop; x++ {
				cr, cg, cb, _ := img.At(x0+x, y0+y).RGBA()
				k := y*p.crop + x
				r[k], g[k], bl[k] = float32(cr>>8), float32(cg>>8), float32(cb>>8)
			}
		}
	}
}
