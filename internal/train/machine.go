package train

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"

	"torchlab/internal/cnncalc/torchcheck"
	"torchlab/internal/runrec"
	"torchlab/torch/torchrt"
)

// blasLink is the generic BLAS libtorch links on Debian; update-alternatives
// points it at OpenBLAS or the reference BLAS.
const blasLink = "/usr/lib/x86_64-linux-gnu/libblas.so.3"

// ThisMachine describes the machine this process runs on.
func ThisMachine() runrec.Machine {
	blas := "unknown"
	if p, err := filepath.EvalSymlinks(blasLink); err == nil {
		blas = p
	}
	return runrec.Machine{Cores: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH,
		Libtorch: torchcheck.LibtorchVersion(), BLAS: blas, Allocator: torchrt.Allocator().String(), CPU: torchrt.ThisCPU().Key(),
		Go: runtime.Version()}
}

// GitCommit is the commit the running binary was built from, with "-dirty"
// when it was built from modified files: `go build` in a git checkout stamps
// both into the binary, so a run records the code it ran even when the
// checkout moves on while it trains. Binaries without the stamp (go test,
// go run, or GOFLAGS=-buildvcs=false, which some machines set) fall back to
// the working directory's checkout as git saw it when the process started,
// and to "unknown" outside one.
func GitCommit() string {
	if commit, ok := builtFrom(); ok {
		return commit
	}
	return commitAtStart
}

// commitAtStart is read once, when the process starts: a summary written
// hours later must not name the commit the checkout has moved on to since.
var commitAtStart = checkoutCommit()

// checkoutCommit is the working directory's HEAD, with "-dirty" when
// tracked files differ from it.
func checkoutCommit() string {
	out, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	commit := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(strings.TrimSpace(string(st))) > 0 {
		commit += "-dirty"
	}
	return commit
}

// builtFrom reads the commit stamped into the binary by the go command.
func builtFrom() (string, bool) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "", false
	}
	var rev string
	modified := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return "", false
	}
	if modified {
		rev += "-dirty"
	}
	return rev, true
}
