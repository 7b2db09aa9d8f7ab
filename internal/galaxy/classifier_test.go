package galaxy

import (
	"math"
	"testing"
)

func TestAgreement(t *testing.T) {
	acc, per, err := Agreement([]int64{0, 1, 1, 2, 0}, []int64{0, 1, 2, 2, 1})
	if err != nil || acc != 0.6 || per[0] != 1 || per[1] != 0.5 || per[2] != 0.5 || !math.IsNaN(per[3]) {
		t.Errorf("Agreement = %v, %v, %v; want 0.6, [1 0.5 0.5 NaN ...]", acc, per, err)
	}
	if _, _, err := Agreement([]int64{0}, nil); err == nil {
		t.Error("no labels accepted")
	}
}

func TestStepsPerEpoch(t *testing.T) {
	for _, tt := range []struct{ n, batch, want int }{{27, 8, 4}, {25, 8, 3}, {8, 8, 1}, {1, 8, 1}, {0, 8, 1}} {
		if got := StepsPerEpoch(tt.n, tt.batch); got != int64(tt.want) {
			t.Errorf("StepsPerEpoch(%d, %d) = %d, want %d", tt.n, tt.batch, got, tt.want)
		}
	}
}
