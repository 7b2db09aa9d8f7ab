package metrics

import (
	"encoding/json"
	"fmt"
	"os"

	"torchlab/torch/durable"
)

// WriteJSON writes v as indented JSON to path, atomically and durably
// (durable.WriteFile): a crash leaves either the old file or the new one,
// never half of one; this matters for the configuration a resumed run is
// rebuilt from.
func WriteJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	if err := durable.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
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
