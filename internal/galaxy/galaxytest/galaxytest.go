// Package galaxytest makes a tiny fake Galaxy Zoo for the tests of the
// galaxy commands.
package galaxytest

import (
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FakeZoo writes n small JPEGs and a Kaggle-format CSV under a new
// root/galaxyzoo; galaxy i gets one of five classes (i mod 5) and a blob
// whose shape depends on it. It returns root, a data folder (--data-dir).
func FakeZoo(t *testing.T, n int) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "galaxyzoo")
	if err := os.MkdirAll(filepath.Join(dir, "images_training_rev1"), 0o755); err != nil {
		t.Fatal(err)
	}
	var header []string
	for q, k := range []int{3, 2, 2, 2, 4, 2, 3, 7, 3, 3, 6} {
		for a := 1; a <= k; a++ {
			header = append(header, fmt.Sprintf("Class%d.%d", q+1, a))
		}
	}
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	csv := "GalaxyID," + strings.Join(header, ",") + "\n"
	for i := range n {
		id := 100000 + i
		ans := make([]float64, len(header))
		var sx, sy float64 = 5, 5
		switch i % 5 {
		case 0: // smooth round
			ans[col["Class1.1"]], ans[col["Class7.1"]] = 0.8, 0.9
		case 1: // smooth cigar
			ans[col["Class1.1"]], ans[col["Class7.3"]] = 0.8, 0.9
			sx, sy = 9, 2
		case 2: // edge-on
			ans[col["Class1.2"]], ans[col["Class2.1"]] = 0.8, 0.9
			sx, sy = 2, 10
		case 3: // spiral
			ans[col["Class1.2"]], ans[col["Class2.2"]], ans[col["Class4.1"]] = 0.8, 0.9, 0.9
			sx, sy = 8, 8
		case 4: // disk without spiral
			ans[col["Class1.2"]], ans[col["Class2.2"]], ans[col["Class4.2"]] = 0.8, 0.9, 0.9
			sx, sy = 6, 3
		}
		fields := []string{fmt.Sprint(id)}
		for _, a := range ans {
			fields = append(fields, fmt.Sprint(a))
		}
		csv += strings.Join(fields, ",") + "\n"
		img := image.NewRGBA(image.Rect(0, 0, 40, 40))
		cx, cy := 20+float64(i%3)-1, 20+float64(i%4)-1.5
		for y := range 40 {
			for x := range 40 {
				d := (float64(x)-cx)*(float64(x)-cx)/(2*sx*sx) + (float64(y)-cy)*(float64(y)-cy)/(2*sy*sy)
				v := 255 * math.Exp(-d)
				img.Set(x, y, color.RGBA{uint8(v), uint8(0.8 * v), uint8(0.6 * v), 255})
			}
		}
		f, err := os.Create(filepath.Join(dir, "images_training_rev1", fmt.Sprintf("%d.jpg", id)))
		if err != nil {
			t.Fatal(err)
		}
		if err := jpeg.Encode(f, img, &jpeg.Options{Quality: 95}); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "training_solutions_rev1.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}
