// Package statedict moves a model's weights in and out of PyTorch's own
// files: a .pt state_dict (torch.save / torch.load, torch/ptfile) or a
// .safetensors file (torch/safetensors). A model here is its variables by
// name (tensors.Named), whose names are PyTorch's state_dict keys.
//
// Load checks the file against the model the way load_state_dict(strict=True)
// does, and a mismatch is one error listing every missing, unexpected and
// mis-shaped key.
package statedict

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sugarme/gotch/ts"

	"torchlab/torch/npz"
	"torchlab/torch/ptfile"
	"torchlab/torch/safetensors"
	"torchlab/torch/tensors"
)

// The file formats, as the --format flag spells them.
const (
	PT          = "pt"
	SafeTensors = "safetensors"
)

// Formats lists the formats, for usage text.
var Formats = []string{PT, SafeTensors}

// FormatOf is the format a file name says: .safetensors, else .pt, .pth
// or .bin (PyTorch's usual suffixes for torch.save files).
func FormatOf(path string) (string, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".safetensors":
		return SafeTensors, nil
	case ".pt", ".pth", ".bin":
		return PT, nil
	}
	return "", fmt.Errorf("%s: cannot tell the format from the name (want .pt, .pth, .bin or .safetensors)", path)
}

// Write stores weights at path in format. A .pt file holds the tensors
// only (torch.load returns a plain dict); metadata goes into a
// .safetensors file's header. It writes a temporary file and renames it,
// so a failed write leaves no half file under path's name.
func Write(path, format string, weights map[string]npz.Array, metadata map[string]string) error {
	var data []byte
	var err error
	switch format {
	case PT:
		data, err = ptfile.Encode(weights)
	case SafeTensors:
		data, err = safetensors.Encode(weights, metadata)
	default:
		err = fmt.Errorf("unknown format %q (want %s)", format, strings.Join(Formats, " or "))
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Read loads the weights of a .pt or .safetensors file, and a
// .safetensors file's metadata (nil otherwise).
func Read(path string) (map[string]npz.Array, map[string]string, error) {
	format, err := FormatOf(path)
	if err != nil {
		return nil, nil, err
	}
	if format == SafeTensors {
		return safetensors.Read(path)
	}
	w, err := ptfile.Read(path)
	return w, nil, err
}

// Mismatch is a file whose keys or shapes are not the model's, in
// load_state_dict's terms.
type Mismatch struct {
	Path       string
	Missing    []string // the model's, absent from the file
	Unexpected []string // the file's, absent from the model
	Misshaped  []string // "name: shape [..] in the file, [..] in the model"
}

func (m *Mismatch) Error() string {
	var parts []string
	if len(m.Missing) > 0 {
		parts = append(parts, "missing key(s): "+quoted(m.Missing))
	}
	if len(m.Unexpected) > 0 {
		parts = append(parts, "unexpected key(s): "+quoted(m.Unexpected))
	}
	if len(m.Misshaped) > 0 {
		parts = append(parts, "size mismatch for "+strings.Join(m.Misshaped, "; "))
	}
	return fmt.Sprintf("%s does not fit this model: %s (was it made for another architecture or configuration?)", m.Path, strings.Join(parts, "; "))
}

func quoted(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = `"` + n + `"`
	}
	return strings.Join(q, ", ")
}

// Check compares weights read from path with model: every name on both
// sides, each with the model's shape. It returns a *Mismatch or nil.
func Check(path string, model map[string]*ts.Tensor, weights map[string]npz.Array) error {
	m := &Mismatch{Path: path}
	for _, name := range tensors.SortedNames(model) {
		a, ok := weights[name]
		if !ok {
			m.Missing = append(m.Missing, name)
			continue
		}
		shape, err := model[name].Size()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if fmt.Sprint(shape) != fmt.Sprint(a.Shape) {
			m.Misshaped = append(m.Misshaped, fmt.Sprintf("%s: shape %v in the file, %v in the model", name, a.Shape, shape))
		}
	}
	for name := range weights {
		if _, ok := model[name]; !ok {
			m.Unexpected = append(m.Unexpected, name)
		}
	}
	sort.Strings(m.Unexpected)
	if len(m.Missing)+len(m.Unexpected)+len(m.Misshaped) > 0 {
		return m
	}
	return nil
}

// Load reads the file at path and copies its weights into model, after
// Check: nothing is copied unless every key and shape fits.
func Load(path string, model map[string]*ts.Tensor) error {
	weights, _, err := Read(path)
	if err != nil {
		return err
	}
	if err := Check(path, model, weights); err != nil {
		return err
	}
	for name, dst := range model {
		if err := tensors.Assign(dst, weights[name]); err != nil {
			return fmt.Errorf("%s: %s: %w", path, name, err)
		}
	}
	return nil
}
