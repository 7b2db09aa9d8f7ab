package crashtest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Main is a command package's TestMain: it runs main when Run started this
// test binary as the command, and the tests otherwise.
func Main(m *testing.M, main func()) {
	AsCommand(main)
	os.Exit(m.Run())
}

// Exec runs this test binary as the command (see Main) with args and
// returns what it wrote and its exit status.
func Exec(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := command(args)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("start %q: %v", args, err)
	}
	return out.String(), errOut.String(), code
}

// BadFlag is one case of BadFlags: a command line, the exit status and a
// part of the message it must print.
type BadFlag struct {
	Args []string
	Code int
	Want string
}

// BadFlags runs each case as the command and checks the exit status and
// the message on stderr. In the arguments, $OUT becomes a folder in a
// fresh temporary folder, which every case must leave uncreated, and
// $NODATA a folder that does not exist: a command that loaded data before
// checking its flags would fail on it instead.
func BadFlags(t *testing.T, cases []BadFlag) {
	t.Helper()
	for _, c := range cases {
		out := filepath.Join(t.TempDir(), "out")
		args := slices.Clone(c.Args)
		for i, a := range args {
			args[i] = strings.NewReplacer("$OUT", out, "$NODATA", filepath.Join(t.TempDir(), "no-data")).Replace(a)
		}
		_, stderr, code := Exec(t, args...)
		if code != c.Code || !strings.Contains(stderr, c.Want) {
			t.Errorf("%q: exit %d, stderr:\n%s\nwant exit %d and %q", c.Args, code, stderr, c.Code, c.Want)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%q: --out %s was created (%v)", c.Args, out, err)
		}
	}
}

// TrainArgs is a BadFlags command line of the train subcommand: --out
// $OUT --data-dir $NODATA, then extra.
func TrainArgs(extra ...string) []string {
	return append([]string{"train", "--out", "$OUT", "--data-dir", "$NODATA"}, extra...)
}
