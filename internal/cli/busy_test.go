package cli

import (
	"strings"
	"testing"
)

func TestParseCPUTimes(t *testing.T) {
	got, err := parseCPUTimes("cpu  100 5 50 800 20 1 2 3 7 0\ncpu0 1 2 3 4\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := [2]int64{100 + 5 + 50 + 800 + 20 + 1 + 2 + 3, 800 + 20}; got != want {
		t.Errorf("parseCPUTimes = %v, want %v", got, want)
	}
	for _, bad := range []string{"", "intr 1 2 3", "cpu 1 2 x 4 5 6"} {
		if _, err := parseCPUTimes(bad); err == nil {
			t.Errorf("parseCPUTimes(%q) accepted it", bad)
		}
	}
}

func TestBusyWarning(t *testing.T) {
	for _, tt := range []struct {
		threads, ncpu int
		busy          float64
		warn          bool
	}{
		{2, 2, 0.1, false}, // idle machine
		{1, 2, 1.0, false}, // one thread always fits
		{2, 2, 1.0, true},  // one core taken
		{2, 4, 1.0, false}, // enough free cores
		{4, 4, 1.0, true},
	} {
		w := busyWarning(tt.threads, tt.ncpu, tt.busy)
		if (w != "") != tt.warn {
			t.Errorf("busyWarning(%d threads, %d cores, %.1f busy) = %q, want a warning: %v", tt.threads, tt.ncpu, tt.busy, w, tt.warn)
		}
		if w != "" && !strings.Contains(w, "--threads 1") {
			t.Errorf("warning does not say what to do: %q", w)
		}
	}
}
