package datasets

import (
	"math"
	"slices"
	"testing"
)

func TestStratifiedSubset(t *testing.T) {
	// Class sizes 10, 5, 1, 3 in an interleaved order.
	var labels []int64
	for c, n := range []int{10, 5, 1, 3} {
		for range n {
			labels = append(labels, int64(c))
		}
	}
	labels = append(labels[10:], labels[:10]...)
	tests := []struct {
		fraction float64
		want     map[int64]int // kept per class; math.Round rounds halves up
		wantErr  bool
	}{
		{0.5, map[int64]int{0: 5, 1: 3, 2: 1, 3: 2}, false},
		{0.1, map[int64]int{0: 1, 1: 1, 2: 0, 3: 0}, false},
		{1, map[int64]int{0: 10, 1: 5, 2: 1, 3: 3}, false},
		{0, nil, true},
		{-0.5, nil, true},
		{1.01, nil, true},
		{math.NaN(), nil, true},
	}
	for _, tt := range tests {
		got, err := StratifiedSubset(labels, tt.fraction, 7)
		if tt.wantErr {
			if err == nil {
				t.Errorf("fraction %v: no error", tt.fraction)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Errorf("fraction %v: %v not sorted and unique", tt.fraction, got)
		}
		counts := map[int64]int{}
		for _, i := range got {
			counts[labels[i]]++
		}
		for c, n := range tt.want {
			if counts[c] != n {
				t.Errorf("fraction %v: class %d has %d, want %d", tt.fraction, c, counts[c], n)
			}
		}
		again, _ := StratifiedSubset(labels, tt.fraction, 7)
		if !slices.Equal(got, again) {
			t.Errorf("fraction %v: same seed gave %v then %v", tt.fraction, got, again)
		}
	}
	a, _ := StratifiedSubset(labels, 0.5, 1)
	b, _ := StratifiedSubset(labels, 0.5, 2)
	if slices.Equal(a, b) {
		t.Errorf("seeds 1 and 2 gave the same subset %v", a)
	}
}

func TestSplitTrainTest(t *testing.T) {
	tests := []struct {
		n        int
		fraction float64
		wantTest int
		wantErr  bool
	}{
		{100, 0.2, 20, false},
		{7, 0.5, 4, false},
		{10, 0, 0, false},
		{0, 0.3, 0, false},
		{10, 1, 0, true},
		{10, -0.1, 0, true},
		{10, math.NaN(), 0, true},
		{-1, 0.2, 0, true},
	}
	for _, tt := range tests {
		train, test, err := SplitTrainTest(tt.n, tt.fraction, 3)
		if tt.wantErr {
			if err == nil {
				t.Errorf("n %d fraction %v: no error", tt.n, tt.fraction)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(test) != tt.wantTest || len(train) != tt.n-tt.wantTest {
			t.Errorf("n %d fraction %v: %d train %d test", tt.n, tt.fraction, len(train), len(test))
		}
		// Disjoint and complete: together they are exactly 0..n-1.
		all := slices.Sorted(slices.Values(append(slices.Clone(train), test...)))
		for i, v := range all {
			if v != i {
				t.Fatalf("n %d: train+test = %v, want 0..n-1", tt.n, all)
			}
		}
		train2, test2, _ := SplitTrainTest(tt.n, tt.fraction, 3)
		if !slices.Equal(train, train2) || !slices.Equal(test, test2) {
			t.Errorf("n %d: same seed gave different splits", tt.n)
		}
	}
	_, a, _ := SplitTrainTest(100, 0.2, 1)
	_, b, _ := SplitTrainTest(100, 0.2, 2)
	if slices.Equal(a, b) {
		t.Error("seeds 1 and 2 gave the same test set")
	}
}
