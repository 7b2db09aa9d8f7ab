package train

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"torchlab/torch/checkpoint"
)

// AlwaysMayChange are the flags a resumed run of any command may change:
// where things are and how fast they run, never what is computed.
var AlwaysMayChange = []string{"out", "data-dir", "threads", "blas-threads", "device", "dist-timeout", "log-all-ranks", "resume",
	"on-divergence", "divergence-factor"}

// ResumeConfig is the one resume policy: a resumed run keeps the
// configuration saved in its checkpoint. fresh is a new FlagSet of the
// command bound to into (a zero or default configuration); the saved JSON
// is read into into, then every flag typed on the command line (typed)
// whose value differs from the checkpoint's is applied if it is in
// mayChange (or AlwaysMayChange), and is an error naming it otherwise.
func ResumeConfig(typed, fresh *pflag.FlagSet, saved json.RawMessage, into any, mayChange []string) error {
	if err := json.Unmarshal(saved, into); err != nil {
		return fmt.Errorf("--resume: the checkpoint's configuration: %w", err)
	}
	var refused []string
	var err error
	typed.Visit(func(f *pflag.Flag) {
		if err != nil {
			return
		}
		cur := fresh.Lookup(f.Name)
		if cur == nil {
			err = fmt.Errorf("--resume: flag --%s has no place in the saved configuration", f.Name)
			return
		}
		val := f.Value.String()
		if cur.Value.String() == val {
			return // the same value as the checkpoint's: nothing changes
		}
		if !slices.Contains(mayChange, f.Name) && !slices.Contains(AlwaysMayChange, f.Name) {
			refused = append(refused, fmt.Sprintf("--%s %s (checkpoint: %s)", f.Name, val, cur.Value.String()))
			return
		}
		err = fresh.Set(f.Name, val)
	})
	if err != nil {
		return err
	}
	if len(refused) > 0 {
		return fmt.Errorf("--resume keeps the checkpoint's configuration, and %s would change the model, the data or the optimisation; "+
			"start a new --out instead (flags that may change on resume: %s)", strings.Join(refused, ", "), MayChangeList(mayChange))
	}
	return nil
}

// MayChangeList names the flags a resumed run may change, for --help.
func MayChangeList(mayChange []string) string {
	var names []string
	for _, n := range append(slices.Clone(AlwaysMayChange), mayChange...) {
		if n != "resume" {
			names = append(names, "--"+n)
		}
	}
	return strings.Join(names, ", ")
}

// Resume is ResumeConfig for the checkpoint in dir: into (a default
// configuration) becomes the saved one, with the typed flags in mayChange
// applied. newFlags registers the command's flags on a new FlagSet bound
// to its argument.
func Resume[C any](typed *pflag.FlagSet, dir string, into *C, newFlags func(*C) (*pflag.FlagSet, error), mayChange []string) error {
	if !checkpoint.Exists(dir) {
		return fmt.Errorf("--resume: no checkpoint in %s", dir)
	}
	meta, err := checkpoint.ReadMeta(dir)
	if err != nil {
		return fmt.Errorf("--resume: %w", err)
	}
	fresh, err := newFlags(into)
	if err != nil {
		return err
	}
	return ResumeConfig(typed, fresh, meta.Config, into, mayChange)
}

// SavedConfigHas says whether the configuration saved in the checkpoint in
// dir has the top-level key. A flag added after a checkpoint was written
// takes its default on --resume; when that default changes what is computed
// (a validation split, say), the command sets the value the old run used.
func SavedConfigHas(dir, key string) (bool, error) {
	meta, err := checkpoint.ReadMeta(dir)
	if err != nil {
		return false, fmt.Errorf("--resume: %w", err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(meta.Config, &keys); err != nil {
		return false, fmt.Errorf("--resume: the checkpoint's configuration: %w", err)
	}
	_, ok := keys[key]
	return ok, nil
}
