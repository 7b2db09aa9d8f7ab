package train

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// mmTask's every step is one libtorch matrix product, so the op profile
// of its steps has exactly one aten::mm per step.
type mmTask struct{ a *ts.Tensor }

func (m mmTask) Step(int) (StepReport, error) {
	y, err := m.a.Mm(m.a, false)
	if err != nil {
		return StepReport{}, err
	}
	y.MustDrop()
	return StepReport{Loss: 1}, nil
}
func (mmTask) Evaluate(int) error      { return nil }
func (mmTask) Save(int, float64) error { return nil }

func TestProfileWritesTheProfiledSteps(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	task := mmTask{a: ts.MustOnes([]int64{32, 32}, gotch.Float, gotch.CPU)}
	for _, tt := range []struct {
		name         string
		start, total int
		want         string // the profile's first line
		plain        bool   // whether 3 unprofiled steps followed
	}{
		{"all the steps asked for", 0, profileWarmup + 10, "3 steps", true},
		{"a session that ends first writes what it profiled", 4, 4 + profileWarmup + 2, "2 steps", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			plan := Plan{Start: tt.start, Total: tt.total, Profile: NewProfiler(ProfileConfig{ProfileSteps: 3}, dir)}
			if _, err := Run(context.Background(), plan, task, io.Discard); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(dir, "op_profile.md"))
			if err != nil {
				t.Fatal(err)
			}
			md := string(b)
			if !strings.Contains(md, "\n"+tt.want+", ") {
				t.Errorf("profile does not say %q:\n%s", tt.want, md)
			}
			if tt.plain && !strings.Contains(md, "The 3 steps after them, without the profiler: ") {
				t.Errorf("profile lacks the unprofiled steps' time:\n%s", md)
			}
			if !strings.Contains(md, "| forward | `aten::mm` | 1.0 |") {
				t.Errorf("profile lacks one aten::mm per step:\n%s", md)
			}
		})
	}
	if NewProfiler(ProfileConfig{}, t.TempDir()) != nil {
		t.Error("--profile-steps 0 made a profiler")
	}
}
