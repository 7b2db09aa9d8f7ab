// Package checkpoint saves and restores a training run: the model's weights
// and buffers, the optimiser's state, libtorch's RNG state, the step, and
// the run's configuration as JSON beside them, so that --resume, predict and
// plots can rebuild everything from the folder alone.
//
// Tensors go into checkpoint.npz (readable by numpy.load, so a PyTorch user
// can load them with no Go), metadata into checkpoint.json. Both are written
// to temporary files and renamed, so an interrupted save leaves the previous
// checkpoint intact.
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
)

// Meta is what checkpoint.json holds.
type Meta struct {
	Step           int64           `json:"step"`  // optimiser steps done
	Epoch          int             `json:"epoch"` // epochs completed
	Seed           int64           `json:"seed"`
	OptimizerSteps int64           `json:"optimizer_steps"`
	Optimizer      optim.Config    `json:"optimizer"`
	Config         json.RawMessage `json:"config"` // the command's own configuration
	Saved          time.Time       `json:"saved"`
	Seconds        float64         `json:"seconds"`                // training time so far (evaluations included)
	StepSeconds    float64         `json:"step_seconds,omitempty"` // of which in optimiser steps, where a command counts it
}

// Exists reports whether dir holds a checkpoint.
func Exists(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, metaFile))
	return err == nil
}

// Save writes model (name -> tensor), the optimiser's state (nil for none)
// and libtorch's RNG state to dir, with meta and config as JSON.
func Save(dir string, meta Meta, config any, model map[string]*ts.Tensor, opt *optim.Optimizer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
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
	if err := npz.Write(filepath.Join(dir, tensorsFile+".tmp"), arrays); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, metaFile+".tmp"), append(metaJSON, '\n'), 0o644); err != nil {
		return err
	}
	// The tensors land first: a crash between the renames leaves new tensors
	// with the old step, which Load rejects by checking the step recorded in
	// both files.
	arrays = nil
	if err := os.Rename(filepath.Join(dir, tensorsFile+".tmp"), filepath.Join(dir, tensorsFile)); err != nil {
		return err
	}
	return os.Rename(filepath.Join(dir, metaFile+".tmp"), filepath.Join(dir, metaFile))
}

// ReadMeta reads checkpoint.json from dir.
func ReadMeta(dir string) (*Meta, error) {
	b, err := os.ReadFile(filepath.Join(dir, metaFile))
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	var m Meta
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Join(dir, metaFile), err)
	}
	return &m, nil
}

// Load copies a checkpoint's tensors into model (every name must match, with
// its shape), restores opt's state when opt is not nil, and restores
// libtorch's RNG state. It returns the metadata.
func Load(dir string, model map[string]*ts.Tensor, opt *optim.Optimizer) (*Meta, error) {
	arrays, meta, path, err := read(dir)
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
		if err := opt.Load(state, meta.OptimizerSteps); err != nil {
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

// Weights reads the model's tensors of the checkpoint in dir under their
// own names (a PyTorch state_dict's keys), with the checkpoint's metadata;
// no model is needed.
func Weights(dir string) (map[string]npz.Array, *Meta, error) {
	arrays, meta, path, err := read(dir)
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

// read reads the tensors and metadata of the checkpoint in dir and checks
// that they belong together; path is the tensors' file.
func read(dir string) (arrays map[string]npz.Array, meta *Meta, path string, err error) {
	if meta, err = ReadMeta(dir); err != nil {
		return nil, nil, "", err
	}
	path = filepath.Join(dir, tensorsFile)
	if arrays, err = npz.Read(path); err != nil {
		return nil, nil, "", err
	}
	if s, ok := arrays[stepName]; !ok || len(s.I64) != 1 || s.I64[0] != meta.Step {
		return nil, nil, "", fmt.Errorf("%s does not belong to %s (step %v vs %d): the last save was interrupted", path, metaFile, s.I64, meta.Step)
	}
	return arrays, meta, path, nil
}
