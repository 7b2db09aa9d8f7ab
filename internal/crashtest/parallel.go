package crashtest

import (
	"bytes"
	"context"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"torchlab/internal/launch"
	"torchlab/torch/npz"
	"torchlab/torch/reference"
)

// Equivalent trains with args (a train subcommand's, without --out) once in
// one process and once as world ranks started by torchlab-run, and checks
// that the two final checkpoints hold the same model: every tensor's
// difference, in Euclidean norm, within rtol of the one-process tensor's
// norm. (Adam divides each gradient by its own running scale, so an entry
// whose gradient is a near-cancelling sum can move a little differently
// when the sum is taken in another order; the norm is what says whether the
// runs trained the same model.)
// args must make the ranks' split of each batch the whole batch (world
// divides the batch size) and leave no randomness that a rank draws alone
// (dropout).
func Equivalent(t *testing.T, args []string, world int, rtol float64) {
	t.Helper()
	equivalent(t, args, world, rtol, RunRanks)
}

// EquivalentVia is Equivalent with the ranks started by runRanks
// (RunRanksUnderAgent, RunRanksUnderTorchrun).
func EquivalentVia(t *testing.T, args []string, world int, rtol float64, runRanks func(*testing.T, []string, int) string) {
	t.Helper()
	equivalent(t, args, world, rtol, runRanks)
}

func equivalent(t *testing.T, args []string, world int, rtol float64, runRanks func(*testing.T, []string, int) string) {
	t.Helper()
	one := filepath.Join(t.TempDir(), "one")
	if out, err := command(append(slices.Clone(args), "--out", one)).CombinedOutput(); err != nil {
		t.Fatalf("one process: %v\n%s", err, out)
	}
	many := filepath.Join(t.TempDir(), "many")
	log := RunRanks(t, append(slices.Clone(args), "--out", many), world)
	// Only rank 0 logs (no --log-all-ranks).
	for _, line := range strings.Split(log, "\n") {
		if strings.HasPrefix(line, "[rank ") && !strings.HasPrefix(line, "[rank 0] ") {
			t.Errorf("a rank other than 0 logged: %q", line)
		}
	}
	a, b := modelTensors(t, one), modelTensors(t, many)
	if len(a) != len(b) {
		t.Fatalf("one process saved %d model tensors, %d ranks %d", len(a), world, len(b))
	}
	worst, where, element := 0.0, "", 0.0
	for name, want := range a {
		got, ok := b[name]
		if !ok {
			t.Fatalf("%d ranks' checkpoint lacks %s", world, name)
		}
		w, g := want.Floats(), got.Floats()
		if _, err := reference.Compare(g, w, 1); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var diff, norm, scale float64
		for i := range w {
			diff += (g[i] - w[i]) * (g[i] - w[i])
			norm += w[i] * w[i]
			scale = math.Max(scale, math.Abs(w[i]))
		}
		for i := range w {
			element = math.Max(element, math.Abs(g[i]-w[i])/math.Max(scale, 1e-12))
		}
		if d := math.Sqrt(diff / math.Max(norm, 1e-24)); d > worst {
			worst, where = d, name
		}
	}
	if worst > rtol {
		t.Errorf("%d ranks and one process disagree: |difference|/|one process| = %.3g > %g in %s", world, worst, rtol, where)
	}
	t.Logf("%d model tensors; largest |difference|/|one process| between %d ranks and one process: %.3g (in %s); largest single entry's difference relative to its tensor's largest entry: %.3g",
		len(a), world, worst, where, element)
}

// RunRanks runs args (including --out) as world ranks through torchlab-run
// and fails the test unless every rank succeeds. It returns the output.
func RunRanks(t *testing.T, args []string, world int) string {
	t.Helper()
	t.Setenv(envVar, "1") // the ranks are this test binary, running main
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	err := launch.Run(ctx, launch.Config{NProc: world, NNodes: 1, MasterAddr: "127.0.0.1", Threads: 1,
		Grace: 30 * time.Second, Command: append([]string{os.Args[0]}, args...)}, &out, &out)
	if err != nil {
		t.Fatalf("%d ranks: %v\n%s", world, err, out.String())
	}
	return out.String()
}

// RunRanksUnderAgent runs args (including --out) as world ranks the way
// torchrun does with its default static rendezvous, through
// scripts/reference/torchrun_agent.py: the launcher hosts the TCPStore,
// sets TORCHELASTIC_USE_AGENT_STORE=True and OMP_NUM_THREADS=1, and every
// rank joins as a client. Without python3-torch the test is skipped.
func RunRanksUnderAgent(t *testing.T, args []string, world int) string {
	t.Helper()
	python := reference.PythonOrSkip(t)
	root, err := reference.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	agent := filepath.Join(root, "scripts", "reference", "torchrun_agent.py")
	cmd := exec.CommandContext(ctx, python, append([]string{agent, "--nproc", strconv.Itoa(world), "--threads", "1", "--", os.Args[0]}, args...)...)
	cmd.Env = append(os.Environ(), envVar+"=1") // the ranks are this test binary, running main
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%d ranks under the agent: %v\n%s", world, err, out)
	}
	return string(out)
}

// Torchrun is Debian's torchrun (python3-torch).
const Torchrun = "/usr/bin/torchrun"

// RunRanksUnderTorchrun runs args (including --out) as world ranks started
// by the real torchrun, with its default static rendezvous. Its
// --redirects 1 --tee 1 work around torchrun 1.13 on Python 3.11, which
// fails before starting a worker with the default "0" (Std.from_str finds
// no member for 0 or 3 there, since Python 3.11 iterates a Flag's single
// bits only). Without torchrun the test is skipped.
func RunRanksUnderTorchrun(t *testing.T, args []string, world int) string {
	t.Helper()
	if _, err := os.Stat(Torchrun); err != nil {
		t.Skipf("skipped: no %s (python3-torch installs it): %v", Torchrun, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, Torchrun, append([]string{"--nproc_per_node", strconv.Itoa(world), "--master_port", strconv.Itoa(port),
		"--redirects", "1", "--tee", "1", "--no_python", os.Args[0]}, args...)...)
	cmd.Env = append(os.Environ(), envVar+"=1") // the ranks are this test binary, running main
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%d ranks under torchrun: %v\n%s", world, err, out)
	}
	return string(out)
}

// modelTensors reads the model's tensors from out's final checkpoint.
func modelTensors(t *testing.T, out string) map[string]npz.Array {
	t.Helper()
	arrays, err := npz.Read(filepath.Join(out, "checkpoint", "checkpoint.npz"))
	if err != nil {
		t.Fatal(err)
	}
	model := map[string]npz.Array{}
	for name, a := range arrays {
		if strings.HasPrefix(name, "model.") {
			model[name] = a
		}
	}
	if len(model) == 0 {
		t.Fatalf("%s: no model tensors in the checkpoint", out)
	}
	return model
}
