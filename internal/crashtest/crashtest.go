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
	"strings"
	"syscall"
	"testing"
	"time"

	"torchlab/internal/launch"
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
	log := logFile(t, "run.log")
	run.Stdout, run.Stderr = log, log
	exited := start(t, run)
	t.Logf("killed with SIGKILL: %s", r.killWhenDue(t, run, exited, log.Name()))
	<-exited
	r.resume(t)
}

// CheckRanks runs the test on a data-parallel run of world ranks, started
// directly with torchrun's environment variables (no launcher to stop the
// others): it kills the last rank with SIGKILL, checks that rank 0 then
// exits non-zero within a minute with an error naming the killed rank,
// and resumes the run from rank 0's last checkpoint as one process.
func (r Run) CheckRanks(t *testing.T, world int) {
	t.Helper()
	port, err := launch.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	ranks := make([]*exec.Cmd, world)
	exits := make([]chan error, world)
	logs := make([]*os.File, world)
	for rank := range ranks {
		ranks[rank] = command(r.Args)
		ranks[rank].Env = append(ranks[rank].Env, "MASTER_ADDR=127.0.0.1", fmt.Sprintf("MASTER_PORT=%d", port),
			fmt.Sprintf("RANK=%d", rank), fmt.Sprintf("WORLD_SIZE=%d", world), fmt.Sprintf("LOCAL_RANK=%d", rank))
		logs[rank] = logFile(t, fmt.Sprintf("rank%d.log", rank))
		ranks[rank].Stdout, ranks[rank].Stderr = logs[rank], logs[rank]
		exits[rank] = start(t, ranks[rank])
	}
	defer func() {
		for _, c := range ranks {
			_ = c.Process.Kill()
		}
	}()
	victim := world - 1
	t.Logf("killed rank %d with SIGKILL: %s", victim, r.killWhenDue(t, ranks[victim], exits[victim], logs[0].Name()))
	<-exits[victim]
	killed := time.Now()
	select {
	case err := <-exits[0]:
		log, _ := os.ReadFile(logs[0].Name())
		if err == nil {
			t.Fatalf("rank 0 exited 0 after rank %d was killed:\n%s", victim, log)
		}
		if want := fmt.Sprintf("rank %d did not answer", victim); !strings.Contains(string(log), want) {
			t.Errorf("rank 0's error does not say %q:\n%s", want, log)
		}
		t.Logf("rank 0 stopped %.1fs after the kill", time.Since(killed).Seconds())
	case <-time.After(time.Minute):
		t.Fatalf("rank 0 still running a minute after rank %d was killed", victim)
	}
	r.resume(t)
}

// logFile creates a log file in a test's temporary folder.
func logFile(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// start starts cmd and returns a channel that gets its Wait result.
func start(t *testing.T, cmd *exec.Cmd) chan error {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	return exited
}

// killWhenDue kills victim with SIGKILL at the run's kill point and says
// where the run was; it fails the test if the run ends first or no kill
// point comes within 3 minutes.
func (r Run) killWhenDue(t *testing.T, victim *exec.Cmd, exited chan error, log string) string {
	t.Helper()
	deadline := time.After(3 * time.Minute)
	for {
		select {
		case err := <-exited:
			t.Fatalf("the run ended (%v) before it could be killed mid-run; make it longer (log %s)", err, log)
		case <-deadline:
			t.Fatal("no kill point within 3 minutes")
		case <-time.After(10 * time.Millisecond):
			if ok, where := r.killPoint(); ok {
				if err := victim.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				return where
			}
		}
	}
}

// resume continues the run with ResumeArgs and checks its metrics rows.
func (r Run) resume(t *testing.T) {
	t.Helper()
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
