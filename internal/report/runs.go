package report

import (
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"torchlab/internal/metrics"
	"torchlab/internal/runrec"
)

// Run is one training run's output folder as the report reads it.
type Run struct {
	Dir  string
	Name string // the subfolder name within its parent run ("conv"), or ""
	// Seed is N for a subrun found in a seedN folder (seed1/conv: one
	// architecture's run with seed 1 and that seed's split), or "".
	Seed string
	// Summary is summary.json, migrated to today's keys (runrec.Read); nil
	// when the folder has none or it cannot be read (then Problems says why).
	Summary *runrec.Summary
	Figures []string // PNG file names in Dir, sorted
	Metrics *metrics.Table
	// Subruns are the subfolders holding a summary.json, directly (the
	// quick VAE runs' mlp/, conv/, resnet/) or in a seedN folder (the full
	// runs' seed1/conv), sorted by name and then seed.
	Subruns []*Run
	// Problems are files that could not be read, each naming the file.
	Problems []string
}

// config returns one configuration value, or nil.
func (r *Run) config(key string) any {
	if r == nil || r.Summary == nil {
		return nil
	}
	return r.Summary.ConfigMap()[key]
}

// result returns one of the summary's results.
func (r *Run) result(key string) (float64, bool) {
	if r == nil || r.Summary == nil {
		return 0, false
	}
	v, ok := r.Summary.Results[key]
	return v, ok
}

// seconds is the run's training time: the larger of the summary's and
// metrics.csv's last seconds, because older summaries count only a resumed
// run's last session while metrics.csv counts across sessions.
func (r *Run) seconds() float64 {
	var s float64
	if r.Summary != nil {
		s = r.Summary.Seconds
	}
	if r.Metrics != nil && len(r.Metrics.Rows) > 0 {
		if v, err := r.Metrics.Float(runrec.ColSeconds, len(r.Metrics.Rows)-1); err == nil && v > s {
			s = v
		}
	}
	return s
}

// best returns the highest value of column y among the rows of split
// (e.g. the best test accuracy) and the value of column x there.
func (r *Run) best(y, split, x string) (best, at float64, ok bool) {
	if r == nil || r.Metrics == nil {
		return 0, 0, false
	}
	xs, ys, err := r.Metrics.Series(x, y, runrec.ColSplit, split)
	if err != nil || len(ys) == 0 {
		return 0, 0, false
	}
	best = math.Inf(-1)
	for i, v := range ys {
		if v > best {
			best, at = v, xs[i]
		}
	}
	return best, at, true
}

// hasFigure says whether the run folder holds the PNG name.
func (r *Run) hasFigure(name string) bool {
	for _, f := range r.Figures {
		if f == name {
			return true
		}
	}
	return false
}

// empty says whether the folder holds nothing the report can show.
func (r *Run) empty() bool {
	return r.Summary == nil && r.Metrics == nil && len(r.Figures) == 0 && len(r.Subruns) == 0 && len(r.Problems) == 0
}

// loadRun reads what the report needs from dir and its subfolders that
// hold a summary.json. A missing or broken file is recorded in Problems
// rather than failing the report.
func loadRun(dir, name string) *Run {
	r := &Run{Dir: dir, Name: name}
	if exists(filepath.Join(dir, runrec.SummaryFile)) {
		s, err := runrec.Read(dir)
		if err != nil {
			r.Problems = append(r.Problems, err.Error())
		} else {
			r.Summary = s
		}
	}
	csvPath := filepath.Join(dir, runrec.MetricsFile)
	if _, err := os.Stat(csvPath); err == nil {
		t, err := runrec.ReadMetrics(csvPath)
		if err != nil {
			r.Problems = append(r.Problems, err.Error())
		} else {
			r.Metrics = t
		}
	}
	r.Figures = pngs(dir)
	if name == "" {
		r.Subruns = subruns(dir, "")
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			seed, ok := strings.CutPrefix(e.Name(), "seed")
			if _, err := strconv.ParseUint(seed, 10, 32); ok && err == nil && e.IsDir() {
				r.Subruns = append(r.Subruns, subruns(filepath.Join(dir, e.Name()), seed)...)
			}
		}
		sort.SliceStable(r.Subruns, func(i, j int) bool {
			a, b := r.Subruns[i], r.Subruns[j]
			if a.Name != b.Name {
				return a.Name < b.Name
			}
			return seedBefore(a.Seed, b.Seed)
		})
	}
	r.readExtraResults()
	return r
}

// seedBefore orders seeds by number (seed 2 before seed 10).
func seedBefore(a, b string) bool {
	x, _ := strconv.Atoi(a)
	y, _ := strconv.Atoi(b)
	return x < y
}

// subruns loads the subfolders of dir that hold a summary.json.
func subruns(dir, seed string) []*Run {
	var out []*Run
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		sub := filepath.Join(dir, e.Name())
		if e.IsDir() && exists(filepath.Join(sub, runrec.SummaryFile)) {
			s := loadRun(sub, e.Name())
			s.Seed = seed
			out = append(out, s)
		}
	}
	return out
}

// readExtraResults adds to the summary's results what later commands wrote
// beside it: the importance-weighted bound of vae-galaxy iwae (iwae.json)
// under the runrec.IWAE* keys, and the class-sample judgement of
// vae-galaxy plots --judge (samples.json's results, under their own keys).
// A file that cannot be read is a problem of the run.
func (r *Run) readExtraResults() {
	if r.Summary == nil {
		return
	}
	if r.Summary.Results == nil {
		r.Summary.Results = map[string]float64{}
	}
	var iwae *runrec.IWAE
	if path := filepath.Join(r.Dir, runrec.IWAEFile); exists(path) {
		iwae = &runrec.IWAE{}
		if err := metrics.ReadJSON(path, iwae); err != nil {
			r.Problems = append(r.Problems, err.Error())
			iwae = nil // half-read numbers are not results
		}
	}
	if iwae != nil && iwae.Test.Images > 0 {
		r.Summary.Results[runrec.IWAETestNats] = iwae.Test.NLL
		r.Summary.Results[runrec.IWAETestBitsPerDim] = iwae.Test.NLLBits
		r.Summary.Results[runrec.IWAETestK] = float64(iwae.Test.K)
	}
	if b := iwaeSubset(iwae); b != nil {
		r.Summary.Results[runrec.IWAESubsetNats] = b.NLL
		r.Summary.Results[runrec.IWAESubsetK] = float64(b.K)
	}
	if iwae != nil && iwae.SubsetAt != nil {
		r.Summary.Results[runrec.IWAESubsetAtTestKNats] = iwae.SubsetAt.NLL
	}
	var samples runrec.Samples
	if path := filepath.Join(r.Dir, runrec.SamplesFile); exists(path) {
		if err := metrics.ReadJSON(path, &samples); err != nil {
			r.Problems = append(r.Problems, err.Error())
			samples.Results = nil
		}
	}
	for k, v := range samples.Results {
		r.Summary.Results[k] = v
	}
}

// iwaeSubset is iwae.json's subset bound, nil when it has none.
func iwaeSubset(iwae *runrec.IWAE) *runrec.Bound {
	if iwae == nil {
		return nil
	}
	return iwae.Subset
}

// allProblems lists the problems of the run and its subruns.
func (r *Run) allProblems() []string {
	out := append([]string(nil), r.Problems...)
	for _, s := range r.Subruns {
		out = append(out, s.Problems...)
	}
	return out
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

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// fullRuns reads the committed full-length runs of command from the
// results folder: <results>/<command> first, then <results>/<command>-*
// (variants such as lstm-tweets-lr1e-3) in name order. Folders with
// nothing to show are left out.
func fullRuns(results, command string) []*Run {
	var dirs []string
	if entries, err := os.ReadDir(results); err == nil {
		for _, e := range entries {
			if e.IsDir() && strings.HasPrefix(e.Name(), command+"-") {
				dirs = append(dirs, e.Name())
			}
		}
	}
	sort.Strings(dirs)
	dirs = append([]string{command}, dirs...)
	var out []*Run
	for _, d := range dirs {
		r := loadRun(filepath.Join(results, d), "")
		if !r.empty() {
			out = append(out, r)
		}
	}
	return out
}

// demoRun reads the quick run in dir, or returns nil when there is none.
func demoRun(dir string) *Run {
	if dir == "" {
		return nil
	}
	r := loadRun(dir, "")
	if r.empty() {
		return nil
	}
	return r
}

// sub returns the subrun called name, or nil.
func (r *Run) sub(name string) *Run {
	if r == nil {
		return nil
	}
	for _, s := range r.Subruns {
		if s.Name == name {
			return s
		}
	}
	return nil
}
