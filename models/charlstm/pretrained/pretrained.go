// Package pretrained is the shipped char-LSTM: the best-validation
// checkpoint of the tuned run in docs/results/lstm-tweets-tuned (README.md
// here says how it was trained and how well it does), embedded so that
// `lstm-tweets predict` classifies tweets right after a clone, with no
// training.
package pretrained

import (
	"embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

//go:embed checkpoint.json checkpoint.npz best.json
var files embed.FS

// Extract writes the checkpoint (checkpoint.json and checkpoint.npz, as
// torch/checkpoint reads them) into dir.
func Extract(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("shipped model: %w", err)
	}
	for _, name := range []string{"checkpoint.json", "checkpoint.npz"} {
		b, err := files.ReadFile(name)
		if err != nil {
			return fmt.Errorf("shipped model: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return fmt.Errorf("shipped model: %w", err)
		}
	}
	return nil
}

// Scores are the shipped model's recorded numbers (best.json of its run):
// the iteration it was kept at and its accuracy on the validation split
// and on the whole test set.
type Scores struct {
	Iteration int
	Val, Test float64
}

// Recorded reads the shipped model's Scores.
func Recorded() (Scores, error) {
	b, err := files.ReadFile("best.json")
	if err != nil {
		return Scores{}, fmt.Errorf("shipped model: %w", err)
	}
	var best struct {
		Step int                `json:"step"`
		At   map[string]float64 `json:"at"`
	}
	if err := json.Unmarshal(b, &best); err != nil {
		return Scores{}, fmt.Errorf("shipped model: best.json: %w", err)
	}
	return Scores{Iteration: best.Step, Val: best.At["val_accuracy"], Test: best.At["test_accuracy"]}, nil
}

// String says what the model is, for a log line.
func (s Scores) String() string {
	return fmt.Sprintf("the shipped model (docs/results/lstm-tweets-tuned, iteration %d: validation accuracy %.1f%%, test accuracy %.1f%%)",
		s.Iteration, 100*s.Val, 100*s.Test)
}
