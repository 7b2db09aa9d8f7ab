package dist

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"torchlab/torch/npz"
	"torchlab/torch/reference"
	"torchlab/torch/tensors"
	"torchlab/torch/torchrt"
)

// The test binary is also the ranks' program: with TORCHLAB_DIST_WORKER set
// it runs that worker instead of the tests (see worker).
func TestMain(m *testing.M) {
	if w := os.Getenv("TORCHLAB_DIST_WORKER"); w != "" {
		torchrt.Lock()
		if err := worker(w); err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// worker runs one rank of a scenario, configured by the environment.
func worker(scenario string) error {
	cfg, ok, err := FromEnv(nil)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("WORLD_SIZE not set")
	}
	cfg.Timeout = 10 * time.Second
	g, err := Join(cfg)
	if err != nil {
		return err
	}
	defer g.Close()
	r := float32(g.Rank() + 1)
	switch scenario {
	case "collectives":
		return collectives(g, r)
	case "interop":
		x, err := tensors.FromFloat32([]float32{r, 10 * r, 100 * r}, 3)
		if err != nil {
			return err
		}
		if err := g.AllReduceSum(x); err != nil {
			return err
		}
		b, err := tensors.FromFloat32([]float32{0, 0, 0}, 3)
		if g.Rank() == 0 {
			b, err = tensors.FromFloat32([]float32{7, 8, 9}, 3)
		}
		if err != nil {
			return err
		}
		if err := g.Broadcast(0, b); err != nil {
			return err
		}
		if err := g.Barrier(); err != nil {
			return err
		}
		sum, err := tensors.Float32s(x)
		if err != nil {
			return err
		}
		bc, err := tensors.Float32s(b)
		if err != nil {
			return err
		}
		fmt.Printf("sum %v broadcast %v\n", sum, bc)
		return nil
	case "replicas":
		return replicas(g)
	case "loop":
		// All-reduce every 50 ms, printing each step, until killed or failed.
		x, err := tensors.FromFloat32([]float32{r}, 1)
		if err != nil {
			return err
		}
		for i := 0; i < 2000; i++ {
			if err := g.AllReduceSum(x); err != nil {
				return err
			}
			fmt.Printf("step %d\n", i)
			time.Sleep(50 * time.Millisecond)
		}
		return nil
	}
	return fmt.Errorf("unknown scenario %q", scenario)
}

// collectives checks sum, mean, broadcast, gradient averaging and barrier.
func collectives(g *Group, r float32) error {
	w := float32(g.World())
	// Two tensors of different sizes and a third of another dtype: one
	// bucket per dtype.
	a, _ := tensors.FromFloat32([]float32{r, 2 * r, 3 * r, 4 * r}, 2, 2)
	b, _ := tensors.FromFloat32([]float32{-r}, 1)
	n, _ := tensors.FromInt64([]int64{int64(r)}, 1)
	if err := g.AllReduceSum(a, b, n); err != nil {
		return err
	}
	sum := w * (w + 1) / 2
	if err := expect("sum a", a, sum, 2*sum, 3*sum, 4*sum); err != nil {
		return err
	}
	if err := expect("sum b", b, -sum); err != nil {
		return err
	}
	if got, _ := tensors.Int64s(n); got[0] != int64(sum) {
		return fmt.Errorf("int64 sum: got %d, want %v", got[0], sum)
	}
	m, _ := tensors.FromFloat32([]float32{r}, 1)
	if err := g.AllReduceMean(m); err != nil {
		return err
	}
	if err := expect("mean", m, sum/w); err != nil {
		return err
	}
	c, _ := tensors.FromFloat32([]float32{r, r}, 2)
	if err := g.Broadcast(int(w)-1, c); err != nil {
		return err
	}
	if err := expect("broadcast from the last rank", c, w, w); err != nil {
		return err
	}
	// Gradients: p.grad = r for the used parameter; the other has none.
	used := ts.MustOnes([]int64{3}, gotch.Float, gotch.CPU)
	used.MustRequiresGrad_(true)
	unused := ts.MustOnes([]int64{2}, gotch.Float, gotch.CPU)
	unused.MustRequiresGrad_(true)
	scaled, err := tensors.MulScalar(used, float64(r), false)
	if err != nil {
		return err
	}
	loss := scaled.MustSum(gotch.Float, true)
	loss.MustBackward()
	if err := g.AverageGrads([]*ts.Tensor{used, unused}); err != nil {
		return err
	}
	if err := expect("averaged gradient", used.MustGrad(false), sum/w, sum/w, sum/w); err != nil {
		return err
	}
	if err := expect("averaged missing gradient", unused.MustGrad(false), 0, 0); err != nil {
		return err
	}
	if err := g.Barrier(); err != nil {
		return err
	}
	fmt.Println("ok")
	return nil
}

// replicas replicates a parameter and a buffer from rank 0, then has rank 1
// move one value of each by one float32 step and prints each Verify's
// verdict, one line per check: "<check>: ok" or "<check>: <error>".
func replicas(g *Group) error {
	r := float32(g.Rank() + 1)
	w, err := tensors.FromFloat32([]float32{r, -r, 0.1 * r, 3}, 4)
	if err != nil {
		return err
	}
	w.MustRequiresGrad_(true)
	b, err := tensors.FromFloat32([]float32{r, 2}, 2)
	if err != nil {
		return err
	}
	reps, err := Replicate(g, map[string]*ts.Tensor{"w": w, "running_mean": b})
	if err != nil {
		return err
	}
	verdict := func(check string) {
		if err := reps.Verify(); err != nil {
			fmt.Printf("%s: %v\n", check, err)
			return
		}
		fmt.Printf("%s: ok\n", check)
	}
	// nudge moves t's element i up by one float32 step on rank 1 only.
	nudge := func(t *ts.Tensor, i int) error {
		v, err := tensors.Float32s(t)
		if err != nil || g.Rank() != 1 {
			return err
		}
		v[i] = math.Nextafter32(v[i], float32(math.Inf(1)))
		return tensors.Assign(t, npz.Float32(v, len(v)))
	}
	verdict("replicated")
	if err := nudge(w, 2); err != nil {
		return err
	}
	verdict("parameter nudged")
	if err := g.Broadcast(0, w); err != nil {
		return err
	}
	verdict("parameter re-broadcast")
	if err := nudge(b, 0); err != nil {
		return err
	}
	verdict("buffer nudged")
	if err := reps.AfterUpdate(); err != nil {
		return err
	}
	verdict("after update")
	return nil
}

func expect(what string, t *ts.Tensor, want ...float32) error {
	got, err := tensors.Float32s(t)
	if err != nil {
		return err
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		return fmt.Errorf("%s: got %v, want %v", what, got, want)
	}
	return nil
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// rankEnv is the torchrun environment of one rank on loopback.
func rankEnv(port, rank, world int) []string {
	return append(os.Environ(), "MASTER_ADDR=127.0.0.1", "MASTER_PORT="+strconv.Itoa(port),
		"RANK="+strconv.Itoa(rank), "WORLD_SIZE="+strconv.Itoa(world), "LOCAL_RANK="+strconv.Itoa(rank),
		"OMP_NUM_THREADS=1")
}

// startRank starts this test binary as one rank of scenario.
func startRank(t *testing.T, scenario string, port, rank, world int) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(rankEnv(port, rank, world), "TORCHLAB_DIST_WORKER="+scenario)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &stdout, &stderr
}

func TestCollectivesThreeRanks(t *testing.T) {
	port, world := freePort(t), 3
	type rank struct {
		cmd            *exec.Cmd
		stdout, stderr *bytes.Buffer
	}
	var ranks []rank
	for r := 0; r < world; r++ {
		cmd, o, e := startRank(t, "collectives", port, r, world)
		ranks = append(ranks, rank{cmd, o, e})
	}
	for r, k := range ranks {
		if err := k.cmd.Wait(); err != nil || strings.TrimSpace(k.stdout.String()) != "ok" {
			t.Errorf("rank %d: %v\nstdout: %s\nstderr: %s", r, err, k.stdout, k.stderr)
		}
	}
}

// TestVerifyCatchesADivergedReplica runs two ranks that replicate a
// parameter and a buffer, then nudges one value on rank 1 by one float32
// step: Verify must fail there, naming the tensor, and pass again once rank
// 0's values are copied back (by a broadcast for the parameter, by
// AfterUpdate for the buffer). Rank 0 compares with itself and always
// passes.
func TestVerifyCatchesADivergedReplica(t *testing.T) {
	port := freePort(t)
	var outs [2]*bytes.Buffer
	var cmds [2]*exec.Cmd
	var errs [2]*bytes.Buffer
	for r := range cmds {
		cmds[r], outs[r], errs[r] = startRank(t, "replicas", port, r, 2)
	}
	for r, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("rank %d: %v\nstdout: %s\nstderr: %s", r, err, outs[r], errs[r])
		}
	}
	// Parameters come first, then buffers: w is tensor 0, running_mean 1.
	want := [2][]string{
		{"replicated: ok", "parameter nudged: ok", "parameter re-broadcast: ok", "buffer nudged: ok", "after update: ok"},
		{"replicated: ok",
			"parameter nudged: rank 1's replica differs from rank 0's in tensor 0 of 2",
			"parameter re-broadcast: ok",
			"buffer nudged: rank 1's replica differs from rank 0's in tensor 1 of 2",
			"after update: ok"},
	}
	for r := range want {
		lines := strings.Split(strings.TrimSpace(outs[r].String()), "\n")
		if len(lines) != len(want[r]) {
			t.Fatalf("rank %d printed %q, want %d verdicts", r, lines, len(want[r]))
		}
		for i, w := range want[r] {
			if !strings.HasPrefix(lines[i], w) {
				t.Errorf("rank %d, check %d: %q, want %q", r, i+1, lines[i], w)
			}
		}
	}
}

// TestInteroperatesWithPyTorch joins a Go rank and a Python rank
// (torch.distributed, backend gloo, init_method env://) in one group, each
// way round: each must see the other's tensor in the sum, and rank 0's
// broadcast must reach the other.
func TestInteroperatesWithPyTorch(t *testing.T) {
	python := reference.Python(t)
	root, err := reference.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, goRank := range []int{0, 1} {
		port := freePort(t)
		goProc, goOut, goErr := startRank(t, "interop", port, goRank, 2)
		py := exec.Command(python, filepath.Join(root, "scripts/reference/dist_peer.py"))
		py.Env = rankEnv(port, 1-goRank, 2)
		pyOut, err := py.Output()
		if err != nil {
			stderr := ""
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			_ = goProc.Process.Kill()
			t.Fatalf("go rank %d, python rank %d: %v\n%s%s", goRank, 1-goRank, err, pyOut, stderr)
		}
		if err := goProc.Wait(); err != nil {
			t.Fatalf("go rank %d: %v\n%s%s", goRank, err, goOut, goErr)
		}
		if got := strings.TrimSpace(goOut.String()); got != "sum [3 30 300] broadcast [7 8 9]" {
			t.Errorf("go rank %d saw %q, want sum [3 30 300] (1+2 from Go and Python) broadcast [7 8 9]", goRank, got)
		}
		var res struct {
			Rank           int
			Sum, Broadcast []float64
			Gloo           bool
		}
		if err := json.Unmarshal(pyOut, &res); err != nil {
			t.Fatalf("python output %q: %v", pyOut, err)
		}
		if res.Rank != 1-goRank || fmt.Sprint(res.Sum) != "[3 30 300]" || fmt.Sprint(res.Broadcast) != "[7 8 9]" || !res.Gloo {
			t.Errorf("python rank %d saw sum %v and broadcast %v (gloo %v); want [3 30 300] and [7 8 9]", res.Rank, res.Sum, res.Broadcast, res.Gloo)
		}
	}
}

// TestKilledRankStopsTheOthers kills one rank of two with SIGKILL mid-run:
// the other must exit non-zero, well within the group's timeout (not
// hang), with an error that says which collective failed and which rank
// is gone, whether that is rank 1 or rank 0 (which serves the store).
func TestKilledRankStopsTheOthers(t *testing.T) {
	for _, tt := range []struct {
		killed int
		want   string
	}{
		{1, "rank 1 did not answer a roll call"},
		{0, "rank 0, which serves the rendezvous store at 127.0.0.1"},
	} {
		t.Run(fmt.Sprintf("rank%d", tt.killed), func(t *testing.T) {
			port, survivor := freePort(t), 1-tt.killed
			cmds := make([]*exec.Cmd, 2)
			var stderr bytes.Buffer
			var pipe io.Reader
			for r := range cmds {
				cmds[r] = exec.Command(os.Args[0])
				cmds[r].Env = append(rankEnv(port, r, 2), "TORCHLAB_DIST_WORKER=loop")
				if r == survivor {
					cmds[r].Stderr = &stderr
				} else {
					var err error
					if pipe, err = cmds[r].StdoutPipe(); err != nil {
						t.Fatal(err)
					}
				}
				if err := cmds[r].Start(); err != nil {
					t.Fatal(err)
				}
			}
			sc := bufio.NewScanner(pipe)
			for sc.Scan() && sc.Text() != "step 5" {
			}
			victim := cmds[tt.killed]
			if err := victim.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = victim.Wait()
			killed := time.Now()
			done := make(chan error, 1)
			go func() { done <- cmds[survivor].Wait() }()
			select {
			case err := <-done:
				if err == nil {
					t.Fatalf("rank %d exited 0 after rank %d was killed", survivor, tt.killed)
				}
				msg := stderr.String()
				if !strings.Contains(msg, fmt.Sprintf("rank %d of 2: all-reduce", survivor)) || !strings.Contains(msg, tt.want) {
					t.Errorf("rank %d's error does not say what failed and that rank %d is gone (%q): %q", survivor, tt.killed, tt.want, msg)
				}
				t.Logf("rank %d stopped %.1fs after the kill: %s", survivor, time.Since(killed).Seconds(), strings.TrimSpace(msg))
			case <-time.After(30 * time.Second):
				_ = cmds[survivor].Process.Kill()
				t.Fatalf("rank %d still running 30 s after rank %d was killed (timeout 10 s)", survivor, tt.killed)
			}
		})
	}
}

func TestBadConfiguration(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	if _, ok, err := FromEnv(env()); ok || err != nil {
		t.Errorf("no WORLD_SIZE: ok %v err %v, want a single process", ok, err)
	}
	busy, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)
	for _, c := range []struct {
		name string
		env  func(string) string
		want string
	}{
		{"missing MASTER_ADDR", env("WORLD_SIZE", "2", "RANK", "0", "MASTER_PORT", "29500"), "MASTER_ADDR is not set"},
		{"rank too large", env("WORLD_SIZE", "2", "RANK", "2", "MASTER_ADDR", "127.0.0.1", "MASTER_PORT", "29500"), "RANK=2 is outside 0..1"},
		{"not a number", env("WORLD_SIZE", "two", "RANK", "0", "MASTER_ADDR", "127.0.0.1", "MASTER_PORT", "29500"), `WORLD_SIZE="two" is not an integer`},
		{"bad port", env("WORLD_SIZE", "1", "RANK", "0", "MASTER_ADDR", "127.0.0.1", "MASTER_PORT", "70000"), "MASTER_PORT=70000 is not a TCP port"},
		{"port in use", env("WORLD_SIZE", "1", "RANK", "0", "MASTER_ADDR", "127.0.0.1", "MASTER_PORT", busyPort), "cannot serve the rendezvous on port " + busyPort},
	} {
		_, _, err := FromEnv(c.env)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	// torchrun's agent store: rank 0 joins as a client, so the port being
	// taken (by the agent) is no error; the keys get the attempt's prefix.
	agent := env("WORLD_SIZE", "2", "RANK", "0", "MASTER_ADDR", "127.0.0.1", "MASTER_PORT", busyPort,
		"TORCHELASTIC_USE_AGENT_STORE", "True", "TORCHELASTIC_RESTART_COUNT", "3")
	if cfg, _, err := FromEnv(agent); err != nil || !cfg.AgentStore || cfg.servesStore() || cfg.storePrefix() != "/worker/attempt_3" {
		t.Errorf("agent store: %+v, %v; want rank 0 as a client of /worker/attempt_3", cfg, err)
	}
	for _, v := range []string{"False", "true", ""} {
		own := env("WORLD_SIZE", "2", "RANK", "0", "MASTER_ADDR", "127.0.0.1", "MASTER_PORT", strconv.Itoa(freePort(t)), "TORCHELASTIC_USE_AGENT_STORE", v)
		if cfg, _, err := FromEnv(own); err != nil || cfg.AgentStore || !cfg.servesStore() || cfg.storePrefix() != "" {
			t.Errorf("TORCHELASTIC_USE_AGENT_STORE=%q: %+v, %v; want rank 0 to serve the store (torch.distributed wants exactly True)", v, cfg, err)
		}
	}
	bad := env("WORLD_SIZE", "2", "RANK", "1", "MASTER_ADDR", "127.0.0.1", "MASTER_PORT", "29500",
		"TORCHELASTIC_USE_AGENT_STORE", "True", "TORCHELASTIC_RESTART_COUNT", "x")
	if _, _, err := FromEnv(bad); err == nil || !strings.Contains(err.Error(), "TORCHELASTIC_RESTART_COUNT") {
		t.Errorf("bad restart count: %v", err)
	}
	// Without GLOO_SOCKET_IFNAME the interface is the one on MASTER_ADDR's
	// network: loopback for 127.0.0.1; none for an address no interface has.
	lo := env("WORLD_SIZE", "2", "RANK", "1", "MASTER_ADDR", "127.0.0.1", "MASTER_PORT", "29500")
	if cfg, _, err := FromEnv(lo); err != nil || cfg.Interface == "" || InterfaceFor("127.0.0.1") != cfg.Interface {
		t.Errorf("MASTER_ADDR=127.0.0.1: interface %q, %v; want loopback's", cfg.Interface, err)
	}
	if name := InterfaceFor("240.0.0.1"); name != "" { // reserved (class E): on no network
		t.Errorf("InterfaceFor(240.0.0.1) = %q, want none", name)
	}
	// A rank that waits for a master nobody starts gives up at the timeout.
	start := time.Now()
	_, err = Join(Config{Addr: "127.0.0.1", Port: freePort(t), Rank: 1, World: 2, Timeout: 2 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "rank 1 of 2: connect to the rendezvous") {
		t.Errorf("join without a master: %v", err)
	}
	if s := time.Since(start); s > 20*time.Second {
		t.Errorf("join without a master took %s with a 2 s timeout", s)
	}
}

// TestFrozenRankStopsTheOther freezes rank 1 of two with SIGSTOP mid-run
// (its process and sockets stay, it answers nothing): rank 0 must exit
// non-zero within the group's timeout plus the roll call's wait, naming
// rank 1.
func TestFrozenRankStopsTheOther(t *testing.T) {
	const timeout = 10 * time.Second // worker's cfg.Timeout
	port := freePort(t)
	cmds := make([]*exec.Cmd, 2)
	var stderr bytes.Buffer
	var pipe io.Reader
	for r := range cmds {
		cmds[r] = exec.Command(os.Args[0])
		cmds[r].Env = append(rankEnv(port, r, 2), "TORCHLAB_DIST_WORKER=loop")
		if r == 0 {
			cmds[r].Stderr = &stderr
		} else {
			var err error
			if pipe, err = cmds[r].StdoutPipe(); err != nil {
				t.Fatal(err)
			}
		}
		if err := cmds[r].Start(); err != nil {
			t.Fatal(err)
		}
	}
	victim := cmds[1]
	t.Cleanup(func() {
		_ = victim.Process.Kill()
		_ = victim.Wait()
	})
	sc := bufio.NewScanner(pipe)
	for sc.Scan() && sc.Text() != "step 5" {
	}
	if err := victim.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	frozen := time.Now()
	done := make(chan error, 1)
	go func() { done <- cmds[0].Wait() }()
	limit := timeout + RollCallWait + 2*time.Second
	select {
	case err := <-done:
		took := time.Since(frozen)
		msg := strings.TrimSpace(stderr.String())
		t.Logf("rank 0 stopped %.1fs after rank 1 froze: %s", took.Seconds(), msg)
		if err == nil {
			t.Fatal("rank 0 exited 0 after rank 1 froze")
		}
		if !strings.Contains(msg, "rank 1 did not answer a roll call") {
			t.Errorf("rank 0's error does not name the frozen rank 1: %q", msg)
		}
		if took > limit {
			t.Errorf("rank 0 took %.1fs to stop, want within %v (timeout %v + roll call %v)", took.Seconds(), limit, timeout, RollCallWait)
		}
	case <-time.After(3 * limit):
		_ = cmds[0].Process.Kill()
		t.Fatalf("rank 0 still running %v after rank 1 froze", 3*limit)
	}
}
