// Package checkpoint saves and restores a training run: the model's weights
// and buffers, the optimiser's state, libtorch's RNG state, the step, and
// the run's configuration as JSON beside them, so that --resume, predict and
// plots can rebuild everything from the folder alone.
//
// Tensors go into checkpoint.npz (readable by numpy.load, so a PyTorch user
// can load them with no Go), metadata into checkpoint.json.
//
// A checkpoint is replaced, never overwritten: Save writes both files into
// a new folder beside dir (<dir>.new), syncs them and the folder, moves the
// current checkpoint aside to <dir>.prev, renames the new folder to dir and
// syncs the parent. After a crash or power cut at any point, dir holds the
// new complete checkpoint or is absent, and then <dir>.prev holds the
// previous complete one; Load falls back to <dir>.prev also when dir's
// files are unreadable (a truncated or empty checkpoint.npz), and says in
// Meta.Found which one it loaded.
package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"torchlab/torch/durable"
	"torchlab/torch/fused"
	"torchlab/torch/npz"
	"torchlab/torch/optim"
	"torchlab/torch/tensors"
)

const (
	tensorsFile = "checkpoint.npz"
	metaFile    = "checkpoint.json"
	modelPrefix = "model."
	optimPrefix = "optim."
	rngName     = "rng_state"
	stepName    = "step"
	newSuffix   = ".new"  // the checkpoint being written
	prevSuffix  = ".prev" // the checkpoint before the current one
)

// Meta is what checkpoint.json holds.
type Meta struct {
	Step           int64            `json:"step"`  // optimiser steps done
	Epoch          int              `json:"epoch"` // epochs completed
	Seed           int64            `json:"seed"`
	OptimizerSteps int64            `json:"optimizer_steps"`
	ParamSteps     map[string]int64 `json:"param_steps,omitempty"` // each parameter's own update count (Adam's step)
	Optimizer      optim.Config     `json:"optimizer"`
	Config         json.RawMessage  `json:"config"` // the command's own configuration
	Saved          time.Time        `json:"saved"`
	Seconds        float64          `json:"seconds"`                // training time so far (evaluations included)
	StepSeconds    float64          `json:"step_seconds,omitempty"` // of which in optimiser steps, where a command counts it

	// Found says which checkpoint ReadMeta or Load read: dir, or the
	// previous one and why dir was passed over. Not saved.
	Found string `json:"-"`
	// Dir is the folder Found names: dir or <dir>.prev. Not saved.
	Dir string `json:"-"`
}

// Exists reports whether dir holds a checkpoint, or the previous one a crash
// during Save left beside it.
func Exists(dir string) bool {
	for _, d := range []string{dir, dir + prevSuffix} {
		if _, err := os.Stat(filepath.Join(d, metaFile)); err == nil {
			return true
		}
	}
	return false
}

// Remove deletes the checkpoint in dir, the previous one and any save left
// unfinished beside it.
func Remove(dir string) error {
	for _, d := range []string{dir, dir + newSuffix, dir + prevSuffix} {
		if err := os.RemoveAll(d); err != nil {
			return fmt.Errorf("remove checkpoint: %w", err)
		}
	}
	return nil
}

// crashPoint, when set by a test, is called at every point of Save where a
// crash leaves a different state on disk.
var crashPoint func(point string)

func reached(point string) {
	if crashPoint != nil {
		crashPoint(point)
	}
}

// Save writes model (name -> tensor), the optimiser's state (nil for none)
// and libtorch's RNG state to dir, with meta and config as JSON.
func Save(dir string, meta Meta, config any, model map[string]*ts.Tensor, opt *optim.Optimizer) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	arrays := map[string]npz.Array{}
	for name, t := range model {
		a, err := tensors.ToArray(t)
		if err != nil {
			return fmt.Errorf("save %s: %w", name, err)
		}
		arrays[modelPrefix+name] = a
	}
	if opt != nil {
		state, steps := opt.State()
		for name, t := range state {
			a, err := tensors.ToArray(t)
			if err != nil {
				return fmt.Errorf("save optimizer %s: %w", name, err)
			}
			arrays[optimPrefix+name] = a
		}
		meta.OptimizerSteps = steps
		meta.ParamSteps = opt.ParamSteps()
		meta.Optimizer = opt.Config()
	}
	rng, err := rngArray()
	if err != nil {
		return err
	}
	arrays[rngName] = rng
	arrays[stepName] = npz.Int64([]int64{meta.Step}, 1)
	cfg, err := json.Marshal(config)
	if err != nil {
		return fmt.Errorf("checkpoint config: %w", err)
	}
	meta.Config = cfg
	meta.Saved = time.Now().UTC()
	metaJSON, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return err
	}
	return replace(dir, arrays, append(metaJSON, '\n'))
}

// replace writes a checkpoint's two files into <dir>.new and swaps that
// folder in for dir, keeping the current one as <dir>.prev (see the package
// comment).
func replace(dir string, arrays map[string]npz.Array, metaJSON []byte) error {
	parent := filepath.Dir(dir)
	next, prev := dir+newSuffix, dir+prevSuffix
	// A leftover <dir>.new is a save that did not finish.
	if err := os.RemoveAll(next); err != nil {
		return fmt.Errorf("save %s: %w", dir, err)
	}
	reached("cleared")
	if err := os.MkdirAll(next, 0o755); err != nil {
		return fmt.Errorf("save %s: %w", dir, err)
	}
	reached("folder created")
	err := writeSynced(filepath.Join(next, tensorsFile), "tensors", func(f *durable.File) error {
		return npz.Encode(f, f.Name(), arrays)
	})
	if err == nil {
		err = writeSynced(filepath.Join(next, metaFile), "metadata", func(f *durable.File) error {
			_, err := f.Write(metaJSON)
			return err
		})
	}
	if err == nil {
		err = durable.SyncDir(next)
	}
	if err == nil {
		err = durable.SyncDir(parent)
	}
	if err != nil {
		return errors.Join(fmt.Errorf("save %s: %w", dir, err), os.RemoveAll(next))
	}
	reached("new folder synced")
	if _, err := os.Stat(dir); err == nil {
		// Only while dir exists is <dir>.prev not the last complete
		// checkpoint.
		if err := os.RemoveAll(prev); err != nil {
			return fmt.Errorf("save %s: %w", dir, err)
		}
		reached("previous removed")
		if err := os.Rename(dir, prev); err != nil {
			return fmt.Errorf("save %s: %w", dir, err)
		}
		reached("current moved aside")
	}
	if err := os.Rename(next, dir); err != nil {
		return fmt.Errorf("save %s: %w", dir, err)
	}
	reached("new folder renamed")
	if err := durable.SyncDir(parent); err != nil {
		return fmt.Errorf("save %s: %w", dir, err)
	}
	reached("parent synced")
	return nil
}

// writeSynced creates path, fills it and syncs it, marking each point for
// the crash tests with what (tensors, metadata).
func writeSynced(path, what string, fill func(*durable.File) error) error {
	f, err := durable.Create(path, 0o644)
	if err != nil {
		return err
	}
	reached(what + " created")
	err = fill(f)
	if err == nil {
		reached(what + " written")
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close %s: %w", path, cerr)
	}
	if err == nil {
		reached(what + " synced")
	}
	return err
}

// ReadMeta reads checkpoint.json from dir, or from the previous checkpoint
// when dir has none or an unreadable one.
func ReadMeta(dir string) (*Meta, error) {
	var meta *Meta
	err := candidates(dir, func(d string) error {
		m, err := readMeta(d)
		meta = m
		return err
	})
	if err != nil {
		return nil, err
	}
	return meta, nil
}

func readMeta(dir string) (*Meta, error) {
	path := filepath.Join(dir, metaFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	var m Meta
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	m.Found, m.Dir = dir, dir
	return &m, nil
}

// candidates calls read on dir, then, if that fails, on the previous
// checkpoint; read must set Meta.Found. It returns dir's error when neither
// can be read.
func candidates(dir string, read func(string) error) error {
	first := read(dir)
	if first == nil {
		return nil
	}
	prev := dir + prevSuffix
	if _, err := os.Stat(prev); err != nil {
		return first
	}
	if err := read(prev); err != nil {
		return fmt.Errorf("%w; the previous checkpoint: %w", first, err)
	}
	return nil
}

// Load copies a checkpoint's tensors into model (every name must match, with
// its shape), restores opt's state when opt is not nil, and restores
// libtorch's RNG state. It returns the metadata. When dir's files cannot be
// read (a save that never completed, a truncated file) it loads the
// previous checkpoint instead and says so in Meta.Found.
func Load(dir string, model map[string]*ts.Tensor, opt *optim.Optimizer) (*Meta, error) {
	meta, arrays, path, err := openNewest(dir)
	if err != nil {
		return nil, err
	}
	var missing []string
	for name, dst := range model {
		a, ok := arrays[modelPrefix+name]
		if !ok {
			missing = append(missing, name)
			continue
		}
		if err := tensors.Assign(dst, a); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, name, err)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s lacks %s: was it saved by another model configuration?", path, strings.Join(missing, ", "))
	}
	for name := range arrays {
		if n := strings.TrimPrefix(name, modelPrefix); n != name {
			if _, ok := model[n]; !ok {
				return nil, fmt.Errorf("%s has %s, which this model does not", path, n)
			}
		}
	}
	if opt != nil {
		state := map[string]*ts.Tensor{}
		for name, a := range arrays {
			if n := strings.TrimPrefix(name, optimPrefix); n != name {
				t, err := tensors.FromArray(a)
				if err != nil {
					return nil, err
				}
				defer t.MustDrop()
				state[n] = t
			}
		}
		if err := opt.Load(state, meta.OptimizerSteps, meta.ParamSteps); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	if a, ok := arrays[rngName]; ok {
		if err := setRNG(a); err != nil {
			return nil, fmt.Errorf("%s: rng state: %w", path, err)
		}
	}
	return meta, nil
}

// open reads the checkpoint in dir and checks that its two files belong to
// the same save.
func open(dir string) (*Meta, map[string]npz.Array, error) {
	meta, err := readMeta(dir)
	if err != nil {
		return nil, nil, err
	}
	path := filepath.Join(dir, tensorsFile)
	arrays, err := npz.Read(path)
	if err != nil {
		return nil, nil, err
	}
	if s, ok := arrays[stepName]; !ok || len(s.I64) != 1 || s.I64[0] != meta.Step {
		return nil, nil, fmt.Errorf("%s does not belong to %s (step %v vs %d): the last save was interrupted", path, metaFile, s.I64, meta.Step)
	}
	return meta, arrays, nil
}

func rngArray() (npz.Array, error) {
	state, err := fused.RNGState()
	if err != nil {
		return npz.Array{}, err
	}
	defer state.MustDrop()
	wide, err := state.Totype(gotch.Int64, false)
	if err != nil {
		return npz.Array{}, err
	}
	defer wide.MustDrop()
	return tensors.ToArray(wide)
}

func setRNG(a npz.Array) error {
	if a.I64 == nil {
		return errors.New("not an integer array")
	}
	wide, err := tensors.FromArray(a)
	if err != nil {
		return err
	}
	defer wide.MustDrop()
	state, err := wide.Totype(gotch.Uint8, false)
	if err != nil {
		return err
	}
	defer state.MustDrop()
	return fused.SetRNGState(state)
}

// openNewest opens the checkpoint in dir, or the previous one when dir's
// cannot be read (Meta.Found says so), and returns its metadata, tensors
// and the path of its tensors file.
func openNewest(dir string) (*Meta, map[string]npz.Array, string, error) {
	var meta *Meta
	var arrays map[string]npz.Array
	from := dir
	err := candidates(dir, func(d string) error {
		m, a, err := open(d)
		meta, arrays, from = m, a, d
		return err
	})
	if err != nil {
		return nil, nil, "", err
	}
	if from != dir {
		_, _, skipped := open(dir)
		meta.Found = fmt.Sprintf("%s, the previous checkpoint (%v)", from, skipped)
	}
	return meta, arrays, filepath.Join(from, tensorsFile), nil
}

// Weights reads the model's tensors of the checkpoint in dir under their
// own names (a PyTorch state_dict's keys), with the checkpoint's metadata;
// no model is needed.
func Weights(dir string) (map[string]npz.Array, *Meta, error) {
	meta, arrays, path, err := openNewest(dir)
	if err != nil {
		return nil, nil, err
	}
	model := map[string]npz.Array{}
	for name, a := range arrays {
		if n := strings.TrimPrefix(name, modelPrefix); n != name {
			model[n] = a
		}
	}
	if len(model) == 0 {
		return nil, nil, fmt.Errorf("%s holds no model tensors", path)
	}
	return model, meta, nil
}
