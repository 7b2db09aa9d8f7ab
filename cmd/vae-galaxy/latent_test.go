package main

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
	if acc := latentKNN(train, trainY, test, []int64{0, 1}, 2); acc != 1 {
		t.Errorf("separated classes: 5-NN accuracy %v, want 1", acc)
	}
	if acc := latentKNN(train, trainY, test, []int64{1, 0}, 2); acc != 0 {
		t.Errorf("swapped labels: 5-NN accuracy %v, want 0", acc)
	}
	path := filepath.Join(t.TempDir(), latentTable)
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

// TestActiveUnits: of three dimensions, one varies with variance 1, one
// with variance 0.0025 (below Burda et al.'s 0.01) and one is constant.
func TestActiveUnits(t *testing.T) {
	const n = 400
	mu := make([]float32, 3*n)
	for i := range n {
		sign := float32(1 - 2*(i%2)) // +1, -1, ...: mean 0, variance 1
		mu[3*i], mu[3*i+1], mu[3*i+2] = sign, 0.05*sign, 0.7
	}
	if got := activeUnits(mu, n, 3, activeThreshold); got != 1 {
		t.Errorf("active units %d, want 1", got)
	}
	if got := activeUnits(mu, n, 3, 0.001); got != 2 {
		t.Errorf("at threshold 0.001: %d active, want 2", got)
	}
}
