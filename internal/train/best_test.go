package train

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"torchlab/torch/checkpoint"
	"torchlab/torch/testnet"
	"torchlab/torch/torchrt"
)

// TestBestSurvivesACrashInOffer keeps step 2 as the best, then offers a
// better step 3 and copies the run folder as a crash would leave it at
// each stage of that Offer: before the checkpoint's swap, with the current
// best moved aside, after the swap but before best.json, and done; and
// done but with the new checkpoint.npz truncated (power loss). A resumed
// run must find a best whose best.json names the very step of the
// checkpoint checkpoint.Load opens, step 3 only once both were written,
// and must take step 3 again when it is offered.
func TestBestSurvivesACrashInOffer(t *testing.T) {
	torchrt.Lock()
	_, model, err := testnet.Seeded(1)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	save := func(step int) func(string) error {
		return func(dir string) error {
			return checkpoint.Save(dir, checkpoint.Meta{Step: int64(step)}, nil, model, nil)
		}
	}
	at := func(v float64) map[string]float64 { return map[string]float64{"val_accuracy": v} }
	b, err := OpenBest(out, "val_accuracy", true, false)
	if err != nil {
		t.Fatal(err)
	}
	copyTree := func(src, dst string) {
		t.Helper()
		if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range []struct {
		step int
		val  float64
	}{{1, 0.5}, {2, 0.7}} {
		if _, err := b.Offer(o.step, at(o.val), save(o.step)); err != nil {
			t.Fatal(err)
		}
	}
	states := t.TempDir()
	snapshot := func(name string) string {
		dst := filepath.Join(states, name)
		copyTree(out, dst)
		return dst
	}
	before := ""
	swapped := ""
	kept, err := b.Offer(3, at(0.9), func(dir string) error {
		before = snapshot("before the swap")
		if err := save(3)(dir); err != nil {
			return err
		}
		swapped = snapshot("swapped, no best.json yet")
		return nil
	})
	if err != nil || !kept {
		t.Fatalf("Offer(3) = %v, %v; want kept", kept, err)
	}
	done := snapshot("done")
	// Save's "current moved aside": best/ gone, best.prev/ the old best with
	// its best.json, best.new/ the complete new checkpoint.
	aside := filepath.Join(states, "current moved aside")
	copyTree(before, aside)
	if err := checkpoint.Remove(filepath.Join(aside, "best")); err != nil {
		t.Fatal(err)
	}
	copyTree(filepath.Join(swapped, "best"), filepath.Join(aside, "best.new"))
	copyTree(filepath.Join(before, "best"), filepath.Join(aside, "best.prev"))
	truncated := snapshot("done, checkpoint.npz truncated")
	if err := os.Truncate(filepath.Join(truncated, "best", "checkpoint.npz"), 100); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		dir  string
		want int
	}{{before, 2}, {aside, 2}, {swapped, 2}, {done, 3}, {truncated, 2}} {
		t.Run(filepath.Base(c.dir), func(t *testing.T) {
			torchrt.Lock()
			r, err := OpenBest(c.dir, "val_accuracy", true, true)
			if err != nil {
				t.Fatal(err)
			}
			_, meta, err := checkpoint.Weights(BestDir(c.dir))
			if err != nil {
				t.Fatal(err)
			}
			if !r.Found || r.Step != c.want || meta.Step != int64(c.want) {
				t.Fatalf("resumed best: step %d (found %v), its checkpoint holds step %d; want both %d", r.Step, r.Found, meta.Step, c.want)
			}
			kept, err := r.Offer(3, at(0.9), save(3))
			if want := c.want == 2; err != nil || kept != want {
				t.Fatalf("offering step 3 again: kept %v, %v; want %v", kept, err, want)
			}
			again, err := OpenBest(c.dir, "val_accuracy", true, true)
			if err != nil || again.Step != 3 || again.Value != 0.9 {
				t.Errorf("after step 3: best %+v, %v", again, err)
			}
		})
	}

	// A best.json naming another step than its checkpoint is no crash's
	// doing: an error, and nothing removed.
	odd := snapshot("best.json names another step")
	raw, err := os.ReadFile(filepath.Join(odd, "best", "best.json"))
	if err != nil {
		t.Fatal(err)
	}
	raw = []byte(strings.Replace(string(raw), `"step": 3`, `"step": 5`, 1))
	if err := os.WriteFile(filepath.Join(odd, "best", "best.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenBest(odd, "val_accuracy", true, true); err == nil || !strings.Contains(err.Error(), "names step 5") {
		t.Errorf("best.json of step 5 beside a checkpoint of step 3: %v, want an error saying so", err)
	}
	if !checkpoint.Exists(filepath.Join(odd, "best")) {
		t.Error("the mismatched best checkpoint was removed")
	}

	// A fresh run leaves nothing of an earlier run's best, the previous one
	// included (it would be taken for this run's after a crash).
	if _, err := OpenBest(aside, "val_accuracy", true, false); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"best", "best.prev", "best.new"} {
		if _, err := os.Stat(filepath.Join(aside, d)); !os.IsNotExist(err) {
			t.Errorf("a fresh run left %s (%v)", d, err)
		}
	}
}
