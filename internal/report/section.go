package report

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// A labelled run is one row of a part's tables.
type labelled struct {
	label string
	run   *Run
	demo  bool
}

// rows lists the runs of a part as its tables show them: each full run (or
// each architecture of it), then the quick run's.
func rows(spec *partSpec, full []*Run, demo *Run) []labelled {
	var out []labelled
	add := func(r *Run, isDemo bool) {
		runs := []*Run{r}
		if spec.perArch {
			runs = r.Subruns
		}
		for _, x := range runs {
			// A run is named by its recipe in words; the dates are in the text.
			var l string
			switch {
			case spec.perArch && isDemo:
				l = spec.variant(x) + ", quick run here"
			case spec.perArch:
				l = spec.variant(x) + ", full run"
			case isDemo && spec.recipe != nil && spec.recipe(x) != "":
				l = "quick run here: " + spec.recipe(x)
			case !isDemo && spec.variant != nil:
				l = spec.variant(x)
			default:
				l = "full run"
				if isDemo {
					l = "quick run here"
				}
				if x.Summary != nil {
					// Non-breaking hyphens: a narrow column must not split a date.
					l += ", " + strings.ReplaceAll(day(x.Summary.Finished), "-", "\u2011")
				}
			}
			out = append(out, labelled{l, x, isDemo})
		}
	}
	for _, r := range full {
		add(r, false)
	}
	if demo != nil {
		add(demo, true)
	}
	return out
}

// partRuns are a training part's runs: the committed full-length ones and
// the quick run of make demo (nil when there is none).
type partRuns struct {
	full []*Run
	demo *Run
}

// load reads a part's full runs from the results folder and its quick run
// from demoDir, keeping only the subruns spec.subrun accepts; what is
// missing or unreadable goes to the result's Missing and Problems.
func (w *writer) load(spec *partSpec, demoDir string) *partRuns {
	pr := &partRuns{full: fullRuns(w.cfg.ResultsDir, spec.command), demo: demoRun(demoDir)}
	if spec.subrun != nil {
		for i, r := range pr.full {
			kept := *r
			kept.Subruns = nil
			for _, s := range r.Subruns {
				if spec.subrun(s) {
					kept.Subruns = append(kept.Subruns, s)
				}
			}
			pr.full[i] = &kept
		}
	}
	for _, r := range append(append([]*Run(nil), pr.full...), pr.demo) {
		if r != nil {
			w.res.Problems = append(w.res.Problems, r.allProblems()...)
		}
	}
	if len(pr.full) == 0 {
		w.res.Missing = append(w.res.Missing, spec.command+": full run")
	}
	if pr.demo == nil {
		w.res.Missing = append(w.res.Missing, spec.command+": quick run")
	}
	return pr
}

// partMain writes a training part's chapter of the main part: the
// headline, what the reader needs to know of the set-up, the table of the
// full runs, the key figures, and where the rest is.
func (w *writer) partMain(spec *partSpec, pr *partRuns) error {
	if len(pr.full) == 0 {
		w.p("The full-length run is not in this repository yet; %s makes it.\n\n", spec.make)
	} else if h := spec.headline(pr.full); h != "" {
		w.p("%s\n\n", h)
	}
	if spec.seeds != "" {
		path := filepath.Join(w.cfg.ResultsDir, spec.seeds, "seeds.json")
		lead, err := seedsLead(path, w.rel(strings.TrimSuffix(path, ".json")+".md"))
		if err != nil {
			return err
		}
		if lead != "" {
			w.p("%s\n\n", lead)
		}
	}
	if spec.about != "" {
		w.p("%s\n\n", spec.about)
	}
	w.glance(spec, pr.full, nil)
	if spec.studyLead != nil {
		link := fmt.Sprintf("[%s](#%s)", strings.SplitN(spec.appendix, ".", 2)[0], anchor(spec.appendix))
		lead, err := spec.studyLead(w.studyResultsPath(spec), link)
		if err != nil {
			return err
		}
		if lead != "" {
			w.p("%s\n\n", lead)
		}
	}
	if err := w.keyFigureSet(spec, pr.full); err != nil {
		return err
	}
	w.p("Every run's figures and settings, and the quick run `make demo` made on this machine, are in [%s](#%s).\n\n",
		strings.SplitN(spec.appendix, ".", 2)[0], anchor(spec.appendix))
	return nil
}

// partAppendix writes a training part's appendix: its study (if any),
// each full run with the command that made it and its figures, the quick
// run made here, and every setting and result of all of them.
func (w *writer) partAppendix(spec *partSpec, pr *partRuns) error {
	if err := w.study(spec); err != nil {
		return err
	}
	for _, r := range pr.full {
		if len(pr.full) > 1 && spec.variant != nil {
			w.p("### Full run, %s\n\n", spec.variant(r))
		} else if spec.perArch {
			w.p("### Full runs\n\n")
		} else {
			w.p("### Full run\n\n")
		}
		if err := w.fullRun(spec, r); err != nil {
			return err
		}
	}
	w.p("### Reproduced on this machine, quick settings\n\n")
	if pr.demo == nil {
		w.p("Not run on this machine yet: `make demo` runs it.\n\n")
	} else {
		w.glance(spec, nil, pr.demo)
		if err := w.demoRun(spec, pr.demo, closest(spec, pr.full, pr.demo), len(pr.full) > 1); err != nil {
			return err
		}
	}
	w.details(spec, pr.full, pr.demo)
	return nil
}

// study shows the results.md of the part's study folder (partSpec.study)
// under its own heading, its title line dropped and its headings moved
// below the heading's level; nothing when the folder has none yet.
func (w *writer) study(spec *partSpec) error {
	if spec.study == "" {
		return nil
	}
	path := filepath.Join(w.cfg.ResultsDir, spec.command, spec.study, "results.md")
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	w.p("### %s\n\n", spec.studyTitle)
	for i, line := range strings.Split(strings.TrimRight(string(raw), "\n"), "\n") {
		switch {
		case i == 0 && strings.HasPrefix(line, "# "):
			continue
		case strings.HasPrefix(line, "#"):
			line = "###" + line
		}
		w.p("%s\n", line)
	}
	w.p("\nFrom [`%s`](%s), written by its `summarize.py` from the run folders beside it.\n\n", w.rel(path), w.rel(path))
	return nil
}

// closest returns the full run whose settings differ least from the quick
// run's, the one it is compared with (the LSTM's quick run, at lr 1e-3, is
// closest to the full run at lr 1e-3).
func closest(spec *partSpec, full []*Run, demo *Run) *Run {
	if len(full) == 0 {
		return nil
	}
	best, fewest := full[0], -1
	if spec.perArch || demo.Summary == nil {
		return best
	}
	for _, r := range full {
		if r.Summary == nil {
			continue
		}
		n := len(differences(demo.Summary.ConfigMap(), r.Summary.ConfigMap()))
		if fewest < 0 || n < fewest {
			best, fewest = r, n
		}
	}
	return best
}

// glance writes the part's small table: one row per run, a few numbers in
// words.
func (w *writer) glance(spec *partSpec, full []*Run, demo *Run) {
	rs := rows(spec, full, demo)
	if len(rs) == 0 {
		return
	}
	w.p("| run |")
	for _, c := range spec.columns {
		w.p(" %s |", cell(c.label))
	}
	w.p("\n|---|%s\n", strings.Repeat("---:|", len(spec.columns)))
	for _, r := range rs {
		w.p("| %s |", cell(r.label))
		for _, c := range spec.columns {
			w.p(" %s |", cell(c.value(r.run)))
		}
		w.p("\n")
	}
	w.p("\n")
}

// runLine says which command made a run, when, and what it noted.
func (w *writer) runLine(r *Run) {
	s := r.Summary
	if s == nil {
		if len(r.Problems) > 0 {
			w.p("This run's summary could not be read (the warnings of `report` say why), so the command that made it is not known.\n\n")
		} else {
			w.p("This run has not written its summary: it is still running, or it stopped before the end.")
			if len(r.Figures) > 0 {
				w.p(" Its figures show it as far as it got.")
			}
			w.p("\n\n")
		}
		return
	}
	w.p("Made by `%s`, finished %s after %s of training and evaluation", s.Command, stamp(s.Finished), humanDuration(r.seconds()))
	if b, ok := r.config("resume").(bool); ok && b {
		w.p(" in all (the last session resumed from a checkpoint)")
	}
	w.p(".")
	switch d := s.Data; {
	case d != nil && d.Sample:
		w.p(" Data: the bundled sample (`datasets/sample/`, a small part of the full data set), as on a fresh clone.")
	case d != nil && d.FoundBy != "":
		w.p(" Data: the full data set (found by %s).", d.FoundBy)
	}
	if sp := s.Split; sp != nil {
		w.p(" Split: %s training, %s validation (held out of the training data) and %s test %s.",
			thousands(sp.Train), thousands(sp.Val), thousands(sp.Test), sp.Unit)
	}
	if m := s.Machine; m != nil {
		blas := filepath.Base(filepath.Dir(m.BLAS))
		if m.BLAS == "" || m.BLAS == "unknown" {
			blas = "unknown"
		}
		w.p(" Machine: %d cores, libtorch %s, BLAS %s", m.Cores, m.Libtorch, blas)
		if m.CPU != "" {
			w.p(", CPU %s", m.CPU)
		}
		if s.Commit != "" {
			w.p(", commit `%s`", shortCommit(s.Commit))
		}
		w.p(".")
	}
	if len(s.Notes) > 0 {
		notes := make([]string, len(s.Notes))
		for i, n := range s.Notes {
			notes[i] = strings.TrimSuffix(cell(n), ".")
		}
		w.p(" The run noted: %s.", strings.Join(notes, "; "))
	}
	w.p("\n\n")
}

func (w *writer) readmeLine(r *Run) {
	if exists(filepath.Join(r.Dir, "README.md")) {
		w.p("How it was run, and what the results mean, is in `%s/README.md`.\n\n", w.rel(r.Dir))
	}
}

func (w *writer) fullRun(spec *partSpec, r *Run) error {
	prefix := filepath.Join("img", spec.command, "full-"+filepath.Base(r.Dir))
	if !spec.perArch {
		w.runLine(r)
		w.readmeLine(r)
		return w.figureSet(spec.figures, spec.skip, true, r, prefix, w.whose(spec, r))
	}
	w.readmeLine(r)
	if err := w.figureSet(spec.top, nil, false, r, prefix, w.whose(spec, r)); err != nil {
		return err
	}
	shown := map[string]bool{}
	for _, a := range r.Subruns {
		w.p("#### The %s VAE%s\n\n", a.Name, strings.TrimPrefix(spec.variant(a), a.Name))
		w.runLine(a)
		// A model's further seeds show their curves; their pictures look
		// like the first seed's.
		figs, rest := spec.figures, true
		if shown[a.Name] && spec.laterSeedFigures != nil {
			figs, rest = spec.laterSeedFigures, false
		}
		shown[a.Name] = true
		seedDir := ""
		if a.Seed != "" {
			seedDir = "seed" + a.Seed
		}
		if err := w.figureSet(figs, spec.skip, rest, a, filepath.Join(prefix, seedDir, a.Name), w.whose(spec, a)); err != nil {
			return err
		}
	}
	return nil
}

func (w *writer) demoRun(spec *partSpec, d, base *Run, several bool) error {
	figs := spec.demoFigures
	if figs == nil {
		figs = spec.figures
	}
	whose := "Quick run on this machine"
	if d.Summary != nil {
		whose += ", " + day(d.Summary.Finished)
	}
	prefix := filepath.Join("img", spec.command, "demo")
	if !spec.perArch {
		w.runLine(d)
		w.differences(spec, d, base, several)
		return w.figureSet(figs, spec.skip, false, d, prefix, whose+".")
	}
	if base != nil && spec.demoNote != nil && len(d.Subruns) > 0 && len(base.Subruns) > 0 {
		if note := spec.demoNote(d.Subruns[0], base.Subruns[0]); note != "" {
			w.p("%s\n\n", note)
		}
	}
	if err := w.figureSet(spec.top, nil, false, d, prefix, whose+"."); err != nil {
		return err
	}
	for _, a := range d.Subruns {
		w.p("#### The %s VAE, quick\n\n", a.Name)
		w.runLine(a)
		w.differences(spec, a, base.sub(a.Name), false)
		if err := w.figureSet(figs, spec.skip, false, a, filepath.Join(prefix, a.Name), whose+", "+a.Name+"."); err != nil {
			return err
		}
	}
	return nil
}

// differences says which settings of the quick run d differ from the full
// run's.
func (w *writer) differences(spec *partSpec, d, full *Run, several bool) {
	if full == nil || full.Summary == nil || d.Summary == nil {
		return
	}
	which := "the full run"
	if several && spec.variant != nil {
		which += " (" + spec.variant(full) + ")"
	}
	diff := differences(d.Summary.ConfigMap(), full.Summary.ConfigMap())
	if len(diff) == 0 {
		w.p("Same settings as %s.\n\n", which)
		return
	}
	if len(diff) <= 2 {
		w.p("Settings that differ from %s: %s.\n\n", which, cell(strings.Join(diff, "; ")))
		return
	}
	w.p("Settings that differ from %s:\n\n", which)
	for _, d := range diff {
		w.p("- %s\n", cell(d))
	}
	w.p("\n")
}

// shortCommit is a commit's first 12 hex digits, keeping a "-dirty" mark.
func shortCommit(c string) string {
	hash, dirty, _ := strings.Cut(c, "-")
	if len(hash) > 12 {
		hash = hash[:12]
	}
	if dirty != "" {
		return hash + "-" + dirty
	}
	return hash
}
