// Package runrec is the record a training run leaves in its folder:
// summary.json, best.json's shape, the columns of metrics.csv, the result
// keys and the figure names. The commands write through it and the report
// reads through it, so a key or a column is spelled in one place. Records
// written by older versions are migrated when read (Migrate,
// MigrateHeader, MigrateMetricsFile), never by the report's readers one by one.
package runrec

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"torchlab/datasets"
	"torchlab/internal/metrics"
)

// SummaryFile is the name of a run's summary in its folder.
const SummaryFile = "summary.json"

// Summary is summary.json: what ran, when, on what data, with what
// configuration, and the final numbers. Every command writes the common
// result keys (Steps, TrainSeconds, ...) beside its own.
type Summary struct {
	Command  string             `json:"command"`
	Started  time.Time          `json:"started"`
	Finished time.Time          `json:"finished"`
	Seconds  float64            `json:"seconds"`      // training time of the whole run, resumed sessions included
	Wall     float64            `json:"wall_seconds"` // this session, start to finish
	Config   any                `json:"config"`       // the command's Config when written; a JSON object when read
	Data     *datasets.Source   `json:"data,omitempty"`
	Seed     int64              `json:"seed"`
	Split    *Split             `json:"split,omitempty"`
	Best     *Best              `json:"best,omitempty"` // the best-validation checkpoint
	Results  map[string]float64 `json:"results"`
	Notes    []string           `json:"notes,omitempty"`
	Commit   string             `json:"git_commit"`
	Machine  *Machine           `json:"machine"`
}

// Split is what a run trained, validated and tested on.
type Split struct {
	Train        int     `json:"train"`        // training examples
	Val          int     `json:"val"`          // validation examples, carved from the training data
	Test         int     `json:"test"`         // test examples (reported, never used for a choice)
	Unit         string  `json:"unit"`         // "images", "tweets", "galaxies"
	ValFraction  float64 `json:"val_fraction"` // of the training data, before the carve
	ValSeed      int64   `json:"val_seed"`
	SplitSeed    int64   `json:"split_seed,omitempty"`    // drew the test split (and, with ValSeed, the validation split); zero: the run's seed did
	StratifiedBy string  `json:"stratified_by,omitempty"` // "label", "class"
	TrainEval    string  `json:"train_eval"`              // what the "train" rows measure, e.g. "10,000-image sample, eval mode"
}

// Machine is what a run ran on: results on 2 cores with the reference
// BLAS are not results on 32 with OpenBLAS.
type Machine struct {
	Cores     int    `json:"cores"`     // runtime.NumCPU
	OS        string `json:"os"`        // GOOS/GOARCH
	Libtorch  string `json:"libtorch"`  // major.minor of the headers compiled against
	BLAS      string `json:"blas"`      // what libblas.so.3 resolves to, or "unknown"
	Allocator string `json:"allocator"` // the malloc libtorch's tensors come from
	CPU       string `json:"cpu"`       // model, instruction set, caches and OpenBLAS core (empty in older records)
	Go        string `json:"go"`
}

// BestFile is the record beside a run's best checkpoint.
const BestFile = "best.json"

// Best is best.json, and the summary's record of the model selection: the
// step with the best validation metric, whose model is kept in Dir. The
// test metrics at that step are recorded for the report; they never choose.
type Best struct {
	Metric string             `json:"metric"`           // e.g. "val_accuracy"
	Higher bool               `json:"higher_is_better"` // accuracy: true; a loss: false
	Dir    string             `json:"dir"`              // the checkpoint folder
	Found  bool               `json:"found"`            // a step has been kept
	Step   int                `json:"step"`
	Value  float64            `json:"value"`
	At     map[string]float64 `json:"at,omitempty"` // every metric at that step (val and test)
}

// Samples is samples.json (SamplesFile): the sample judgement of a redraw
// with vae-galaxy plots --judge, kept apart from the training run's
// summary. The report adds its results to the summary's.
type Samples struct {
	Command string             `json:"command"`
	Results map[string]float64 `json:"results"`
	Notes   []string           `json:"notes"`
}

// WriteSamples writes s to dir/samples.json.
func WriteSamples(dir string, s Samples) error {
	if err := metrics.WriteJSON(filepath.Join(dir, SamplesFile), s); err != nil {
		return fmt.Errorf("write %s: %w", SamplesFile, err)
	}
	return nil
}

// Write writes s to dir/summary.json as it is (the caller fills the commit
// and the machine).
func Write(dir string, s Summary) error {
	if err := metrics.WriteJSON(filepath.Join(dir, SummaryFile), s); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}

// Read reads dir/summary.json and migrates an older record to the current
// keys (Migrate). The error wraps os.ErrNotExist when there is none.
func Read(dir string) (*Summary, error) {
	var s Summary
	if err := metrics.ReadJSON(filepath.Join(dir, SummaryFile), &s); err != nil {
		return nil, err
	}
	Migrate(&s)
	return &s, nil
}

// ReadSplit reads the split recorded in out/summary.json; nil (and no
// error) when the file or its split is missing.
func ReadSplit(out string) (*Split, error) {
	s, err := Read(out)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return s.Split, nil
}

// ConfigMap flattens the configuration into one level, with dotted keys
// for nested objects ("model.hidden").
func (s *Summary) ConfigMap() map[string]any {
	out := map[string]any{}
	if s == nil || s.Config == nil {
		return out
	}
	v := s.Config
	if _, ok := v.(map[string]any); !ok {
		// A Config as written (a command's struct): seen as JSON sees it.
		raw, err := json.Marshal(v)
		if err != nil || json.Unmarshal(raw, &v) != nil {
			return out
		}
	}
	flatten("", v, out)
	return out
}

func flatten(prefix string, v any, out map[string]any) {
	m, ok := v.(map[string]any)
	if !ok {
		out[prefix] = v
		return
	}
	for k, e := range m {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		flatten(key, e, out)
	}
}

// Legend names a metrics.csv split (Train, Val, Test, TrainFull) as a
// figure's legend should: what the series measures and on how many
// examples. A nil Split (a run that did not record one) gives the bare name.
func (s *Split) Legend(split string) string {
	if s == nil {
		if split == Val {
			return "validation"
		}
		return split
	}
	switch split {
	case Train:
		if s.TrainEval == "" {
			return "train"
		}
		return "train (" + s.TrainEval + ")"
	case Val:
		return fmt.Sprintf("validation (%s %s)", Count(s.Val), s.Unit)
	case Test:
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
