package cli

import (
	"fmt"
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
