package train

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"torchlab/internal/cnncalc/torchcheck"
)

// Machine is what a run ran on, for summary.json: results on 2 cores with
// the reference BLAS are not results on 32 with OpenBLAS.
type Machine struct {
	Cores    int    `json:"cores"`    // runtime.NumCPU
	OS       string `json:"os"`       // GOOS/GOARCH
	Libtorch string `json:"libtorch"` // major.minor of the headers compiled against
	BLAS     string `json:"blas"`     // what libblas.so.3 resolves to, or "unknown"
	Go       string `json:"go"`
}

// blasLink is the generic BLAS libtorch links on Debian; update-alternatives
// points it at OpenBLAS or the reference BLAS.
const blasLink = "/usr/lib/x86_64-linux-gnu/libblas.so.3"

// ThisMachine describes the machine this process runs on.
func ThisMachine() Machine {
	blas := "unknown"
	if p, err := filepath.EvalSymlinks(blasLink); err == nil {
		blas = p
	}
	return Machine{Cores: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH,
		Libtorch: torchcheck.LibtorchVersion(), BLAS: blas, Go: runtime.Version()}
}

// GitCommit is the commit of the working directory's git checkout, with
// "-dirty" when tracked files differ from it, or "unknown" (no git, not a
// checkout).
func GitCommit() string {
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
