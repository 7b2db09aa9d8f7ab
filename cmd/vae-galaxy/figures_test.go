package main

import (
	"fmt"
	"testing"

	"torchlab/plots"
)

// TestMergeSeeds: runs of one model merge split by split, into a mean with
// a band where several seeds have the split, named as such; a split only
// one seed has keeps its points and says so.
func TestMergeSeeds(t *testing.T) {
	seed1 := []plots.Series{{Name: "val", X: []float64{1, 2}, Y: []float64{10, 8}}, {Name: "train (whole split, eval mode)", X: []float64{2}, Y: []float64{7}}}
	seed2 := []plots.Series{{Name: "val", X: []float64{1, 2}, Y: []float64{12, 9}}}
	got, err := mergeSeeds("conv", [][]plots.Series{seed1, seed2})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d series, want 2: %+v", len(got), got)
	}
	if v := got[0]; v.Name != "conv val (2 seeds: mean and range)" || fmt.Sprint(v.Y, v.Lo, v.Hi) != "[11 8.5] [10 8] [12 9]" {
		t.Errorf("merged val %+v", v)
	}
	if f := got[1]; f.Name != "conv train (whole split, eval mode) (1 of 2 seeds)" || f.Lo != nil || fmt.Sprint(f.Y) != "[7]" {
		t.Errorf("train-full of one seed %+v", f)
	}
	// A seed that ran on: the mean stops where the shorter seed did, and
	// its name says so.
	longer := []plots.Series{{Name: "val", X: []float64{1, 2, 3}, Y: []float64{10, 8, 1}}}
	cut, err := mergeSeeds("conv", [][]plots.Series{longer, seed2})
	if err != nil {
		t.Fatal(err)
	}
	if v := cut[0]; v.Name != "conv val (2 seeds: mean and range to step 2, the shortest seed's end)" || fmt.Sprint(v.X, v.Y) != "[1 2] [11 8.5]" {
		t.Errorf("merged val of unequal seeds %+v", v)
	}
	one, err := mergeSeeds("mlp", [][]plots.Series{seed2})
	if err != nil || len(one) != 1 || one[0].Name != "mlp val" || one[0].Lo != nil {
		t.Errorf("one run: %+v, %v; want its val series named \"mlp val\", no band", one, err)
	}
}
