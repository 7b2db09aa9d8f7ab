// Package crashtest kills a training command with SIGKILL in the middle of
// a run, resumes it, and checks that metrics.csv holds every evaluation
// exactly once: the test of the shared loop's resume path
// (internal/train) that a real crash exercises.
//
// The command is the test binary itself: a command package's TestMain calls
// AsCommand(main), so that re-executed with the variable below it runs main
// instead of the tests.
package crashtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"torchlab/internal/metrics"
	"torchlab/torch/checkpoint"
)

const envVar = "TORCHLAB_CRASHTEST_RUN_MAIN"

// AsCommand runs main and exits when this test binary was started by Run.
func AsCommand(main func()) {
	if os.Getenv(envVar) == "1" {
		main()
		os.Exit(0)
	}
}

// command starts the test binary as the command with args.
func command(args []string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), envVar+"=1")
	return cmd
}

// Run is one kill-and-resume test. out is the run's --out; args start the
// run, resumeArgs continue it. It kills the run once metrics.csv holds a
// row beyond the checkpoint's step when killBeyond is true (rows the
// resumed run must drop and write again), else once it holds minRows rows.
// It then checks that the (step, split) pairs of the final metrics.csv are
// exactly want.
type Run struct {
	Out              string
	Args, ResumeArgs []string
	StepColumn       string
	KillBeyond       bool
	MinRows          int
	Want             []string // "step split", in file order
}

// Check runs the test.
func (r Run) Check(t *testing.T) {
	t.Helper()
	run := command(r.Args)
	log, err := os.Create(filepath.Join(t.TempDir(), "run.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	run.Stdout, run.Stderr = log, log
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- run.Wait() }()
	deadline := time.After(3 * time.Minute)
	killedAt := ""
poll:
	for {
		select {
		case err := <-exited:
			t.Fatalf("the run ended (%v) before it could be killed mid-run; make it longer (log %s)", err, log.Name())
		case <-deadline:
			_ = run.Process.Kill()
			t.Fatal("no kill point within 3 minutes")
		case <-time.After(10 * time.Millisecond):
			if ok, where := r.killPoint(); ok {
				if err := run.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				<-exited
				killedAt = where
				break poll
			}
		}
	}
	t.Logf("killed with SIGKILL: %s", killedAt)
	out, err := command(r.ResumeArgs).CombinedOutput()
	if err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	got := r.rows(t)
	if !slices.Equal(got, r.Want) {
		t.Errorf("metrics rows after kill and resume\n got %v\nwant %v (each evaluation exactly once)", got, r.Want)
	}
}

// killPoint says whether to kill now, and where the run is.
func (r Run) killPoint() (bool, string) {
	tab, err := metrics.Read(filepath.Join(r.Out, "metrics.csv"))
	if err != nil || len(tab.Rows) == 0 {
		return false, ""
	}
	meta, err := checkpoint.ReadMeta(filepath.Join(r.Out, "checkpoint"))
	if err != nil {
		return false, "" // no checkpoint yet: nothing to resume from
	}
	last, err := tab.Float(r.StepColumn, len(tab.Rows)-1)
	if err != nil {
		return false, ""
	}
	where := fmt.Sprintf("checkpoint at step %d, %d metrics rows, the last at step %v", meta.Step, len(tab.Rows), last)
	if r.KillBeyond {
		return int64(last) > meta.Step, where
	}
	return len(tab.Rows) >= r.MinRows, where
}

// rows lists the final file's "step split" pairs.
func (r Run) rows(t *testing.T) []string {
	t.Helper()
	tab, err := metrics.Read(filepath.Join(r.Out, "metrics.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := range tab.Rows {
		s, err := tab.Float(r.StepColumn, i)
		if err != nil {
			t.Fatal(err)
		}
		split, err := tab.Column("split")
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, strconv.Itoa(int(s))+" "+split[i])
	}
	return out
}
