package report

import (
	"fmt"
	"path/filepath"
	"sort"
)

// ignoredDifferences are configuration keys that always differ between two
// runs (where they wrote, whether they resumed) and say nothing about the
// settings.
var ignoredDifferences = map[string]bool{
	"out": true, "data_dir": true, "checkpoint_dir": true, "cache_dir": true, "resume": true,
}

// fileKeys are configuration keys naming data files: two runs differ in
// them only when the file names differ, not the folders they were in.
var fileKeys = map[string]bool{"train": true, "test": true}

// differences lists, in words, the settings of run that differ from base's:
// "epochs: 1 instead of 5". Keys only one of them has are included.
func differences(run, base map[string]any) []string {
	keys := map[string]bool{}
	for k := range run {
		keys[k] = true
	}
	for k := range base {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		if !ignoredDifferences[k] {
			sorted = append(sorted, k)
		}
	}
	sort.Strings(sorted)
	var out []string
	for _, k := range sorted {
		a, okA := run[k]
		b, okB := base[k]
		switch {
		case !okA:
			out = append(out, fmt.Sprintf("%s: not recorded (full run: %s)", settingLabel(k), settingValue(k, b)))
		case !okB:
			out = append(out, fmt.Sprintf("%s: %s (not recorded for the full run)", settingLabel(k), settingValue(k, a)))
		case fileKeys[k] && filepath.Base(plain(a)) == filepath.Base(plain(b)):
		case plain(a) != plain(b):
			out = append(out, fmt.Sprintf("%s: %s instead of %s", settingLabel(k), settingValue(k, a), settingValue(k, b)))
		}
	}
	return out
}
