package report

import (
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"torchlab/internal/runrec"
)

// TestCommittedRunsRead reads every committed run folder under docs/results
// the way the report does: each summary.json through the run record, with
// its old keys migrated, and each metrics.csv with a step column.
func TestCommittedRunsRead(t *testing.T) {
	old := []string{"epoch", "epoch_seconds", "iterations", "train_iterations_per_second", "peak_rss_mb"}
	n := 0
	err := filepath.WalkDir("../../docs/results", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.Name() != runrec.SummaryFile {
			return err
		}
		n++
		dir := filepath.Dir(path)
		r := loadRun(dir, filepath.Base(dir))
		if r.Summary == nil || len(r.Problems) > 0 {
			t.Errorf("%s: not read: %v", dir, r.Problems)
			return nil
		}
		if len(r.Summary.Results) == 0 || r.Summary.Command == "" {
			t.Errorf("%s: no command or results", dir)
		}
		for k := range r.Summary.Results {
			if slices.Contains(old, k) || strings.HasPrefix(k, "rss_mb_") {
				t.Errorf("%s: old result key %q after migration", dir, k)
			}
		}
		if _, ok := r.Summary.Results[runrec.Steps]; !ok {
			t.Errorf("%s: no %s", dir, runrec.Steps)
		}
		if exists(filepath.Join(dir, runrec.IWAEFile)) {
			if v := r.Summary.Results[runrec.IWAETestNats]; !(v > 0) {
				t.Errorf("%s: iwae.json read as a test bound of %v nats, want > 0", dir, v)
			}
		}
		if r.Metrics != nil && !slices.Contains(r.Metrics.Header, runrec.ColStep) {
			t.Errorf("%s: metrics.csv without a %s column: %v", dir, runrec.ColStep, r.Metrics.Header)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Fatalf("only %d summaries under docs/results", n)
	}
}
