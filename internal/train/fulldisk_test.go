package train

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/sugarme/gotch/ts"

	"torchlab/internal/metrics"
	"torchlab/torch/checkpoint"
	"torchlab/torch/durable"
	"torchlab/torch/optim"
	"torchlab/torch/testnet"
	"torchlab/torch/torchrt"
)

// netTask trains testnet, writes a metrics row (step, loss) after every
// step and checkpoints into out/checkpoint.
type netTask struct {
	out   string
	net   *testnet.Net
	model map[string]*ts.Tensor
	opt   *optim.Optimizer
	x, y  *ts.Tensor
	rows  *metrics.Writer
	loss  float64
}

func newNetTask(t *testing.T, out string, resume bool) (*netTask, int) {
	t.Helper()
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	torchrt.Lock()
	torchrt.ManualSeed(1)
	n, model, err := testnet.NewNamed()
	if err != nil {
		t.Fatal(err)
	}
	opt, err := optim.New(optim.Config{Name: "adam", LR: 1e-2}, model)
	if err != nil {
		t.Fatal(err)
	}
	x, y, err := testnet.Batch()
	if err != nil {
		t.Fatal(err)
	}
	task := &netTask{out: out, net: n, model: model, opt: opt, x: x, y: y}
	start := 0
	if resume {
		meta, err := checkpoint.Load(filepath.Join(out, "checkpoint"), model, opt)
		if err != nil {
			t.Fatalf("resume: %v", err)
		}
		start = int(meta.Step)
	}
	if task.rows, err = OpenMetrics(filepath.Join(out, "metrics.csv"), []string{"step", "loss"}, "step", resume, start); err != nil {
		t.Fatal(err)
	}
	return task, start
}

func (n *netTask) Step(int) (StepReport, error) {
	loss, err := n.net.Step(n.opt, n.x, n.y)
	n.loss = loss
	return StepReport{Loss: loss}, err
}

func (n *netTask) Evaluate(done int) error { return n.rows.Write(done, n.loss) }

func (n *netTask) Save(done int, seconds float64) error {
	return checkpoint.Save(filepath.Join(n.out, "checkpoint"), checkpoint.Meta{Step: int64(done), Seconds: seconds}, nil, n.model, n.opt)
}

// run trains to total steps, evaluating every step and saving every 3;
// afterStep runs after each step.
func (n *netTask) run(start, total int, afterStep func(done int)) error {
	defer n.rows.Close()
	plan := Plan{Start: start, Total: total, EvaluateAt: Every(1), SaveAt: Every(3),
		AfterStep: func(done int, _ float64) { afterStep(done) }}
	_, err := Run(context.Background(), plan, n, io.Discard)
	return err
}

// checkFullDisk runs a training that fill makes run out of space after
// step 7 (between the checkpoints of steps 6 and 9), then frees the space
// and resumes. The run must stop with ENOSPC naming a path in out, leave
// no temporary file, keep checkpoint 6, and the resumed run's metrics.csv
// must equal an uninterrupted run's, row for row and bit for bit.
func checkFullDisk(t *testing.T, out string, fill func(), free func()) {
	ref := filepath.Join(t.TempDir(), "ref")
	task, _ := newNetTask(t, ref, false)
	if err := task.run(0, 12, func(int) {}); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(ref, "metrics.csv"))
	if err != nil {
		t.Fatal(err)
	}

	task, _ = newNetTask(t, out, false)
	err = task.run(0, 12, func(done int) {
		if done == 7 {
			fill()
		}
	})
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "no space left on device") || !strings.Contains(err.Error(), out) {
		t.Fatalf("run into a full disk: err = %v, want ENOSPC naming a path in %s", err, out)
	}
	t.Logf("the run stopped with: %v", err)
	free()
	filepath.WalkDir(out, func(path string, d fs.DirEntry, err error) error {
		if err == nil && (strings.Contains(d.Name(), ".tmp") || strings.HasSuffix(d.Name(), ".new")) {
			t.Errorf("%s left behind", path)
		}
		return nil
	})
	meta, err := checkpoint.ReadMeta(filepath.Join(out, "checkpoint"))
	if err != nil || meta.Step != 6 {
		t.Fatalf("the last complete checkpoint: %+v, %v; want step 6", meta, err)
	}

	task, start := newNetTask(t, out, true)
	if err := task.run(start, 12, func(int) {}); err != nil {
		t.Fatalf("resumed run: %v", err)
	}
	got, err := os.ReadFile(filepath.Join(out, "metrics.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("metrics.csv after the full disk and resume:\n%s\nuninterrupted:\n%s", got, want)
	}
}

// TestFullDiskThroughQuota fills the disk through durable's quota: a few
// hundred bytes after step 7, so that the rows of steps 7 and 8 fit and the
// checkpoint of step 9 does not.
func TestFullDiskThroughQuota(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	var lift func()
	checkFullDisk(t, out, func() { lift = durable.SetQuota(300) }, func() { lift() })
}

// TestFullDiskTmpfs runs the same training on a real full filesystem: a
// tmpfs that a ballast file fills after step 7. It needs root (mount(2)).
func TestFullDiskTmpfs(t *testing.T) {
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=2m"); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v): the quota test covers ENOSPC", err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, 0) })
	out := filepath.Join(mnt, "run")
	ballast := filepath.Join(mnt, "ballast")
	fill := func() {
		f, err := os.Create(ballast)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		block := make([]byte, 4096)
		for {
			if _, err := f.Write(block); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatal(err)
				}
				return
			}
		}
	}
	checkFullDisk(t, out, fill, func() { os.Remove(ballast) })
}
