package cli

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/pflag"
)

// UsageError is a mistake in how a command was called (a subcommand, a
// flag or its value) rather than a failure of the run: it exits 2, as
// pflag's and argparse's usage errors do.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef is a UsageError with a formatted message.
func Usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// Need is nil when ok holds, else the UsageError "--flag must be want
// (got value)": the one shape of a bad value's message.
func Need(flag string, value any, ok bool, want string) error {
	if ok {
		return nil
	}
	return Usagef("--%s must be %s (got %v)", flag, want, value)
}

// OneOf is Need for a flag whose value must be one of choices.
func OneOf(flag, value string, choices ...string) error {
	return Need(flag, fmt.Sprintf("%q", value), slices.Contains(choices, value), "one of "+strings.Join(choices, ", "))
}

// Subcommand is one subcommand of a Command, as its help lists it.
type Subcommand struct {
	Name    string
	Args    string // after the name in the usage line, e.g. "[flags] [text...]"
	Summary string // one line
}

// Command describes a torchlab command for its help and its usage errors.
// Its help goes to stdout: the usage line, the subcommands and the
// examples first, then (for a subcommand) the flags; Long, the reasons
// behind the defaults, only with --help-long.
type Command struct {
	Name        string
	Summary     string // one line: what the command does
	Subcommands []Subcommand
	Examples    []string // whole command lines, the first ones the most useful
	Long        string
}

// ErrNoSubcommand is the error of a command run without a subcommand.
var ErrNoSubcommand = errors.New("no subcommand")

// Dispatch splits args into a subcommand and its arguments. Without
// arguments it prints the short usage to stderr and returns a UsageError
// (exit 2): no command starts a run by default. --help prints the usage to
// stdout and --help-long adds Long (both return pflag.ErrHelp, exit 0); an
// unknown subcommand is a UsageError that suggests the nearest one.
func (c *Command) Dispatch(args []string, stdout, stderr io.Writer) (string, []string, error) {
	if len(args) == 0 {
		c.printUsage(stderr, false)
		return "", nil, &UsageError{Err: fmt.Errorf("%w: say which (%s)", ErrNoSubcommand, c.names())}
	}
	switch args[0] {
	case "-h", "--help", "help":
		c.printUsage(stdout, false)
		return "", nil, pflag.ErrHelp
	case "--help-long":
		c.printUsage(stdout, true)
		return "", nil, pflag.ErrHelp
	}
	for _, s := range c.Subcommands {
		if s.Name == args[0] {
			return s.Name, args[1:], nil
		}
	}
	if strings.HasPrefix(args[0], "-") {
		return "", nil, Usagef("a subcommand comes before the flags, as in '%s %s %s'; subcommands: %s",
			c.Name, c.Subcommands[0].Name, strings.Join(args, " "), c.names())
	}
	return "", nil, Usagef("unknown subcommand %q%s; subcommands: %s; '%s --help' shows examples",
		args[0], didYouMean(args[0], c.names(), ""), c.names(), c.Name)
}

func (c *Command) names() string {
	var s []string
	for _, sc := range c.Subcommands {
		s = append(s, sc.Name)
	}
	return strings.Join(s, ", ")
}

// printUsage writes the command's usage: with long, Long after it.
func (c *Command) printUsage(w io.Writer, long bool) {
	fmt.Fprintf(w, "%s: %s\n\nUsage:\n", c.Name, c.Summary)
	width := 0
	for _, s := range c.Subcommands {
		width = max(width, len(s.Name)+len(s.Args)+1)
	}
	for _, s := range c.Subcommands {
		fmt.Fprintf(w, "  %s %-*s  %s\n", c.Name, width, s.Name+" "+s.Args, s.Summary)
	}
	c.printExamples(w, "", 3)
	fmt.Fprintf(w, "\n'%s <subcommand> --help' lists a subcommand's flags", c.Name)
	if c.Long != "" && !long {
		fmt.Fprintf(w, "; --help-long adds the longer notes (why the defaults)")
	}
	fmt.Fprintln(w, ".")
	if long && c.Long != "" {
		fmt.Fprintf(w, "\n%s", c.Long)
	}
}

// printExamples writes the first n examples of the command line prefix
// (all for "").
func (c *Command) printExamples(w io.Writer, prefix string, n int) {
	var ex []string
	for _, e := range c.Examples {
		if (prefix == "" || e == prefix || strings.HasPrefix(e, prefix+" ")) && len(ex) < n {
			ex = append(ex, e)
		}
	}
	if len(ex) == 0 {
		return
	}
	fmt.Fprintln(w, "\nExamples:")
	for _, e := range ex {
		fmt.Fprintf(w, "  %s\n", e)
	}
}

// FlagSet is a new flag set for subcommand sub ("" for a command without
// subcommands). Its --help prints to
// stdout the subcommand's usage line and examples, then its flags, then
// the other subcommands; --help-long adds the command's Long. Errors and
// deprecation notices go to stderr. Parse it with c.Parse.
func (c *Command) FlagSet(sub string, stdout, stderr io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet(strings.TrimSpace(c.Name+" "+sub), pflag.ContinueOnError)
	fs.SetOutput(stderr)
	long := fs.Bool("help-long", false, "this help and the longer notes")
	_ = fs.MarkHidden("help-long")
	fs.Usage = func() { c.printFlagUsage(stdout, fs, sub, *long) }
	return fs
}

func (c *Command) printFlagUsage(w io.Writer, fs *pflag.FlagSet, sub string, long bool) {
	args := "[flags]"
	summary := ""
	for _, s := range c.Subcommands {
		if s.Name == sub {
			args, summary = s.Args, s.Summary
		}
	}
	if sub == "" {
		summary = c.Summary
	}
	fmt.Fprintf(w, "Usage: %s %s\n  %s\n", fs.Name(), args, summary)
	c.printExamples(w, fs.Name(), 3)
	fmt.Fprintf(w, "\nFlags:\n%s", fs.FlagUsages())
	var others []string
	for _, s := range c.Subcommands {
		if s.Name != sub {
			others = append(others, s.Name)
		}
	}
	if len(others) > 0 {
		fmt.Fprintf(w, "\nOther subcommands of %s: %s ('%s --help').\n", c.Name, strings.Join(others, ", "), c.Name)
	}
	if c.Long != "" && !long {
		fmt.Fprintln(w, "--help-long adds the longer notes (why the defaults).")
	}
	if long && c.Long != "" {
		fmt.Fprintf(w, "\n%s", c.Long)
	}
}

// Parse parses args into fs (made by FlagSet). --help and --help-long
// print the usage to stdout and return pflag.ErrHelp; any other parse
// error, and a positional argument where takesArgs is false, is a
// UsageError naming the flag, suggesting the nearest one for an unknown
// flag.
func (c *Command) Parse(fs *pflag.FlagSet, args []string, takesArgs bool) error {
	err := fs.Parse(args)
	if errors.Is(err, pflag.ErrHelp) {
		return err
	}
	if long, _ := fs.GetBool("help-long"); err == nil && long {
		fs.Usage()
		return pflag.ErrHelp
	}
	see := fmt.Sprintf("'%s --help' lists the flags", fs.Name())
	var notExist *pflag.NotExistError
	switch {
	case errors.As(err, &notExist):
		name := notExist.GetSpecifiedName()
		var names []string
		fs.VisitAll(func(f *pflag.Flag) {
			if !f.Hidden {
				names = append(names, f.Name)
			}
		})
		return Usagef("unknown flag --%s%s; %s", name, didYouMean(name, strings.Join(names, ","), "--"), see)
	case err != nil:
		return Usagef("%w; %s", err, see)
	case !takesArgs && fs.NArg() > 0:
		return Usagef("unexpected argument %q (%s takes flags only); %s", fs.Arg(0), fs.Name(), see)
	}
	return nil
}

// ParseCommon is Parse for a subcommand that takes the Common flags and
// no arguments, followed by common.Check.
func (c *Command) ParseCommon(fs *pflag.FlagSet, args []string, common *Common) error {
	if err := c.Parse(fs, args, false); err != nil {
		return err
	}
	return common.Check()
}

// didYouMean is " (did you mean PREFIXname?)" for the candidate (in a
// comma-separated list) nearest to typed, when one is near enough to be a
// typo: within a third of its length in edits, or typed is a prefix of
// it. It is "" otherwise.
func didYouMean(typed, candidates, prefix string) string {
	best, bestD := "", -1
	for _, c := range strings.Split(candidates, ",") {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		d := editDistance(typed, c)
		if strings.HasPrefix(c, typed) && len(typed) >= 3 {
			d = min(d, 1)
		}
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	if bestD < 0 || bestD > max(1, len(best)/3) {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s%s?)", prefix, best)
}

// editDistance is the Damerau-Levenshtein distance (optimal string
// alignment: a swap of two neighbours is one edit, as in "trian").
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range rb {
		d[0][j+1] = j + 1
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
