package vaeplots

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

// TestReconOptionsCutsTheSlowStart: a slow model's first epochs (an mlp
// still far above its end after epoch 1) leave the top of the comparison,
// which then spans only the later epochs where the models differ; short
// runs and a run's own figure cut only the first epoch; the title says
// which it cut.
func TestReconOptionsCutsTheSlowStart(t *testing.T) {
	var x, slow, fast []float64
	for epoch := 1; epoch <= 60; epoch++ {
		x = append(x, float64(epoch))
		slow = append(slow, 2800+3000/float64(epoch*epoch)) // 5800, 3550, ... 2807.5 at epoch 20
		fast = append(fast, 2780)
	}
	series := []plots.Series{{Name: "mlp", X: x, Y: slow}, {Name: "conv", X: x, Y: fast}}

	if got := compareCut(series); got != compareSkip {
		t.Fatalf("compareCut of 60-epoch runs = %d, want %d", got, compareSkip)
	}
	short := []plots.Series{{Name: "demo", X: x[:5], Y: slow[:5]}}
	if got := compareCut(short); got != 1 {
		t.Errorf("compareCut of a 5-epoch run = %d, want 1 (its first epoch only)", got)
	}
	cmp := reconOptions("by model", compareCut(series), series)
	if cmp.YMax == nil || *cmp.YMax > 2810 || *cmp.YMax < slow[compareSkip] {
		t.Errorf("comparison YMax = %v, want between %g (the first kept point) and 2810", cmp.YMax, slow[compareSkip])
	}
	if want := fmt.Sprintf("by model, first %d epochs off the top", compareSkip); cmp.Title != want {
		t.Errorf("comparison title = %q, want %q", cmp.Title, want)
	}
	own := reconOptions("conv", 1, series)
	if own.YMax == nil || *own.YMax < slow[1] {
		t.Errorf("own figure YMax = %v, want at least epoch 2's %g", own.YMax, slow[1])
	}
	if own.Title != "conv, first epoch off the top" {
		t.Errorf("own figure title = %q", own.Title)
	}
}
