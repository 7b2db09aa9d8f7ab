package cli

import (
	"errors"
	"fmt"
	"runtime"
	"testing"

	"github.com/spf13/pflag"
)

func TestExitCode(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want int
	}{
		{nil, 0},
		{pflag.ErrHelp, 0},
		{fmt.Errorf("parse: %w", pflag.ErrHelp), 0},
		{ErrInterrupted, 130},
		{fmt.Errorf("train: %w", ErrInterrupted), 130},
		{fmt.Errorf("read x.csv line 3: bad label"), 1},
		{Usagef("--lr must be > 0 (got -1)"), 2},
		{fmt.Errorf("train: %w", Need("epochs", 0, false, ">= 1")), 2},
		{errors.Join(nil, Need("epochs", 0, false, ">= 1")), 2},
	} {
		if got := ExitCode(tt.err); got != tt.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestDefaultThreads(t *testing.T) {
	for omp, want := range map[string]int{"3": 3, " 1 ": 1, "": runtime.NumCPU(), "0": runtime.NumCPU(), "-2": runtime.NumCPU(), "four": runtime.NumCPU()} {
		if got := DefaultThreads(func(string) string { return omp }); got != want {
			t.Errorf("OMP_NUM_THREADS=%q: %d threads, want %d", omp, got, want)
		}
	}
}
