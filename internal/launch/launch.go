// Package launch is torchlab-run: it starts the ranks of a data-parallel
// run on this machine with torchrun's environment, shares the cores out
// among them, forwards Ctrl-C and reports which rank failed.
package launch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"torchlab/internal/cli"
	"torchlab/torch/dist"
)

// Config is one machine's part of a run.
type Config struct {
	NProc      int    // ranks on this machine
	NNodes     int    // machines
	NodeRank   int    // this machine, 0..NNodes-1
	MasterAddr string // rank 0's host
	MasterPort int    // 0: a free port (one machine only)
	Threads    int    // libtorch and OpenBLAS threads per rank; 0: cores/NProc
	// Grace is how long the other ranks get to stop on their own after one
	// fails (they fail at their next collective, within their
	// --dist-timeout) before they are sent SIGTERM.
	Grace   time.Duration
	Command []string
}

// Main parses torchlab-run's command line and runs it.
func Main(args []string) error {
	cfg, err := parse(args)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, cfg, os.Stdout, os.Stderr)
}

// torchrunSpelling maps torchrun's flag names (--nproc_per_node,
// --master_addr, --node_rank, ...) to torchlab-run's.
func torchrunSpelling(_ *pflag.FlagSet, name string) pflag.NormalizedName {
	name = strings.ReplaceAll(name, "_", "-")
	if name == "nproc-per-node" {
		name = "nproc"
	}
	return pflag.NormalizedName(name)
}

// parse reads torchlab-run's flags and the command after them.
func parse(args []string) (Config, error) {
	fs := pflag.NewFlagSet("torchlab-run", pflag.ContinueOnError)
	fs.SetNormalizeFunc(torchrunSpelling)
	cfg := Config{}
	fs.IntVar(&cfg.NProc, "nproc", 2, "ranks to start on this machine")
	fs.IntVar(&cfg.NNodes, "nnodes", 1, "machines in the run (each runs torchlab-run with its --node-rank)")
	fs.IntVar(&cfg.NodeRank, "node-rank", 0, "this machine's number, 0..nnodes-1 (machine 0 hosts rank 0)")
	fs.StringVar(&cfg.MasterAddr, "master-addr", "127.0.0.1", "address of machine 0, where rank 0 serves the rendezvous")
	fs.IntVar(&cfg.MasterPort, "master-port", 0, "rendezvous port (0: a free port; several machines need one fixed port)")
	fs.IntVar(&cfg.Threads, "threads", 0, "libtorch and OpenBLAS threads per rank (0: this machine's cores / nproc); a --threads in the command wins")
	fs.DurationVar(&cfg.Grace, "grace", dist.Timeout+30*time.Second, "after a rank fails, how long the others get to stop on their own before SIGTERM")
	fs.Usage = func() {
		fmt.Fprintf(os.Stderr, "Usage: torchlab-run [flags] -- COMMAND [ARGS...]\n\n"+
			"Starts --nproc ranks of a training command (vgg-mnist, lstm-tweets, vae-galaxy train)\n"+
			"with MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE and LOCAL_RANK set, as torchrun does.\n"+
			"torchrun's spellings work too: --nproc_per_node, --nnodes, --node_rank, --master_addr, --master_port.\n\n")
		fs.PrintDefaults()
	}
	fs.SetInterspersed(false)
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	cfg.Command = fs.Args()
	return cfg, nil
}

func (c *Config) check() error {
	switch {
	case len(c.Command) == 0:
		return errors.New("no command: torchlab-run [flags] -- COMMAND [ARGS...]")
	case c.NProc < 1 || c.NNodes < 1:
		return fmt.Errorf("--nproc %d, --nnodes %d: both must be at least 1", c.NProc, c.NNodes)
	case c.NodeRank < 0 || c.NodeRank >= c.NNodes:
		return fmt.Errorf("--node-rank %d is outside 0..%d (--nnodes %d)", c.NodeRank, c.NNodes-1, c.NNodes)
	case c.NNodes > 1 && c.MasterPort == 0:
		return errors.New("several machines need a fixed --master-port (and --master-addr, machine 0's address)")
	case c.Threads < 0:
		return fmt.Errorf("--threads %d: want >= 0", c.Threads)
	}
	if _, err := exec.LookPath(c.Command[0]); err != nil {
		return fmt.Errorf("command %q: %w", c.Command[0], err)
	}
	return nil
}

// rank is one started process.
type rank struct {
	id     int
	cmd    *exec.Cmd
	err    error // set before the rank is sent on exited
	exited bool  // set by Run's loop when it receives the rank
}

// Run starts the ranks and waits for all of them. ctx's cancellation is
// forwarded to each rank as SIGINT.
func Run(ctx context.Context, c Config, stdout, stderr io.Writer) error {
	if err := c.check(); err != nil {
		return err
	}
	if c.MasterPort == 0 {
		port, err := FreePort()
		if err != nil {
			return err
		}
		c.MasterPort = port
	}
	threads := c.Threads
	if threads == 0 {
		threads = max(1, runtime.NumCPU()/c.NProc)
	}
	world := c.NNodes * c.NProc
	args := c.Command[1:]
	if !hasFlag(args, "threads") {
		args = append(append([]string{}, args...), "--threads="+strconv.Itoa(threads))
	}
	fmt.Fprintf(stderr, "torchlab-run: %d ranks (%d here, %d threads each), rendezvous %s:%d\n",
		world, c.NProc, threads, c.MasterAddr, c.MasterPort)

	stdout, stderr = shared(stdout), shared(stderr)
	ranks := make([]*rank, c.NProc)
	exited := make(chan *rank, c.NProc)
	for local := range ranks {
		r := &rank{id: c.NodeRank*c.NProc + local}
		r.cmd = exec.Command(c.Command[0], args...)
		r.cmd.Env = append(os.Environ(),
			"MASTER_ADDR="+c.MasterAddr, "MASTER_PORT="+strconv.Itoa(c.MasterPort),
			"RANK="+strconv.Itoa(r.id), "WORLD_SIZE="+strconv.Itoa(world), "LOCAL_RANK="+strconv.Itoa(local),
			"OMP_NUM_THREADS="+strconv.Itoa(threads), "OPENBLAS_NUM_THREADS="+strconv.Itoa(threads))
		// Its own process group: a terminal's Ctrl-C reaches torchlab-run
		// alone, which forwards exactly one SIGINT to each rank.
		r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if r.id == 0 {
			r.cmd.Stdout, r.cmd.Stderr = stdout, stderr // progress bar intact
		} else {
			r.cmd.Stdout = prefixed(stdout, r.id)
			r.cmd.Stderr = prefixed(stderr, r.id)
		}
		if err := r.cmd.Start(); err != nil {
			for _, started := range ranks[:local] {
				_ = started.cmd.Process.Kill()
			}
			return fmt.Errorf("start rank %d: %w", r.id, err)
		}
		ranks[local] = r
		go func() {
			r.err = r.cmd.Wait()
			if w, ok := r.cmd.Stdout.(*lineWriter); ok {
				w.flush()
				r.cmd.Stderr.(*lineWriter).flush()
			}
			exited <- r
		}()
	}

	var failed *rank
	var deadline <-chan time.Time
	interrupted := false
	for left := c.NProc; left > 0; {
		select {
		case r := <-exited:
			left--
			r.exited = true
			if r.err != nil && failed == nil && !(interrupted && exitCode(r.err) == 130) {
				failed = r
				fmt.Fprintf(stderr, "torchlab-run: rank %d (pid %d) %s; waiting up to %s for the others to stop\n",
					r.id, r.cmd.Process.Pid, describe(r.err), c.Grace)
				deadline = time.After(c.Grace)
			}
		case <-ctx.Done():
			if !interrupted {
				interrupted = true
				fmt.Fprintln(stderr, "torchlab-run: interrupted; telling every rank to stop (rank 0 saves a checkpoint)")
				signalAll(ranks, os.Interrupt)
			}
		case <-deadline:
			fmt.Fprintln(stderr, "torchlab-run: ranks still running; sending SIGTERM")
			signalAll(ranks, syscall.SIGTERM)
			deadline = nil
		}
	}
	if failed != nil {
		return fmt.Errorf("rank %d of %d failed: %s", failed.id, world, describe(failed.err))
	}
	if interrupted {
		return cli.ErrInterrupted
	}
	return nil
}

func signalAll(ranks []*rank, sig os.Signal) {
	for _, r := range ranks {
		if !r.exited {
			_ = r.cmd.Process.Signal(sig)
		}
	}
}

// describe says how a rank ended.
func describe(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "was killed by signal " + ws.Signal().String()
		}
		return fmt.Sprintf("exited with status %d", ee.ExitCode())
	}
	return err.Error()
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// hasFlag reports whether args set --name (as --name V or --name=V).
func hasFlag(args []string, name string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "--"+name || strings.HasPrefix(a, "--"+name+"=") {
			return true
		}
	}
	return false
}

// FreePort is a TCP port on loopback that nothing listens on now.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port for the rendezvous: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// shared makes w safe for the ranks' output copiers and Run to write to at
// once. A terminal or file (*os.File) is passed on as it is, so that rank
// 0's progress bar still sees a terminal; anything else is written under a
// lock. (exec copies a rank's output with io.Copy, which a bytes.Buffer
// would serve through ReadFrom, dropping whatever others wrote meanwhile.)
func shared(w io.Writer) io.Writer {
	if f, ok := w.(*os.File); ok {
		return f
	}
	return &lockedWriter{w: w}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// lineWriter prefixes each complete line with "[rank R] " and writes it
// with one Write, so that lines of different ranks do not mix.
type lineWriter struct {
	w      io.Writer
	prefix string
	buf    []byte
}

func prefixed(w io.Writer, id int) *lineWriter {
	return &lineWriter{w: w, prefix: fmt.Sprintf("[rank %d] ", id)}
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		l.emit(l.buf[:i+1])
		l.buf = l.buf[i+1:]
	}
}

func (l *lineWriter) emit(line []byte) {
	_, _ = l.w.Write(append([]byte(l.prefix), line...))
}

func (l *lineWriter) flush() {
	if len(l.buf) > 0 {
		l.emit(append(l.buf, '\n'))
		l.buf = nil
	}
}
