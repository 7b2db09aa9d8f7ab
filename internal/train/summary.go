package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
	Seconds  float64            `json:"seconds"`      // training time of the whole run, resumed sessions included (Result.Seconds)
	Wall     float64            `json:"wall_seconds"` // this session, start to finish (WriteSummary)
	Config   any                `json:"config"`
	Data     any                `json:"data,omitempty"` // where the data came from (datasets.Source)
	Seed     int64              `json:"seed"`
	Split    *Split             `json:"split,omitempty"`
	Best     *Best              `json:"best,omitempty"` // the best-validation checkpoint
	Results  map[string]float64 `json:"results"`
	Notes    []string           `json:"notes,omitempty"`
	// Commit and Machine are filled by WriteSummary when empty.
	Commit  string   `json:"git_commit"`
	Machine *Machine `json:"machine"`
}

// Split is what a run trained, validated and tested on.
type Split struct {
	Train        int     `json:"train"`        // training examples
	Val          int     `json:"val"`          // validation examples, carved from the training data
	Test         int     `json:"test"`         // test examples (reported, never used for a choice)
	Unit         string  `json:"unit"`         // "images", "tweets", "galaxies"
	ValFraction  float64 `json:"val_fraction"` // of the training data, before the carve
	ValSeed      int64   `json:"val_seed"`
	SplitSeed    int64   `json:"split_seed,omitempty"`    // drew the test split (and, with ValSeed, the validation split); runs from before it used the run's seed
	StratifiedBy string  `json:"stratified_by,omitempty"` // "label", "class"
	TrainEval    string  `json:"train_eval"`              // what the "train" rows measure, e.g. "10,000-image sample, eval mode"
}

// TrainFull is the metrics.csv split of an evaluation of the whole training
// split in eval mode, beside the "train" rows of a cheaper measure.
const TrainFull = "train-full"

// Legend names a metrics.csv split ("train", "val", "test", TrainFull) as a figure's
// legend should: what the series measures and on how many examples. A nil
// Split (a run from before splits were recorded) gives the bare name.
func (s *Split) Legend(split string) string {
	if s == nil {
		if split == "val" {
			return "validation"
		}
		return split
	}
	switch split {
	case "train":
		if s.TrainEval == "" {
			return "train"
		}
		return "train (" + s.TrainEval + ")"
	case "val":
		return fmt.Sprintf("validation (%s %s)", Count(s.Val), s.Unit)
	case "test":
		return fmt.Sprintf("test (%s %s)", Count(s.Test), s.Unit)
	case TrainFull:
		return fmt.Sprintf("train (all %s %s, eval mode)", Count(s.Train), s.Unit)
	}
	return split
}

// Count writes n with thousands separators: 10000 -> "10,000".
func Count(n int) string {
	str := strconv.Itoa(n)
	neg := strings.HasPrefix(str, "-")
	str = strings.TrimPrefix(str, "-")
	for i := len(str) - 3; i > 0; i -= 3 {
		str = str[:i] + "," + str[i:]
	}
	if neg {
		return "-" + str
	}
	return str
}

// ReadSplit reads the split recorded in out/summary.json; nil (and no
// error) when the file or its split is missing.
func ReadSplit(out string) (*Split, error) {
	raw, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var sum struct {
		Split *Split `json:"split"`
	}
	if err := json.Unmarshal(raw, &sum); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(out, "summary.json"), err)
	}
	return sum.Split, nil
}

// CommonResults adds the keys every command's results carry: steps done,
// training time, step speed, and resident memory in MiB.
func CommonResults(res map[string]float64, r Result) {
	res["steps"] = float64(r.Done)
	res["train_seconds"] = r.Seconds
	res["diverged_steps_skipped"] = float64(r.Skipped)
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

// WriteSummary writes s to dir/summary.json, with the git commit and the
// machine when s does not name them.
func WriteSummary(dir string, s Summary) error {
	if s.Commit == "" {
		s.Commit = GitCommit()
	}
	if s.Wall == 0 && !s.Started.IsZero() && !s.Finished.IsZero() {
		s.Wall = s.Finished.Sub(s.Started).Seconds()
	}
	if s.Machine == nil {
		m := ThisMachine()
		s.Machine = &m
	}
	if err := metrics.WriteJSON(filepath.Join(dir, "summary.json"), s); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}
