package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"torchlab/internal/metrics"
)

// Run is one training run's output folder as the report reads it.
type Run struct {
	Dir  string
	Name string // the subfolder name within its part ("conv"), or "" for the part's own folder
	// Summary is summary.json; nil when the folder has none or it cannot
	// be read (then Problems says why).
	Summary *Summary
	Figures []string // PNG file names in Dir, sorted
	Metrics *metrics.Table
	// Problems are files that could not be read, each naming the file.
	Problems []string
}

// Summary is summary.json as every training command writes it (run.Summary);
// the configuration is kept as raw JSON because each command has its own.
type Summary struct {
	Command  string             `json:"command"`
	Started  time.Time          `json:"started"`
	Finished time.Time          `json:"finished"`
	Seconds  float64            `json:"seconds"`
	Config   json.RawMessage    `json:"config"`
	Results  map[string]float64 `json:"results"`
	Notes    []string           `json:"notes"`
}

// ConfigPairs flattens the configuration into sorted "key=value" strings,
// with dotted keys for nested objects.
func (s *Summary) ConfigPairs() []string {
	if s == nil || len(s.Config) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(s.Config, &v); err != nil {
		return []string{string(s.Config)}
	}
	var out []string
	flatten("", v, &out)
	sort.Strings(out)
	return out
}

func flatten(prefix string, v any, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			key := k
			if prefix != "" {
				key = prefix + "." + k
			}
			flatten(key, e, out)
		}
	default:
		b, err := json.Marshal(x)
		if err != nil {
			b = []byte(fmt.Sprint(x))
		}
		s := strings.Trim(string(b), `"`)
		if prefix == "" {
			*out = append(*out, s)
			return
		}
		*out = append(*out, prefix+"="+s)
	}
}

// loadRun reads what the report needs from dir. A missing or broken file
// is recorded in Problems rather than failing the report.
func loadRun(dir, name string) *Run {
	r := &Run{Dir: dir, Name: name}
	sumPath := filepath.Join(dir, "summary.json")
	if _, err := os.Stat(sumPath); err == nil {
		var s Summary
		if err := metrics.ReadJSON(sumPath, &s); err != nil {
			r.Problems = append(r.Problems, err.Error())
		} else {
			r.Summary = &s
		}
	}
	csvPath := filepath.Join(dir, "metrics.csv")
	if _, err := os.Stat(csvPath); err == nil {
		t, err := metrics.Read(csvPath)
		if err != nil {
			r.Problems = append(r.Problems, err.Error())
		} else {
			r.Metrics = t
		}
	}
	r.Figures = pngs(dir)
	return r
}

// pngs lists the PNG files directly in dir, sorted.
func pngs(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && strings.EqualFold(filepath.Ext(e.Name()), ".png") {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// Part is one of the three training parts: the folder chosen and its runs.
type Part struct {
	Title   string // "VGG11 on MNIST"
	Command string // "vgg-mnist"
	// Searched lists the folders looked at, Dir the one chosen ("" if none
	// holds a run).
	Searched []string
	Dir      string
	// Top is the part's own folder as a run. For a part with subfolder
	// runs (the VAE's conv/, mlp/, resnet/) it may hold only comparison
	// figures, and Subruns the runs.
	Top     *Run
	Subruns []*Run
}

// newest returns the latest finish time of the summaries in dir and its
// direct subfolders.
func newest(dir string) (time.Time, bool) {
	var best time.Time
	found := false
	check := func(d string) {
		var s Summary
		p := filepath.Join(d, "summary.json")
		if _, err := os.Stat(p); err != nil {
			return
		}
		found = true
		if err := metrics.ReadJSON(p, &s); err == nil && s.Finished.After(best) {
			best = s.Finished
		}
	}
	check(dir)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.IsDir() {
			check(filepath.Join(dir, e.Name()))
		}
	}
	return best, found
}

// choose returns the folder among candidates whose runs finished last, or ""
// when none holds a run.
func choose(candidates []string) string {
	best, bestTime := "", time.Time{}
	for _, c := range candidates {
		t, ok := newest(c)
		if !ok {
			continue
		}
		if best == "" || t.After(bestTime) {
			best, bestTime = c, t
		}
	}
	return best
}

// loadPart picks the part's folder and reads its runs.
func loadPart(title, command string, candidates []string) *Part {
	p := &Part{Title: title, Command: command, Searched: candidates}
	p.Dir = choose(candidates)
	if p.Dir == "" {
		return p
	}
	p.Top = loadRun(p.Dir, "")
	entries, _ := os.ReadDir(p.Dir)
	for _, e := range entries {
		sub := filepath.Join(p.Dir, e.Name())
		if e.IsDir() && hasSummaryFile(sub) {
			p.Subruns = append(p.Subruns, loadRun(sub, e.Name()))
		}
	}
	return p
}

func hasSummaryFile(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "summary.json"))
	return err == nil
}
