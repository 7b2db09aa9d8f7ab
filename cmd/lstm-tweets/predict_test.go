package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"torchlab/models/charlstm/pretrained"
)

// TestJudge: predict warns about a model of an unfinished run and about
// one that scored below the shipped model, and about nothing else.
func TestJudge(t *testing.T) {
	shipped := pretrained.Scores{Iteration: 5000, Val: 0.80, Test: 0.79}
	nan := math.NaN()
	for _, tt := range []struct {
		reached, iterations int
		rec                 recorded
		want                []string // parts of the warning; none: no warning
	}{
		{100000, 100000, recorded{0.80, 0.79}, nil},
		{100000, 100000, recorded{0.79, 0.78}, nil}, // within nearShipped
		{5, 100000, recorded{0.80, 0.79}, []string{"stopped at iteration 5 of 100000", "--resume"}},
		{100, 100, recorded{0.51, 0.50}, []string{"validation accuracy 0.5100 is below the shipped model's 0.8000"}},
		{100, 100, recorded{nan, 0.50}, []string{"test accuracy 0.5000 is below the shipped model's 0.7900"}},
		{100, 100, recorded{nan, nan}, []string{"recorded no accuracy"}},
		{5, 100, recorded{0.5, nan}, []string{"stopped at iteration 5 of 100", "below the shipped"}},
	} {
		got := judge(tt.reached, tt.iterations, tt.rec, shipped)
		if (got == "") != (len(tt.want) == 0) {
			t.Errorf("judge(%d, %d, %+v) = %q, want parts %q", tt.reached, tt.iterations, tt.rec, got, tt.want)
		}
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("judge(%d, %d, %+v) = %q, want it to say %q", tt.reached, tt.iterations, tt.rec, got, w)
			}
		}
	}
}

// TestRecordedAccuracy reads a plain checkpoint's accuracies from its
// run's metrics.csv rows at the checkpoint's iteration, not from others.
func TestRecordedAccuracy(t *testing.T) {
	out := t.TempDir()
	ck := checkpointDir(out)
	if err := os.MkdirAll(ck, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		filepath.Join(ck, "checkpoint.json"): `{"step": 20, "config": {}}`,
		filepath.Join(out, "metrics.csv"): "iteration,split,loss,accuracy,seconds\n" +
			"10,val,0.6,0.55,1\n10,test,0.6,0.54,1\n20,train,0.5,0.70,2\n20,val,0.5,0.65,2\n20,test,0.5,0.63,2\n",
	}
	for path, text := range files {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rec, err := recordedAccuracy(ck)
	if err != nil || rec.Val != 0.65 || rec.Test != 0.63 {
		t.Errorf("recordedAccuracy = %+v, %v; want val 0.65, test 0.63 (iteration 20)", rec, err)
	}
}
