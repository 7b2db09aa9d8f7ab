package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"github.com/sugarme/gotch/ts"

	"torchlab/internal/metrics"
	"torchlab/internal/runrec"
	"torchlab/torch/checkpoint"
	"torchlab/torch/testnet"
	"torchlab/torch/torchrt"
)

// fakeTask records what the loop asks of it; its loss is a function of the
// step, like a deterministic training run's.
type fakeTask struct {
	calls  []string
	failAt int // Step fails at this step (0: never)
}

func (f *fakeTask) Step(step int) (StepReport, error) {
	if f.failAt > 0 && step == f.failAt {
		return StepReport{}, errors.New("boom")
	}
	f.calls = append(f.calls, fmt.Sprintf("step %d", step))
	return StepReport{Loss: 1 / float64(step+1)}, nil
}

func (f *fakeTask) Evaluate(done int) error {
	f.calls = append(f.calls, fmt.Sprintf("eval %d", done))
	return nil
}

func (f *fakeTask) Save(done int, _ float64) error {
	f.calls = append(f.calls, fmt.Sprintf("save %d", done))
	return nil
}

func TestRunCadence(t *testing.T) {
	tests := []struct {
		name string
		plan Plan
		want string
	}{
		{"evaluate every 2, save every 3, end", Plan{Total: 5, EvaluateAt: Every(2), SaveAt: Every(3)},
			"step 0,step 1,eval 2,step 2,save 3,step 3,eval 4,step 4,eval 5,save 5"},
		{"evaluate first (fresh run)", Plan{Total: 2, EvaluateFirst: true, EvaluateAt: Every(1), SaveAt: Every(1)},
			"eval 0,save 0,step 0,eval 1,save 1,step 1,eval 2,save 2"},
		{"resumed: no first evaluation", Plan{Start: 1, Total: 2, EvaluateFirst: true},
			"step 1,eval 2,save 2"},
		{"stop early evaluates and saves its place", Plan{Total: 5, Stop: 2, EvaluateAt: Every(4)},
			"step 0,step 1,eval 2,save 2"},
		{"eval and save at one step: evaluate first, save once", Plan{Total: 2, EvaluateAt: Every(2), SaveAt: Every(2)},
			"step 0,step 1,eval 2,save 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f fakeTask
			res, err := Run(context.Background(), tt.plan, &f, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(f.calls, ","); got != tt.want {
				t.Errorf("calls\n got %s\nwant %s", got, tt.want)
			}
			stop := tt.plan.Total
			if tt.plan.Stop > 0 {
				stop = tt.plan.Stop
			}
			if res.Done != stop || res.Interrupted || len(res.Losses) != stop-tt.plan.Start {
				t.Errorf("result %+v", res)
			}
		})
	}
}

// cancelAfter is a context that is cancelled once n steps have run.
func TestRunInterruptSaves(t *testing.T) {
	var f fakeTask
	ctx, cancel := context.WithCancel(context.Background())
	plan := Plan{Total: 10, EvaluateAt: Every(5), AfterStep: func(done int, _ float64) {
		if done == 3 {
			cancel()
		}
	}}
	res, err := Run(ctx, plan, &f, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted || res.Done != 3 || f.calls[len(f.calls)-1] != "save 3" {
		t.Errorf("result %+v, calls %v: want interrupted after step 3 with a checkpoint", res, f.calls)
	}
}

func TestRunStepErrorNamesStep(t *testing.T) {
	f := fakeTask{failAt: 2}
	_, err := Run(context.Background(), Plan{Total: 5}, &f, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "step 3") || !strings.Contains(err.Error(), "boom") {
		t.Errorf("err = %v, want it to name step 3 and the cause", err)
	}
}

func TestOpenMetricsDropsRowsAfterCheckpoint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metrics.csv")
	header := []string{"step", "split", "loss"}
	w, err := OpenMetrics(path, header, "step", false, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []int{0, 2, 4, 6} {
		if err := w.Write(s, "test", 1.5); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	// A crash cut the last row short.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("8,te")
	f.Close()
	// The checkpoint was at step 4: rows 6 and 8 are redone by the resumed run.
	w, err = OpenMetrics(path, header, "step", true, 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(6, "test", 2.5); err != nil {
		t.Fatal(err)
	}
	w.Close()
	tab, err := metrics.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	steps, err := tab.Column("step")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(steps, []string{"0", "2", "4", "6"}) {
		t.Errorf("steps %v, want each of 0 2 4 6 once", steps)
	}
}

type fakeConfig struct {
	Out    string  `json:"out"`
	LR     float64 `json:"lr"`
	Epochs int     `json:"epochs"`
	Resume bool    `json:"resume"`
}

func fakeFlags(c *fakeConfig) *pflag.FlagSet {
	fs := pflag.NewFlagSet("fake", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.Out, "out", "out", "")
	fs.Float64Var(&c.LR, "lr", 0.1, "")
	fs.IntVar(&c.Epochs, "epochs", 5, "")
	fs.BoolVar(&c.Resume, "resume", false, "")
	return fs
}

func TestResumeConfig(t *testing.T) {
	saved := []byte(`{"out":"old","lr":0.01,"epochs":3,"resume":false}`)
	tests := []struct {
		args    []string
		want    fakeConfig
		wantErr string
	}{
		{[]string{"--resume"}, fakeConfig{Out: "old", LR: 0.01, Epochs: 3, Resume: true}, ""},
		{[]string{"--resume", "--epochs", "9", "--out", "new"}, fakeConfig{Out: "new", LR: 0.01, Epochs: 9, Resume: true}, ""},
		{[]string{"--resume", "--lr", "0.01"}, fakeConfig{Out: "old", LR: 0.01, Epochs: 3, Resume: true}, ""}, // same value: fine
		{[]string{"--resume", "--lr", "0.5"}, fakeConfig{}, "--lr 0.5 (checkpoint: 0.01)"},
	}
	for _, tt := range tests {
		var typedCfg, into fakeConfig
		typed := fakeFlags(&typedCfg)
		if err := typed.Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		err := ResumeConfig(typed, fakeFlags(&into), saved, &into, []string{"epochs"})
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "--epochs") {
				t.Errorf("%v: err = %v, want %q and the list of flags that may change", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		if into != tt.want {
			t.Errorf("%v: got %+v, want %+v", tt.args, into, tt.want)
		}
	}
}

func TestEpochOrder(t *testing.T) {
	a, b, c := EpochOrder(1, 0, 100), EpochOrder(1, 0, 100), EpochOrder(1, 1, 100)
	if !slices.Equal(a, b) || slices.Equal(a, c) {
		t.Error("the order must be a function of seed and epoch, and differ between epochs")
	}
	s := slices.Clone(a)
	slices.Sort(s)
	for i, v := range s {
		if v != i {
			t.Fatal("not a permutation")
		}
	}
}

// TestBestKeepsBestAcrossResume offers evaluations, reopens the selection
// as a resumed run would, and checks that only strict improvements save.
func TestBestKeepsBestAcrossResume(t *testing.T) {
	out := t.TempDir()
	torchrt.Lock()
	_, model, err := testnet.Seeded(1)
	if err != nil {
		t.Fatal(err)
	}
	var saves []int
	offer := func(b *Best, step int, val float64) {
		t.Helper()
		_, err := b.Offer(step, map[string]float64{"val_accuracy": val, "test_accuracy": val - 0.1}, func(dir string) error {
			saves = append(saves, step)
			return checkpoint.Save(dir, checkpoint.Meta{Step: int64(step)}, nil, model, nil)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	b, err := OpenBest(out, "val_accuracy", true, false)
	if err != nil {
		t.Fatal(err)
	}
	offer(b, 1, 0.5)
	offer(b, 2, 0.7)
	offer(b, 3, 0.7) // a tie keeps step 2
	offer(b, 4, math.NaN())
	r, err := OpenBest(out, "val_accuracy", true, true)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Found || r.Step != 2 || r.Value != 0.7 || r.At["test_accuracy"] != 0.7-0.1 {
		t.Fatalf("resumed best %+v, want step 2 at 0.7", r)
	}
	offer(r, 5, 0.6)
	offer(r, 6, 0.8)
	if want := []int{1, 2, 6}; !slices.Equal(saves, want) {
		t.Errorf("saved at steps %v, want %v", saves, want)
	}
	res := map[string]float64{}
	r.Results(res)
	if res["best_step"] != 6 || res["best_val_accuracy"] != 0.8 {
		t.Errorf("results %v", res)
	}
	if _, err := OpenBest(out, "val_loss", false, true); err == nil {
		t.Error("resuming with another selection metric: no error")
	}
	if f, err := OpenBest(out, "val_accuracy", true, false); err != nil || f.Found {
		t.Errorf("a fresh run keeps an old best: %+v, %v", f, err)
	}
}

func TestSummaryRecordsMachineAndCommit(t *testing.T) {
	dir := t.TempDir()
	if err := WriteSummary(dir, runrec.Summary{Command: "x", Seed: 3, Split: &runrec.Split{Train: 9, Val: 1, Test: 2}}); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Commit  string         `json:"git_commit"`
		Split   runrec.Split   `json:"split"`
		Machine runrec.Machine `json:"machine"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if got.Commit == "" || got.Machine.Cores <= 0 || !strings.Contains(got.Machine.Libtorch, ".") || got.Machine.BLAS == "" || !strings.HasPrefix(got.Machine.Allocator, "jemalloc") || !strings.Contains(got.Machine.CPU, "OpenBLAS") || got.Split.Val != 1 {
		t.Errorf("summary.json: %s", raw)
	}
}

// TestResumeOldCheckpointKeepsItsData resumes checkpoints written before
// --val-fraction and --split-seed existed: the run keeps training on all of
// its data (the legacy value 0) and splitting by its --seed (split_seed
// 0), while a checkpoint that has the keys keeps its own values.
func TestResumeOldCheckpointKeepsItsData(t *testing.T) {
	type config struct {
		Seed        int64   `json:"seed"`
		SplitSeed   int64   `json:"split_seed,omitempty"`
		ValFraction float64 `json:"val_fraction"`
	}
	flags := func(c *config) (*pflag.FlagSet, error) {
		fs := pflag.NewFlagSet("train", pflag.ContinueOnError)
		fs.Int64Var(&c.Seed, "seed", 1, "")
		fs.Int64Var(&c.SplitSeed, "split-seed", 1, "")
		fs.Float64Var(&c.ValFraction, "val-fraction", 0.05, "")
		return fs, nil
	}
	for _, tt := range []struct {
		saved any
		want  config
	}{
		{map[string]any{"seed": 2}, config{Seed: 2, SplitSeed: 0, ValFraction: 0}},
		{map[string]any{"seed": 2, "val_fraction": 0.1, "split_seed": 3}, config{Seed: 2, SplitSeed: 3, ValFraction: 0.1}},
	} {
		dir := t.TempDir()
		if err := checkpoint.Save(dir, checkpoint.Meta{Step: 3}, tt.saved, map[string]*ts.Tensor{}, nil); err != nil {
			t.Fatal(err)
		}
		typed, _ := flags(&config{})
		if err := typed.Parse(nil); err != nil {
			t.Fatal(err)
		}
		got := config{SplitSeed: 1, ValFraction: 0.05}
		if err := Resume(typed, dir, &got, flags, nil); err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("saved %v: resumed with %+v, want %+v", tt.saved, got, tt.want)
		}
	}
}

// TestRunStopIsTheBarsTotal: a run capped by Stop shows its progress
// against the cap, so that its percentage and ETA are the cap's.
func TestRunStopIsTheBarsTotal(t *testing.T) {
	var f fakeTask
	var w strings.Builder
	if _, err := Run(context.Background(), Plan{Total: 1000, Stop: 4}, &f, &w); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(w.String(), "100% [") || !strings.Contains(w.String(), "4/4") || strings.Contains(w.String(), "/1000") {
		t.Errorf("progress %q, want it to end at 100%% of 4/4", w.String())
	}
}
