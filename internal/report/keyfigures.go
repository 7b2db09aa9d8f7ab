package report

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"torchlab/internal/runrec"
)

// A keyFigure is one of the few figures a training part shows in the main
// part: one run's figures laid out as the first of figs that the run has,
// then a sentence on what they show. The appendix refers to it instead of showing it again.
type keyFigure struct {
	// pick chooses the run among the part's full runs; nil when none fits.
	pick func(full []*Run) *Run
	figs []figureSpec
	// shows says in one sentence what the figure shows, from the numbers
	// of the run and of the part's other full runs; "" when they lack them.
	shows func(r *Run, full []*Run) string
}

// keyFigureSet writes the part's key figures, each followed by its
// sentence.
func (w *writer) keyFigureSet(spec *partSpec, full []*Run) error {
	for _, k := range spec.key {
		r := k.pick(full)
		if r == nil {
			continue
		}
		var grid [][]string
		var what string
		for _, fs := range k.figs {
			if grid, what = layoutFigure(fs, r, map[string]bool{}); len(grid) > 0 {
				break
			}
		}
		if len(grid) == 0 {
			continue
		}
		prefix := filepath.Join("img", spec.command, "main", filepath.Base(r.Dir))
		if rel, err := filepath.Rel(w.cfg.ResultsDir, r.Dir); err == nil && filepath.IsLocal(rel) {
			prefix = filepath.Join("img", spec.command, "main", rel)
		}
		if err := w.figure(r, prefix, grid, what, w.whose(spec, r)); err != nil {
			return err
		}
		for _, row := range grid {
			for _, name := range row {
				w.keyFigures[filepath.Join(r.Dir, name)] = w.figures
			}
		}
		if s := k.shows(r, full); s != "" {
			w.p("*Figure %d:* %s\n\n", w.figures, s)
		}
	}
	return nil
}

// keyFigureOf returns the number of the main part's figure that showed
// every image of grid from run r, or 0.
func (w *writer) keyFigureOf(r *Run, grid [][]string) int {
	n := 0
	for _, row := range grid {
		for _, name := range row {
			k := w.keyFigures[filepath.Join(r.Dir, name)]
			if k == 0 || (n != 0 && k != n) {
				return 0
			}
			n = k
		}
	}
	return n
}

// whose names the run a figure comes from, for its caption: a full run by
// its recipe and date, a perArch part's folder of runs by its path.
func (w *writer) whose(spec *partSpec, r *Run) string {
	date := ""
	if r.Summary != nil {
		date = ", " + day(r.Summary.Finished)
	}
	switch {
	case r.Name != "":
		return "Full run of " + spec.variant(r) + date + "."
	case spec.perArch:
		return "Full runs (`" + w.rel(r.Dir) + "`)."
	case spec.variant != nil:
		return "Full run (" + spec.variant(r) + ")" + date + " (`" + w.rel(r.Dir) + "`)."
	}
	return "Full run" + date + " (`" + w.rel(r.Dir) + "`)."
}

// withKind returns the first run whose name (spec.variant) starts with
// kind ("as specified"), or nil.
func withKind(variant func(*Run) string, kind string) func(full []*Run) *Run {
	return func(full []*Run) *Run {
		for _, r := range full {
			if strings.HasPrefix(variant(r), kind+":") {
				return r
			}
		}
		return nil
	}
}

// bestTuned returns the tuned run with the highest validation accuracy at
// its best checkpoint, the one the validation split chooses; nil when no
// tuned run has a validation split.
func bestTuned(variant func(*Run) string) func(full []*Run) *Run {
	return func(full []*Run) *Run {
		var best *Run
		for _, r := range full {
			if !strings.HasPrefix(variant(r), "tuned:") {
				continue
			}
			_, val, _, ok := chosenOnValidation(r, runrec.Accuracy)
			if !ok {
				continue
			}
			if _, b, _, _ := chosenOnValidation(best, "accuracy"); best == nil || val > b {
				best = r
			}
		}
		return best
	}
}

// endpoints returns column y's first and last values among the rows of
// split in metrics.csv, with column x's values there.
func (r *Run) endpoints(x, y, split string) (firstX, first, lastX, last float64, ok bool) {
	if r == nil || r.Metrics == nil {
		return 0, 0, 0, 0, false
	}
	xs, ys, err := r.Metrics.Series(x, y, "split", split)
	if err != nil || len(ys) == 0 {
		return 0, 0, 0, 0, false
	}
	return xs[0], ys[0], xs[len(xs)-1], ys[len(ys)-1], true
}

// points says a difference of two shares in percentage points, "+5.3".
func points(a, b float64) string { return fmt.Sprintf("%+.1f", 100*(a-b)) }

// vggSpecifiedShows says how far the assignment's recipe fits the
// training images and where the test accuracy goes meanwhile.
func vggSpecifiedShows(r *Run, _ []*Run) string {
	e0, l0, e1, l1, okL := r.endpoints(runrec.ColEpoch, runrec.ColLoss, runrec.Train)
	_, a0, _, a1, okA := r.endpoints(runrec.ColEpoch, runrec.ColAccuracy, runrec.Test)
	if !okL || !okA {
		return ""
	}
	return fmt.Sprintf("under the assignment's recipe the training loss falls from %s after epoch %s to %s after epoch %s, "+
		"while the test accuracy goes from %s to %s.", sig2(l0), plain(e0), sig2(l1), plain(e1), pct2(a0), pct2(a1))
}

// tunedShows compares the run the validation split chose with the
// assignment's recipe, each at its own best validation checkpoint.
func tunedShows(unit string, format func(any) string, variant func(*Run) string) func(r *Run, full []*Run) string {
	return func(r *Run, full []*Run) string {
		step, val, test, ok := chosenOnValidation(r, runrec.Accuracy)
		if !ok {
			return ""
		}
		s := fmt.Sprintf("of the tuned runs, this one has the highest validation accuracy at its best checkpoint (%s at %s %s); "+
			"its test accuracy there is %s", format(val), unit, thousands(step), format(test))
		if spec := withKind(variant, "as specified")(full); spec != nil {
			if _, _, t, ok := chosenOnValidation(spec, runrec.Accuracy); ok {
				s += fmt.Sprintf(", %s points from the assignment's recipe at its own best validation checkpoint (%s)", points(test, t), format(t))
			}
		}
		return s + "."
	}
}

// lstmSpecifiedShows says how the test accuracy climbs under the
// assignment's recipe and how far the training sample's ends above it.
func lstmSpecifiedShows(r *Run, _ []*Run) string {
	i0, a0, i1, a1, ok := r.endpoints(runrec.ColStep, runrec.ColAccuracy, runrec.Test)
	_, _, _, tr, okT := r.endpoints(runrec.ColStep, runrec.ColAccuracy, runrec.Train)
	if !ok {
		return ""
	}
	s := fmt.Sprintf("under the assignment's recipe the test accuracy climbs from %s at iteration %s to %s at iteration %s",
		pct1(a0), thousands(i0), pct1(a1), thousands(i1))
	if okT {
		s += fmt.Sprintf("; the training sample's ends %s points from it (%s)", points(tr, a1), pct1(tr))
	}
	return s + "."
}

// vaeCompareShows gives each architecture's validation −ELBO at its best
// epoch, averaged over its seeds (conditional models, which bound another
// quantity, left out).
func vaeCompareShows(r *Run, _ []*Run) string {
	sums, counts := map[string]float64{}, map[string]int{}
	for _, s := range r.Subruns {
		v, ok := s.result(runrec.BestOf(runrec.ValNegELBO))
		if c, _ := s.config("conditional").(bool); !ok || c {
			continue
		}
		sums[s.Name] += v
		counts[s.Name]++
	}
	if len(sums) == 0 {
		return ""
	}
	names := make([]string, 0, len(sums))
	for n := range sums {
		names = append(names, n)
	}
	sort.Strings(names)
	var parts []string
	for _, n := range names {
		seeds := "seed"
		if counts[n] > 1 {
			seeds += "s"
		}
		parts = append(parts, fmt.Sprintf("%s %s (%d %s)", n, fixed1(sums[n]/float64(counts[n])), counts[n], seeds))
	}
	return "the validation −ELBO at each run's best epoch, in nats per image and averaged over seeds, is " + strings.Join(parts, ", ") + "."
}

// firstRun returns the first of the full runs, or nil.
func firstRun(full []*Run) *Run {
	if len(full) == 0 {
		return nil
	}
	return full[0]
}

// vaeChosen returns the architecture the validation split chooses in the
// first seed, or nil.
func vaeChosen(full []*Run) *Run {
	if len(full) == 0 {
		return nil
	}
	unconditional, _ := byConditioning(full[0])
	_, chosen := chosenPerSeed(unconditional)
	if len(chosen) == 0 {
		return nil
	}
	return chosen[0]
}

// vaeSamplesShows says how often the galaxy classifier recognises the
// chosen model's class samples, against chance and against real galaxies.
func vaeSamplesShows(r *Run, _ []*Run) string {
	s, ok := r.result(runrec.SampleAgreement(runrec.JudgeCNN, runrec.GenLatentRegion))
	acc, okA := r.result(runrec.JudgeTestAccuracy(runrec.JudgeCNN))
	if !ok || !okA {
		return ""
	}
	chance, okC := r.result(runrec.JudgeChance)
	if !okC {
		chance = 1.0 / 7
	}
	return fmt.Sprintf("the galaxy classifier recognises %s of these class samples as their class "+
		"(a class-blind generator: %s; the classifier is right on %s of the real test galaxies).", pct1(s), pct1(chance), pct1(acc))
}
