package plots

import (
	"errors"
	"image"
	"image/color"
	_ "image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// outPath returns where a test writes its figure: t.TempDir(), or
// $PLOTS_OUT when set so that a person can look at the figures
// (PLOTS_OUT=/tmp/figs go test ./plots/).
func outPath(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("PLOTS_OUT")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, name)
}

// readPNG decodes the PNG at path.
func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return img
}

// checkSize fails the test unless img is w×h pixels.
func checkSize(t *testing.T, img image.Image, w, h int) {
	t.Helper()
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Errorf("size %d×%d, want %d×%d", b.Dx(), b.Dy(), w, h)
	}
}

// histogram counts the pixels of img by colour.
func histogram(img image.Image) map[color.RGBA]int {
	h := map[color.RGBA]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			h[rgba(img.At(x, y))]++
		}
	}
	return h
}

// colorCount returns the number of distinct colours in h and the
// fraction of pixels that are not white.
func colorCount(h map[color.RGBA]int) (distinct int, inked float64) {
	total := 0
	for _, n := range h {
		total += n
	}
	white := h[color.RGBA{0xff, 0xff, 0xff, 0xff}]
	return len(h), float64(total-white) / float64(total)
}

// rgba converts c to 8-bit non-premultiplied RGBA.
func rgba(c color.Color) color.RGBA {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	return color.RGBA{n.R, n.G, n.B, n.A}
}

// checkErr fails the test unless err wraps want (or is nil when want is).
func checkErr(t *testing.T, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want %v", err, want)
	}
}

// checkNoFile fails the test if path exists: invalid input must not leave
// an empty or partial figure behind.
func checkNoFile(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s exists after a failed call (stat: %v)", path, err)
	}
}
