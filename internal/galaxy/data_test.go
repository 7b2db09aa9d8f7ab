package galaxy

import (
	"math"
	"slices"
	"testing"

	"torchlab/datasets"
)

// TestThreeSplitsDisjoint checks that train, validation and test cover the
// galaxies exactly once, that validation is stratified by class, and that
// the same seed draws the same split.
func TestThreeSplitsDisjoint(t *testing.T) {
	set := &datasets.GalaxySet{N: 200}
	for i := range set.N {
		set.Classes = append(set.Classes, datasets.Class(i*i%5))
	}
	split := func() (train, val, test []int) {
		train, test, err := datasets.SplitTrainTest(set.N, 0.2, 7)
		if err != nil {
			t.Fatal(err)
		}
		train, val, err = carveVal(set, train, 0.1, 7)
		if err != nil {
			t.Fatal(err)
		}
		return train, val, test
	}
	train, val, test := split()
	if len(train) != 144 || len(val) != 16 || len(test) != 40 {
		t.Fatalf("%d train, %d val, %d test; want 144, 16, 40", len(train), len(val), len(test))
	}
	seen := map[int]string{}
	for name, idx := range map[string][]int{"train": train, "val": val, "test": test} {
		for _, i := range idx {
			if other, ok := seen[i]; ok {
				t.Fatalf("galaxy %d in %s and %s", i, other, name)
			}
			seen[i] = name
		}
	}
	if len(seen) != set.N {
		t.Errorf("the splits cover %d of %d galaxies", len(seen), set.N)
	}
	inTrain, inVal := map[datasets.Class]int{}, map[datasets.Class]int{}
	for _, i := range append(slices.Clone(train), val...) {
		inTrain[set.Classes[i]]++
	}
	for _, i := range val {
		inVal[set.Classes[i]]++
	}
	for c, n := range inTrain {
		if share := 16 * float64(n) / 160; math.Abs(float64(inVal[c])-share) >= 1 {
			t.Errorf("class %v: %d validation galaxies, share %.2f", c, inVal[c], share)
		}
	}
	train2, val2, test2 := split()
	if !slices.Equal(train, train2) || !slices.Equal(val, val2) || !slices.Equal(test, test2) {
		t.Error("the same seed drew another split")
	}
}
