package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// runFiles are what a training run leaves in its --out that mark the
// folder as holding a run; --overwrite removes them (figures are
// redrawn by the new run).
var runFiles = []string{"metrics.csv", "summary.json", "checkpoint", "best"}

// ClaimOut readies --out for a training run, before any data is loaded.
// A folder that already holds a run (metrics.csv, summary.json, a
// checkpoint or best/; checkpointDir too when it lies elsewhere) is
// refused with a UsageError naming it, unless --resume continues that
// run or --overwrite replaces it, whose run files are then removed so
// that nothing of the old run stays beside the new one.
//
// tidy removes the folders that did not exist before ClaimOut and are
// still empty, so that a run that fails before writing anything leaves no
// empty folder behind; call it when the run returns.
func (c *Common) ClaimOut(checkpointDir string) (tidy func(), err error) {
	tidy = func() {}
	if c.Resume && c.Overwrite {
		return tidy, errResumeOverwrite(c.Out)
	}
	marks := []string{}
	var paths []string
	for _, name := range runFiles {
		paths = append(paths, filepath.Join(c.Out, name))
	}
	if checkpointDir != "" && !slices.Contains(paths, filepath.Clean(checkpointDir)) {
		paths = append(paths, filepath.Clean(checkpointDir))
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			marks = append(marks, p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return tidy, fmt.Errorf("--out: %w", err)
		}
	}
	if len(marks) > 0 && !c.Resume {
		if !c.Overwrite {
			return tidy, Usagef("%s already holds a run (%s): continue it with --resume, replace it with --overwrite, or give another --out",
				c.Out, strings.Join(relative(c.Out, marks), ", "))
		}
		for _, p := range marks {
			if err := os.RemoveAll(p); err != nil {
				return tidy, fmt.Errorf("--overwrite: %w", err)
			}
		}
	}
	var missing []string // deepest first
	for dir := filepath.Clean(c.Out); ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(dir); err == nil || dir == filepath.Dir(dir) {
			break
		}
		missing = append(missing, dir)
	}
	return func() {
		for _, dir := range missing {
			if os.Remove(dir) != nil { // not empty, or already gone
				return
			}
		}
	}, nil
}

func errResumeOverwrite(out string) error {
	return Usagef("--resume continues the run in %s and --overwrite replaces it: give one", out)
}

// InOut runs a training run in --out: ClaimOut, then run, then the tidy.
func (c *Common) InOut(checkpointDir string, run func() error) error {
	tidy, err := c.ClaimOut(checkpointDir)
	if err != nil {
		return err
	}
	defer tidy()
	return run()
}

// relative names paths by their place under dir, for messages.
func relative(dir string, paths []string) []string {
	var names []string
	for _, p := range paths {
		if r, err := filepath.Rel(dir, p); err == nil && !strings.HasPrefix(r, "..") {
			p = r
		}
		names = append(names, p)
	}
	return names
}
