package assignment

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"torchlab/internal/report"
	"torchlab/internal/runrec"
)

// Config says what Write reads and how it words the page.
type Config struct {
	Dir        string         // the assignment's folder: one folder per part (Part.Dir)
	ResultsDir string         // the committed runs (docs/results)
	Want       map[string]int // epochs or iterations per training part's name
	Target     time.Duration  // the whole assignment's wall-time target
	Smoke      bool           // tiny settings: the comparisons are not expected to pass
	Command    string         // how the page was made, e.g. "make assignment"
	Commit     string         // the checkout's commit
	Now        time.Time
}

// Row is one part's line of the table.
type Row struct {
	Part      Part
	State     State
	Wall      float64 // seconds; NaN when the part never ran
	WallFrom  string  // where Wall comes from
	Sessions  int
	Train     float64 // summary.json "seconds": training time of the whole run, evaluations included; NaN if none
	Steps     float64 // summary.json step_seconds: optimiser steps only; NaN if not recorded
	Machine   string
	Result    string // the main result, in words
	Committed string // the committed one
	Pass      string // "pass", "fail" or "-"
	Command   string // summary.json's command
}

// Rows reads every part's folder and the committed runs.
func Rows(cfg Config) ([]Row, error) {
	rows := make([]Row, 0, len(Parts))
	for _, p := range Parts {
		r, err := row(cfg, p)
		if err != nil {
			return nil, fmt.Errorf("part %s: %w", p.Name, err)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

func row(cfg Config, p Part) (Row, error) {
	dir := filepath.Join(cfg.Dir, p.Dir)
	r := Row{Part: p, Wall: math.NaN(), Train: math.NaN(), Steps: math.NaN(), Pass: "-", Result: "not run", Committed: "-", Machine: "-"}
	state, why, err := Status(p, dir, cfg.Want[p.Name])
	if err != nil {
		return r, err
	}
	r.State = state
	sessions, err := ReadSessions(dir)
	if err != nil {
		return r, err
	}
	r.Sessions = len(sessions)
	if len(sessions) > 0 {
		r.Wall, r.WallFrom = 0, SessionsFile
		for _, s := range sessions {
			r.Wall += s.Seconds
		}
		last := sessions[len(sessions)-1]
		r.Machine = machineWords(last.CPU, last.Cores)
	}
	switch p.Kind {
	case CNN:
		return cnnRow(cfg, r, dir)
	case Report:
		if _, err := os.Stat(filepath.Join(dir, ReportFile)); err == nil && len(sessions) > 0 && sessions[len(sessions)-1].Exit == 0 {
			r.State, r.Result, r.Pass = Done, "written: "+filepath.Join(dir, ReportFile), "pass"
		} else if len(sessions) > 0 {
			r.Result, r.Pass = "failed", "fail"
		}
		return r, nil
	}
	s, err := readSummary(dir)
	if err != nil || s == nil {
		return r, err
	}
	r.Command, r.Train = s.Command, s.Seconds
	if v, ok := s.Results[runrec.StepSeconds]; ok {
		r.Steps = v
	}
	if len(sessions) == 0 && s.Wall > 0 {
		r.Wall, r.WallFrom = s.Wall, "summary.json wall_seconds (its last session)"
	}
	if s.Machine != nil {
		cpu, _, _ := strings.Cut(s.Machine.CPU, ";")
		r.Machine = machineWords(cpu, s.Machine.Cores)
	}
	committed, err := committedValue(cfg, p)
	if err != nil {
		return r, err
	}
	r.Committed = p.format(committed)
	v, ok := s.Results[p.Metric]
	switch {
	case r.State != Done:
		r.Result = "incomplete: " + why
	case !ok:
		r.Result, r.Pass = "no "+p.Metric+" in summary.json", "fail"
	default:
		r.Result = p.format(v)
		r.Pass = "fail"
		if p.Within(v, committed) {
			r.Pass = "pass"
		}
	}
	return r, nil
}

// cnnRow compares the CNN part's answers with the committed ones.
func cnnRow(cfg Config, r Row, dir string) (Row, error) {
	r.Committed = filepath.Join(cfg.ResultsDir, CNNFile)
	if r.State != Done {
		return r, nil
	}
	got, err := os.ReadFile(filepath.Join(dir, CNNFile))
	if err != nil {
		return r, err
	}
	want, err := os.ReadFile(filepath.Join(cfg.ResultsDir, r.Part.Committed))
	if err != nil {
		return r, fmt.Errorf("read the committed answers: %w", err)
	}
	r.Result, r.Pass = "the same text", "pass"
	if !bytes.Equal(got, want) {
		r.Result, r.Pass = "differs from the committed text", "fail"
	}
	return r, nil
}

// committedValue is the committed run's main result.
func committedValue(cfg Config, p Part) (float64, error) {
	path := filepath.Join(cfg.ResultsDir, p.Committed)
	s, err := runrec.Read(filepath.Dir(path))
	if err != nil {
		return 0, fmt.Errorf("read the committed run: %w", err)
	}
	v, ok := s.Results[p.Metric]
	if !ok {
		return 0, fmt.Errorf("%s has no %s", path, p.Metric)
	}
	return v, nil
}

// Within says whether v is within the part's tolerance of the committed
// value; false when either is NaN.
func (p Part) Within(v, committed float64) bool {
	if p.Percent {
		return math.Abs(v-committed)*100 <= p.Tol
	}
	return math.Abs(v-committed) <= p.Tol*math.Abs(committed)
}

// format writes a value of the part's metric.
func (p Part) format(v float64) string {
	if p.Percent {
		return fmt.Sprintf("%.2f %%", 100*v)
	}
	return fmt.Sprintf("%.1f", v)
}

// tolerance writes the part's tolerance.
func (p Part) tolerance() string {
	switch {
	case p.Kind == CNN:
		return "identical"
	case p.Kind == Report:
		return "-"
	case p.Percent:
		return fmt.Sprintf("± %g points", p.Tol)
	}
	return fmt.Sprintf("± %g %%", 100*p.Tol)
}

func machineWords(cpu string, cores int) string {
	cpu = strings.TrimSpace(cpu)
	if cpu == "" {
		cpu = "CPU not recorded"
	}
	return fmt.Sprintf("%s, %d cores", cpu, cores)
}

// duration writes seconds for the table; "-" when unknown.
func duration(sec float64) string {
	if math.IsNaN(sec) {
		return "-"
	}
	return report.HumanDuration(sec)
}

// Write writes the page for rows to w and says whether the whole
// assignment passed: every part done and within its tolerance, and the
// total wall time within the target.
func Write(w io.Writer, cfg Config, rows []Row) (bool, error) {
	var b strings.Builder
	pf := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	pf("# The assignment, reproduced by one command\n\n")
	pf("Written by `%s` (scripts/assignment.sh) on %s from commit %s; the runs are in `%s`. ",
		cfg.Command, cfg.Now.UTC().Format("2006-01-02 15:04 UTC"), cfg.Commit, cfg.Dir)
	pf("Each part is its own run, resumed from its checkpoint when a session stopped it and skipped when its " +
		"summary.json says it finished all its steps; the times come from the runs' own records.\n\n")
	if cfg.Smoke {
		pf("**SMOKE RUN: tiny settings (1 epoch, 200 iterations, a few hundred images). It shows that the " +
			"script runs end to end; its results are not expected to match the committed runs.**\n\n")
	}
	pf("| part | state | wall time | training time (steps only) | machine | main result | committed | tolerance | |\n")
	pf("|---|---|---|---|---|---|---|---|---|\n")
	total, all := 0.0, true
	for _, r := range rows {
		if !math.IsNaN(r.Wall) {
			total += r.Wall
		}
		all = all && r.State == Done && r.Pass == "pass"
		train := duration(r.Train)
		if !math.IsNaN(r.Steps) {
			train += " (" + duration(r.Steps) + ")"
		}
		wall := duration(r.Wall)
		if r.Sessions > 1 {
			wall += fmt.Sprintf(" in %d sessions", r.Sessions)
		}
		result := r.Result
		if r.Part.Label != "" && r.State == Done {
			result = r.Part.Label + ": " + result
		}
		pf("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.Part.Name, r.State, wall, train, r.Machine,
			result, r.Committed, r.Part.tolerance(), r.Pass)
	}
	target := cfg.Target.Seconds()
	inTime := total <= target
	verdict := "fail"
	if all && inTime {
		verdict = "pass"
	}
	pf("| **total** | | **%s** | | | | | ≤ %s | **%s** |\n\n", duration(total), duration(target), verdict)
	if !all {
		pf("Not every part is done and within its tolerance yet, so the whole does not pass.\n\n")
	}
	pf("Wall time is the sum of the part's sessions as the script logged them (`%s` in its folder), "+
		"or, for a run made outside the script, its summary.json's `wall_seconds`. Training time is summary.json's "+
		"`seconds` (the whole run, resumed sessions and evaluations included), with `step_seconds` (optimiser "+
		"steps only) in brackets where the command records it.\n\n", SessionsFile)
	pf("## Tolerances\n\n")
	for _, r := range rows {
		pf("- **%s** (%s): %s.\n", r.Part.Name, r.Part.tolerance(), r.Part.Why)
	}
	pf("\n## Commands\n\n")
	for _, r := range rows {
		if r.Command != "" {
			pf("- **%s**: `%s`\n", r.Part.Name, r.Command)
		}
	}
	pf("\nThe committed runs: `%s`.\n", cfg.ResultsDir)
	_, err := io.WriteString(w, b.String())
	return all && inTime, err
}
