package crashtest

import (
	"os"
	"testing"
)

// Main is a command package's TestMain: it runs main when Run started this
// test binary as the command, and the tests otherwise.
func Main(m *testing.M, main func()) {
	AsCommand(main)
	os.Exit(m.Run())
}
