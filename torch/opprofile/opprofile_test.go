package opprofile

import (
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// A profiled matrix product and convolution backward must show up with the
// FLOPs their shapes imply and a positive time; a scope must relabel its ops.
func TestProfileCountsOpsAndFLOPs(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	a := ts.MustOnes([]int64{64, 32}, gotch.Float, gotch.CPU)
	b := ts.MustOnes([]int64{32, 16}, gotch.Float, gotch.CPU)
	x := ts.MustOnes([]int64{2, 3, 8, 8}, gotch.Float, gotch.CPU).MustSetRequiresGrad(true, false)
	w := ts.MustOnes([]int64{4, 3, 3, 3}, gotch.Float, gotch.CPU).MustSetRequiresGrad(true, false)
	if err := Start(); err != nil {
		t.Fatal(err)
	}
	if err := Start(); err == nil {
		t.Error("a second Start succeeded")
	}
	mm, err := a.Mm(b, false)
	if err != nil {
		t.Fatal(err)
	}
	end, err := Scope("optimizer step")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mm.Add(mm, false); err != nil {
		t.Fatal(err)
	}
	if err := end(); err != nil {
		t.Fatal(err)
	}
	y, err := ts.Conv2d(x, w, ts.NewTensor(), []int64{1}, []int64{1}, []int64{1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	loss, err := y.Sum(gotch.Float, false)
	if err != nil {
		t.Fatal(err)
	}
	loss.MustBackward()
	p, err := Stop()
	if err != nil {
		t.Fatal(err)
	}
	find := func(phase, name string) Op {
		for _, op := range p.Ops {
			if op.Phase == phase && op.Name == name {
				return op
			}
		}
		t.Fatalf("no %s op %s in %d rows", phase, name, len(p.Ops))
		return Op{}
	}
	mmOp := find("forward", "aten::mm")
	if want := 2.0 * 64 * 32 * 16; mmOp.FLOPs != want || mmOp.Calls != 1 {
		t.Errorf("aten::mm: %d calls, %g FLOPs, want 1 call, %g", mmOp.Calls, mmOp.FLOPs, want)
	}
	if !(mmOp.Self > 0) || mmOp.Self > mmOp.Total {
		t.Errorf("aten::mm: self %g µs, total %g µs", mmOp.Self, mmOp.Total)
	}
	if add := find("optimizer step", "aten::add"); add.Kind != "optimizer step" {
		t.Errorf("add inside the scope is kind %q", add.Kind)
	}
	// 2 images x 4 channels x 8x8 outputs, each 3x3x3 multiply-adds, twice
	// (input and weight gradients), 2 FLOPs each.
	cb := find("backward", "aten::convolution_backward")
	if want := 2.0 * 2 * (2 * 4 * 8 * 8) * (3 * 3 * 3); cb.FLOPs != want {
		t.Errorf("convolution_backward: %g FLOPs, want %g", cb.FLOPs, want)
	}
	var conv KindRow
	for _, k := range p.ByKind() {
		if k.Kind == "convolution" {
			conv = k
		}
	}
	if want := 1.5 * cb.FLOPs; math.Abs(conv.FLOPs-want) > 1e-9*want {
		t.Errorf("convolution kind: %g FLOPs, want forward + backward %g", conv.FLOPs, want)
	}
	var md strings.Builder
	if err := WriteMarkdown(&md, p, 1, 0.01); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| convolution |", "`aten::convolution_backward`", "inside libtorch ops"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, md.String())
		}
	}
	if _, err := Stop(); err == nil {
		t.Error("Stop without Start succeeded")
	}
}

func TestParseRejectsShortRows(t *testing.T) {
	if _, err := parse("forward\taten::mm\t1\t2\n"); err == nil || !strings.Contains(err.Error(), "row 1") {
		t.Errorf("parse of a short row: %v", err)
	}
}
