package launch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"torchlab/internal/cli"
)

// The ranks these tests start are this test binary, doing what
// TORCHLAB_LAUNCH_TEST asks.
const scenarioVar = "TORCHLAB_LAUNCH_TEST"

func TestMain(m *testing.M) {
	if s := os.Getenv(scenarioVar); s != "" {
		os.Exit(playRank(s))
	}
	os.Exit(m.Run())
}

// playRank plays one rank of a scenario and returns its exit code.
func playRank(scenario string) int {
	switch scenario {
	case "env":
		fmt.Printf("RANK=%s WORLD_SIZE=%s LOCAL_RANK=%s MASTER_ADDR=%s MASTER_PORT=%s OMP_NUM_THREADS=%s args=%q\n",
			os.Getenv("RANK"), os.Getenv("WORLD_SIZE"), os.Getenv("LOCAL_RANK"), os.Getenv("MASTER_ADDR"),
			os.Getenv("MASTER_PORT"), os.Getenv("OMP_NUM_THREADS"), os.Args[1:])
		return 0
	case "rank1fails":
		if os.Getenv("RANK") == "1" {
			fmt.Fprintln(os.Stderr, "something went wrong")
			return 3
		}
		time.Sleep(time.Minute) // until SIGTERM
		return 0
	case "waitint":
		c := make(chan os.Signal, 1)
		signal.Notify(c, os.Interrupt)
		fmt.Println("ready")
		select {
		case <-c:
			fmt.Println("interrupted, saving")
			return 130
		case <-time.After(time.Minute):
			return 1
		}
	}
	return 2
}

func run(t *testing.T, ctx context.Context, scenario string, c Config) (string, error) {
	t.Helper()
	t.Setenv(scenarioVar, scenario)
	c.Command = append([]string{os.Args[0]}, c.Command...)
	if c.MasterAddr == "" {
		c.MasterAddr = "127.0.0.1"
	}
	var out bytes.Buffer
	err := Run(ctx, c, &out, &out)
	return out.String(), err
}

// readyWatch collects the ranks' output and calls onReady once it holds
// want lines ending in "ready".
type readyWatch struct {
	mu      sync.Mutex
	out     bytes.Buffer
	want    int
	onReady func()
}

func (w *readyWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.out.Write(p)
	if w.onReady != nil && strings.Count(w.out.String(), "ready\n") >= w.want {
		w.onReady()
		w.onReady = nil
	}
	return n, err
}

func (w *readyWatch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.out.String()
}

// TestEnvironment: each rank gets torchrun's variables, its share of the
// cores as --threads and OMP_NUM_THREADS, and rank 1's lines are prefixed.
func TestEnvironment(t *testing.T) {
	out, err := run(t, context.Background(), "env", Config{NProc: 2, NNodes: 1, Command: []string{"train", "--x", "1"}})
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	threads := max(1, runtime.NumCPU()/2)
	for r := 0; r < 2; r++ {
		prefix := ""
		if r > 0 {
			prefix = fmt.Sprintf("[rank %d] ", r)
		}
		want := fmt.Sprintf(`%sRANK=%d WORLD_SIZE=2 LOCAL_RANK=%d MASTER_ADDR=127.0.0.1 MASTER_PORT=`, prefix, r, r)
		wantArgs := fmt.Sprintf(`OMP_NUM_THREADS=%d args=["train" "--x" "1" "--threads=%d"]`, threads, threads)
		found := false
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, want) && strings.HasSuffix(line, wantArgs) {
				found = true
			}
		}
		if !found {
			t.Errorf("no line %q...%q in\n%s", want, wantArgs, out)
		}
	}
	// A --threads in the command wins.
	out, err = run(t, context.Background(), "env", Config{NProc: 1, NNodes: 1, Threads: 5, Command: []string{"--threads", "3"}})
	if err != nil || !strings.Contains(out, `args=["--threads" "3"]`) {
		t.Errorf("the command's --threads was not kept (%v):\n%s", err, out)
	}
}

// TestFailedRankIsNamed: rank 1 exits 3; the launcher names it, stops rank
// 0 with SIGTERM after the grace period and fails.
func TestFailedRankIsNamed(t *testing.T) {
	began := time.Now()
	out, err := run(t, context.Background(), "rank1fails", Config{NProc: 2, NNodes: 1, Grace: time.Second})
	if err == nil || !strings.Contains(err.Error(), "rank 1 of 2 failed: exited with status 3") {
		t.Fatalf("error %v does not name rank 1 and its status\n%s", err, out)
	}
	for _, want := range []string{"[rank 1] something went wrong", "sending SIGTERM"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if d := time.Since(began); d > 30*time.Second {
		t.Errorf("took %v: rank 0 was not stopped after the grace period", d)
	}
}

// TestInterruptIsForwarded: cancelling the launcher's context (its Ctrl-C)
// sends each rank one SIGINT; ranks that stop with 130 are not failures,
// and the launcher returns cli.ErrInterrupted.
func TestInterruptIsForwarded(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	t.Setenv(scenarioVar, "waitint")
	// Interrupt once both ranks listen for SIGINT, not after a fixed wait:
	// on a loaded machine (GOGC=1 runs) a rank may take seconds to start.
	w := &readyWatch{want: 2, onReady: cancel}
	err := Run(ctx, Config{NProc: 2, NNodes: 1, Grace: 10 * time.Second, MasterAddr: "127.0.0.1",
		Command: []string{os.Args[0]}}, w, w)
	out := w.String()
	if !errors.Is(err, cli.ErrInterrupted) {
		t.Fatalf("error %v, want cli.ErrInterrupted\n%s", err, out)
	}
	if n := strings.Count(out, "interrupted, saving"); n != 2 {
		t.Errorf("%d ranks saw the interrupt, want 2:\n%s", n, out)
	}
}

func TestBadConfig(t *testing.T) {
	for _, c := range []Config{
		{NProc: 0, NNodes: 1, Command: []string{"true"}},
		{NProc: 1, NNodes: 2, NodeRank: 2, Command: []string{"true"}},
		{NProc: 1, NNodes: 2, Command: []string{"true"}}, // no fixed port
		{NProc: 1, NNodes: 1},
		{NProc: 1, NNodes: 1, Command: []string{"/no/such/command"}},
	} {
		if err := Run(context.Background(), c, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}

// TestTorchrunSpellings: torchrun's flag names set the same fields.
func TestTorchrunSpellings(t *testing.T) {
	ours, err := parse([]string{"--nproc", "3", "--nnodes", "2", "--node-rank", "1", "--master-addr", "10.0.0.1", "--master-port", "29500", "--", "true", "x"})
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := parse([]string{"--nproc_per_node", "3", "--nnodes", "2", "--node_rank", "1", "--master_addr", "10.0.0.1", "--master_port", "29500", "true", "x"})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{NProc: 3, NNodes: 2, NodeRank: 1, MasterAddr: "10.0.0.1", MasterPort: 29500, Command: []string{"true", "x"}}
	for name, cfg := range map[string]Config{"torchlab-run's": ours, "torchrun's": theirs} {
		cfg.Grace = 0
		if !reflect.DeepEqual(cfg, want) {
			t.Errorf("%s spelling: %+v, want %+v", name, cfg, want)
		}
	}
}
