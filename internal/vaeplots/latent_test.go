package vaeplots

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLatentKNNAndTable: two classes whose codes sit at +-3 on the first
// axis are told apart perfectly; swapping the test labels makes every
// answer wrong; the table names each class's nearest other class and the
// centres' distance (6) against the spread (0.5).
func TestLatentKNNAndTable(t *testing.T) {
	var train []float32
	var trainY []int64
	for i := range 20 {
		c := int64(i % 2)
		x := float32(-3)
		if c == 1 {
			x = 3
		}
		off := float32(0.5)
		if i%4 >= 2 {
			off = -0.5
		}
		train = append(train, x+off, 0)
		trainY = append(trainY, c)
	}
	test := []float32{-3.2, 0.1, 2.9, -0.2}
	if acc, err := latentKNN(train, trainY, test, []int64{0, 1}, 2); err != nil || acc != 1 {
		t.Errorf("separated classes: 5-NN accuracy %v (%v), want 1", acc, err)
	}
	if acc, err := latentKNN(train, trainY, test, []int64{1, 0}, 2); err != nil || acc != 0 {
		t.Errorf("swapped labels: 5-NN accuracy %v (%v), want 0", acc, err)
	}
	path := filepath.Join(t.TempDir(), LatentTable)
	if err := writeLatentTable(path, train, trainY, 2, 1); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	table := string(raw)
	for _, want := range []string{"| smooth-round | 10 | 3.00 | 0.50 | smooth-inbetween | 6.00 | 12.00 |", "100.0 %"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}
