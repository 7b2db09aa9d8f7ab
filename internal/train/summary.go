package train

import (
	"fmt"
	"path/filepath"
	"time"

	"torchlab/internal/metrics"
	"torchlab/torch/memstat"
)

// Summary is summary.json: what ran, when, on what data, with what
// configuration, and the final numbers. The report reads it. Every command
// writes the same common keys (Common) beside its own results.
type Summary struct {
	Command  string             `json:"command"`
	Started  time.Time          `json:"started"`
	Finished time.Time          `json:"finished"`
	Seconds  float64            `json:"seconds"`
	Config   any                `json:"config"`
	Data     any                `json:"data,omitempty"` // where the data came from (datasets.Source)
	Results  map[string]float64 `json:"results"`
	Notes    []string           `json:"notes,omitempty"`
}

// CommonResults adds the keys every command's results carry: steps done,
// training time, step speed, and resident memory in MiB.
func CommonResults(res map[string]float64, r Result) {
	res["steps"] = float64(r.Done)
	res["train_seconds"] = r.Seconds
	if r.StepSeconds > 0 && len(r.Losses) > 0 {
		res["steps_per_second"] = float64(len(r.Losses)) / r.StepSeconds
	}
	if rss, err := memstat.RSS(); err == nil {
		res["rss_mib"] = float64(rss) / (1 << 20)
	}
	if peak, err := memstat.PeakRSS(); err == nil {
		res["peak_rss_mib"] = float64(peak) / (1 << 20)
	}
}

// WriteSummary writes s to dir/summary.json.
func WriteSummary(dir string, s Summary) error {
	if err := metrics.WriteJSON(filepath.Join(dir, "summary.json"), s); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}
