package cli

import (
	"fmt"
	"runtime"
	"slices"
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
	} {
		if got := ExitCode(tt.err); got != tt.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestSubcommand(t *testing.T) {
	for _, tt := range []struct {
		args     []string
		wantSub  string
		wantRest []string
	}{
		{nil, "train", nil},
		{[]string{"plots", "--out", "x"}, "plots", []string{"--out", "x"}},
		{[]string{"--epochs", "3"}, "train", []string{"--epochs", "3"}},
		{[]string{"train"}, "train", []string{}},
		// Not a known subcommand: left for the default's flag parser to reject.
		{[]string{"plot"}, "train", []string{"plot"}},
	} {
		sub, rest := Subcommand(tt.args, "train", "train", "plots")
		if sub != tt.wantSub || !slices.Equal(rest, tt.wantRest) {
			t.Errorf("Subcommand(%q) = %q %q, want %q %q", tt.args, sub, rest, tt.wantSub, tt.wantRest)
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
