package cli

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

var testCommand = Command{
	Name:    "tool",
	Summary: "does things",
	Subcommands: []Subcommand{
		{Name: "train", Args: "[flags]", Summary: "train it"},
		{Name: "plots", Args: "[--out DIR]", Summary: "draw it"},
	},
	Examples: []string{"tool train --epochs 1", "tool plots --out x", "tool train --resume", "tool train --lr 1", "tool train --seed 2"},
	Long:     "LONG NOTES\n",
}

func TestDispatch(t *testing.T) {
	for _, tt := range []struct {
		args             []string
		sub              string
		code             int
		stdout, stderr   string // substrings; "" checks nothing
		errHas, noStdout string
	}{
		{args: []string{"train", "--lr", "1"}, sub: "train", code: 0},
		{args: nil, code: 2, stderr: "tool train [flags]", errHas: "no subcommand: say which (train, plots)"},
		{args: []string{"--help"}, code: 0, stdout: "tool plots [--out DIR]", noStdout: "LONG NOTES"},
		{args: []string{"--help-long"}, code: 0, stdout: "LONG NOTES"},
		{args: []string{"trian"}, code: 2, errHas: `unknown subcommand "trian" (did you mean train?); subcommands: train, plots`},
		{args: []string{"plot"}, code: 2, errHas: "(did you mean plots?)"},
		{args: []string{"zebra"}, code: 2, errHas: `unknown subcommand "zebra"; subcommands`},
		{args: []string{"--epochs", "2"}, code: 2, errHas: "'tool train --epochs 2'"},
	} {
		var stdout, stderr bytes.Buffer
		sub, _, err := testCommand.Dispatch(tt.args, &stdout, &stderr)
		if sub != tt.sub || ExitCode(err) != tt.code {
			t.Errorf("%q: subcommand %q, exit %d (%v); want %q, %d", tt.args, sub, ExitCode(err), err, tt.sub, tt.code)
		}
		if tt.errHas != "" && (err == nil || !strings.Contains(err.Error(), tt.errHas)) {
			t.Errorf("%q: error %v, want it to contain %q", tt.args, err, tt.errHas)
		}
		if !strings.Contains(stdout.String(), tt.stdout) || !strings.Contains(stderr.String(), tt.stderr) {
			t.Errorf("%q: stdout %q, stderr %q; want %q and %q in them", tt.args, stdout.String(), stderr.String(), tt.stdout, tt.stderr)
		}
		if tt.noStdout != "" && strings.Contains(stdout.String(), tt.noStdout) {
			t.Errorf("%q: stdout has %q:\n%s", tt.args, tt.noStdout, stdout.String())
		}
	}
}

// TestHelp: a subcommand's --help goes to stdout, starts with its usage
// line and its own examples (at most 3), lists the flags and the other
// subcommands, and keeps Long for --help-long.
func TestHelp(t *testing.T) {
	for _, long := range []bool{false, true} {
		var stdout, stderr bytes.Buffer
		fs := testCommand.FlagSet("train", &stdout, &stderr)
		fs.Int("epochs", 3, "epochs to train")
		arg := map[bool]string{false: "--help", true: "--help-long"}[long]
		if err := testCommand.Parse(fs, []string{arg}, false); !errors.Is(err, pflag.ErrHelp) || ExitCode(err) != 0 {
			t.Fatalf("%s: err %v, want pflag.ErrHelp", arg, err)
		}
		out := stdout.String()
		if !strings.HasPrefix(out, "Usage: tool train [flags]\n") || stderr.Len() != 0 {
			t.Errorf("%s: stdout starts %q, stderr %q", arg, out[:min(len(out), 40)], stderr.String())
		}
		ex, flags := strings.Index(out, "tool train --epochs 1"), strings.Index(out, "--epochs int")
		if ex < 0 || flags < ex || strings.Contains(out, "tool plots --out x") || strings.Contains(out, "tool train --seed 2") {
			t.Errorf("%s: want the first 3 train examples before the flags, no other:\n%s", arg, out)
		}
		if !strings.Contains(out, "Other subcommands of tool: plots") || strings.Contains(out, "LONG NOTES") != long {
			t.Errorf("%s: other subcommands or long notes wrong:\n%s", arg, out)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tt := range []struct {
		args      []string
		takesArgs bool
		want      string // "" for no error
	}{
		{[]string{"--epochs", "3"}, false, ""},
		{[]string{"--epoch", "3"}, false, "unknown flag --epoch (did you mean --epochs?); 'tool train --help' lists the flags"},
		{[]string{"--learning-rate", "3"}, false, "unknown flag --learning-rate;"},
		{[]string{"--epochs", "three"}, false, `invalid argument "three" for "--epochs"`},
		{[]string{"stray"}, false, `unexpected argument "stray"`},
		{[]string{"stray"}, true, ""},
	} {
		fs := testCommand.FlagSet("train", &bytes.Buffer{}, &bytes.Buffer{})
		fs.Int("epochs", 3, "epochs to train")
		fs.Float64("lr", 1, "learning rate")
		err := testCommand.Parse(fs, tt.args, tt.takesArgs)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%q: %v", tt.args, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) || ExitCode(err) != 2 {
			t.Errorf("%q: error %v (exit %d), want exit 2 with %q", tt.args, err, ExitCode(err), tt.want)
		}
	}
}

func TestNeed(t *testing.T) {
	if err := Need("lr", -0.001, false, "> 0"); err == nil || err.Error() != "--lr must be > 0 (got -0.001)" {
		t.Errorf("Need: %v", err)
	}
	if err := Need("lr", 1, true, "> 0"); err != nil {
		t.Errorf("Need with ok: %v", err)
	}
	if err := OneOf("schedule", "cosin", "cosine", "constant"); err == nil || err.Error() != `--schedule must be one of cosine, constant (got "cosin")` {
		t.Errorf("OneOf: %v", err)
	}
}

func TestEditDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"train", "train", 0}, {"trian", "train", 1}, {"epoch", "epochs", 1}, {"", "abc", 3}, {"kitten", "sitting", 3},
	} {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
