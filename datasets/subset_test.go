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

func TestStratifiedSplit(t *testing.T) {
	// Class sizes 50, 31, 7, 1, 12 in an interleaved order.
	var labels []int64
	for c, n := range []int{50, 31, 7, 1, 12} {
		for range n {
			labels = append(labels, int64(c))
		}
	}
	labels = append(labels[40:], labels[:40]...)
	count := map[int64]int{}
	for _, l := range labels {
		count[l]++
	}
	for _, valCount := range []int{0, 1, 10, 17, 50, len(labels)} {
		train, val, err := StratifiedSplit(labels, valCount, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(val) != valCount || len(train)+len(val) != len(labels) {
			t.Fatalf("valCount %d: %d train, %d val of %d", valCount, len(train), len(val), len(labels))
		}
		// Disjoint and covering: every index exactly once.
		all := append(slices.Clone(train), val...)
		slices.Sort(all)
		for i, v := range all {
			if v != i {
				t.Fatalf("valCount %d: train and val do not partition 0..%d (index %d is %d)", valCount, len(labels)-1, i, v)
			}
		}
		if !slices.IsSorted(train) || !slices.IsSorted(val) {
			t.Errorf("valCount %d: splits not sorted", valCount)
		}
		// Stratified: each class within one of its proportional share.
		got := map[int64]int{}
		for _, i := range val {
			got[labels[i]]++
		}
		for c, n := range count {
			share := float64(valCount) * float64(n) / float64(len(labels))
			if math.Abs(float64(got[c])-share) >= 1 {
				t.Errorf("valCount %d: class %d gives %d, share %.2f", valCount, c, got[c], share)
			}
		}
		// Stable for the same seed; another seed draws another split.
		train2, val2, err := StratifiedSplit(labels, valCount, 3)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(train, train2) || !slices.Equal(val, val2) {
			t.Errorf("valCount %d: same seed, different split", valCount)
		}
		if valCount == 17 {
			_, val3, _ := StratifiedSplit(labels, valCount, 4)
			if slices.Equal(val, val3) {
				t.Errorf("seeds 3 and 4 drew the same validation split")
			}
		}
	}
	for _, bad := range []int{-1, len(labels) + 1} {
		if _, _, err := StratifiedSplit(labels, bad, 3); err == nil {
			t.Errorf("valCount %d: no error", bad)
		}
	}
}

func TestValCount(t *testing.T) {
	for _, tt := range []struct {
		n        int
		fraction float64
		want     int
		wantErr  bool
	}{
		{60000, 5000.0 / 60000, 5000, false},
		{5000, 0.05, 250, false},
		{546, 0.1, 55, false},
		{100, 0, 0, false},
		{100, 1, 0, true},
		{100, -0.1, 0, true},
		{100, math.NaN(), 0, true},
	} {
		got, err := ValCount(tt.n, tt.fraction)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ValCount(%d, %v) = %d, %v; want %d (error %v)", tt.n, tt.fraction, got, err, tt.want, tt.wantErr)
		}
	}
}
