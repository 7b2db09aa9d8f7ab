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
	saved, err := withLegacyKeys(meta.Config)
	if err != nil {
		return fmt.Errorf("--resume: the checkpoint's configuration: %w", err)
	}
	fresh, err := newFlags(into)
	if err != nil {
		return err
	}
	return ResumeConfig(typed, fresh, saved, into, mayChange)
}

// legacyKeys are configuration keys added after checkpoints were written
// whose flag's default would change what an old run computes, with the
// value those runs used: a checkpoint from before --val-fraction trained
// on all of its training data, and one from before --split-seed drew its
// data split with --seed (split_seed 0 says so).
var legacyKeys = map[string]json.RawMessage{"val_fraction": json.RawMessage("0"), "split_seed": json.RawMessage("0")}

// withLegacyKeys is a saved configuration with the legacyKeys it lacks
// added: the one migration of old checkpoints' configurations.
func withLegacyKeys(saved json.RawMessage) (json.RawMessage, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(saved, &keys); err != nil {
		return nil, err
	}
	changed := false
	for k, v := range legacyKeys {
		if _, ok := keys[k]; !ok {
			keys[k], changed = v, true
		}
	}
	if !changed {
		return saved, nil
	}
	return json.Marshal(keys)
}
