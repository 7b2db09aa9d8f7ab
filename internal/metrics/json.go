package metrics

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// WriteJSON writes v as indented JSON to path. It writes a temporary file
// in the same directory and renames it over path, so that a crash leaves
// either the old file or the new one, never half of one; this matters for
// the configuration a resumed run is rebuilt from.
func WriteJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	data = append(data, '\n')
	tmp, err := writeTemp(path, data)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return errors.Join(fmt.Errorf("metrics: %w", err), os.Remove(tmp))
	}
	return nil
}

// writeTemp writes data to a new file beside path, syncs and closes it, and
// returns its name. On failure it removes the file.
func writeTemp(path string, data []byte) (name string, err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return "", fmt.Errorf("metrics: %w", err)
	}
	name = f.Name()
	_, err = f.Write(data)
	if err == nil {
		// Sync before the rename: otherwise a power cut can leave the
		// rename on disk but not the data.
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// CreateTemp makes the file private; these files are meant to be
		// read by other tools and users.
		err = os.Chmod(name, 0o644)
	}
	if err != nil {
		return "", errors.Join(fmt.Errorf("write %s: %w", name, err), os.Remove(name))
	}
	return name, nil
}

// ReadJSON decodes the JSON file at path into v.
func ReadJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	return nil
}
