package train

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
)

func TestGuardDecisions(t *testing.T) {
	steady := make([]float64, 30)
	for i := range steady {
		steady[i] = 100 + float64(i%3) // median 101
	}
	tests := []struct {
		name   string
		cfg    GuardConfig
		losses []float64
		// want: the step (0-based) that diverges, -1 for none
		want int
		stop bool
	}{
		{"steady run passes", GuardConfig{OnDivergenceStop, 100}, steady, -1, false},
		{"NaN stops at once", GuardConfig{OnDivergenceStop, 100}, []float64{5, math.NaN()}, 1, true},
		{"+Inf skips", GuardConfig{OnDivergenceSkip, 100}, []float64{5, 6, math.Inf(1)}, 2, false},
		{"a spike of 2e4x the median stops", GuardConfig{OnDivergenceStop, 100}, append(steady[:25:25], 2.2e6), 25, true},
		{"a spike of 99x passes", GuardConfig{OnDivergenceStop, 100}, append(steady[:25:25], 99*101), -1, false},
		{"factor 0: only non-finite losses", GuardConfig{OnDivergenceStop, 0}, append(steady[:25:25], 1e30), -1, false},
		{"too few steps for a median: a spike passes", GuardConfig{OnDivergenceStop, 100}, []float64{1, 2, 1e9}, -1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := NewGuard(tt.cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := -1
			for i, l := range tt.losses {
				ok, err := g.Accept(i, l)
				if err != nil {
					if !tt.stop || !errors.Is(err, ErrDiverged) {
						t.Fatalf("step %d: unexpected error %v", i, err)
					}
					var d *DivergedError
					if !errors.As(err, &d) || d.Step != i+1 || !strings.Contains(err.Error(), fmt.Sprintf("step %d", i+1)) {
						t.Errorf("error %q does not name step %d", err, i+1)
					}
				}
				if !ok && got < 0 {
					got = i
				}
			}
			if got != tt.want {
				t.Errorf("diverged at step %d, want %d", got, tt.want)
			}
			if (got >= 0) != (len(g.Events()) > 0) {
				t.Errorf("events %v for divergence at %d", g.Events(), got)
			}
		})
	}
}

func TestGuardConfigCheck(t *testing.T) {
	for _, c := range []GuardConfig{{"ignore", 100}, {OnDivergenceStop, 0.5}, {OnDivergenceStop, math.NaN()}} {
		if err := c.Check(); err == nil {
			t.Errorf("%+v: want an error", c)
		}
	}
	for _, c := range []GuardConfig{{OnDivergenceSkip, 0}, {"", 0}} {
		if err := c.Check(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
}

// fakeRanks is a two-rank group seen from one rank: the other rank's
// answer to AnyTrue is other.
type fakeRanks struct{ other bool }

func (f fakeRanks) Rank() int                    { return 1 }
func (f fakeRanks) AnyTrue(v bool) (bool, error) { return v || f.other, nil }
func (f fakeRanks) Sync() error                  { return nil }

// TestGuardRanksAgree: a rank whose own loss is fine still skips when the
// other rank's diverged, so the replicas take the same updates.
func TestGuardRanksAgree(t *testing.T) {
	g, err := NewGuard(GuardConfig{OnDivergenceSkip, 100}, fakeRanks{other: true})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := g.Accept(0, 1.5); ok || err != nil {
		t.Errorf("other rank diverged: got ok=%v err=%v, want a skip", ok, err)
	}
}

// guardedTask is a Task that asks a Guard before "updating", as the
// commands do; its loss at step injectAt is NaN.
type guardedTask struct {
	fakeTask
	guard    *Guard
	injectAt int
	updates  int
}

func (g *guardedTask) Step(step int) (StepReport, error) {
	loss := 1.0 + 0.01*float64(step%5)
	if step == g.injectAt {
		loss = math.NaN()
	}
	ok, err := g.guard.Accept(step, loss)
	if err != nil {
		return StepReport{}, err
	}
	g.calls = append(g.calls, fmt.Sprintf("step %d", step))
	if !ok {
		return StepReport{Loss: loss, Skipped: true}, nil
	}
	g.updates++
	return StepReport{Loss: loss}, nil
}

// TestRunDivergence injects a NaN loss at step 7 of 10 (checkpoints every
// 5 steps). Under stop, the run ends with an error naming the step, the
// log says so, and nothing is saved after the step-5 checkpoint. Under
// skip, the run goes on, drops that update, logs and counts it.
func TestRunDivergence(t *testing.T) {
	for _, policy := range []string{OnDivergenceStop, OnDivergenceSkip} {
		t.Run(policy, func(t *testing.T) {
			g, err := NewGuard(GuardConfig{policy, 100}, nil)
			if err != nil {
				t.Fatal(err)
			}
			task := &guardedTask{guard: g, injectAt: 7}
			var log bytes.Buffer
			res, err := Run(context.Background(), Plan{Total: 10, SaveAt: Every(5), Guard: g}, task, &log)
			saves := strings.Count(strings.Join(task.calls, ","), "save")
			if policy == OnDivergenceStop {
				if !errors.Is(err, ErrDiverged) || !strings.Contains(err.Error(), "step 8") {
					t.Fatalf("stop: err %v, want a divergence at step 8 (1-based)", err)
				}
				if res.Done != 7 || saves != 1 || !strings.Contains(strings.Join(task.calls, ","), "save 5") {
					t.Errorf("stop: done %d, calls %v: want 7 steps done and only the step-5 checkpoint", res.Done, task.calls)
				}
				if !strings.Contains(log.String(), "training diverged at step 8: loss NaN") {
					t.Errorf("stop: log %q does not say so", log.String())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Done != 10 || res.Skipped != 1 || task.updates != 9 || saves != 2 {
				t.Errorf("skip: done %d, skipped %d, updates %d, saves %d; want 10, 1, 9, 2", res.Done, res.Skipped, task.updates, saves)
			}
			if !strings.Contains(log.String(), "step 8 diverged (loss NaN): skipped (--on-divergence skip)") {
				t.Errorf("skip: log %q does not say so", log.String())
			}
			res2 := map[string]float64{}
			CommonResults(res2, res)
			if res2["diverged_steps_skipped"] != 1 {
				t.Errorf("summary results %v: want diverged_steps_skipped 1", res2)
			}
		})
	}
}

// TestRunStopEarly: StopEarly's reason ends the run after an evaluation,
// with a checkpoint, and is reported.
func TestRunStopEarly(t *testing.T) {
	var f fakeTask
	var log bytes.Buffer
	p := Plan{Total: 10, EvaluateAt: Every(2), StopEarly: func(done int) string {
		if done >= 4 {
			return "no better for 2 evaluations"
		}
		return ""
	}}
	res, err := Run(context.Background(), p, &f, &log)
	if err != nil {
		t.Fatal(err)
	}
	if res.Done != 4 || res.StoppedEarly == "" || strings.Join(f.calls, ",") != "step 0,step 1,eval 2,step 2,step 3,eval 4,save 4" {
		t.Errorf("done %d, reason %q, calls %v", res.Done, res.StoppedEarly, f.calls)
	}
	if !strings.Contains(log.String(), "stopping early after step 4: no better for 2 evaluations") {
		t.Errorf("log %q", log.String())
	}
}
