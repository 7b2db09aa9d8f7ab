package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"torchlab/internal/train"
	"torchlab/torch/checkpoint"
	"torchlab/torch/statedict"
)

// ExportUsage is the export subcommand's line in a command's usage text.
const ExportUsage = "export --format pt|safetensors --out FILE RUN_DIR   the run's weights as a PyTorch state_dict"

// Shipped is a command's built-in model for export without RUN_DIR: it
// writes the model's checkpoint into dir.
type Shipped func(dir string) error

// Export is the export subcommand, spelled the same in every command:
//
//	CMD export --format pt|safetensors --out FILE RUN_DIR
//
// RUN_DIR is a run's --out folder (its best/ checkpoint when there is one,
// else checkpoint/) or a checkpoint folder itself. The file holds the
// model's state_dict under PyTorch's names: a .pt that torch.load reads as
// a plain dict, or a .safetensors with the run's configuration in its
// metadata. shipped, when not nil, is exported when RUN_DIR is absent.
func Export(command string, args []string, stderr io.Writer, shipped Shipped) error {
	fs := pflag.NewFlagSet(command+" export", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "", "pt or safetensors (default: from --out's suffix)")
	out := fs.String("out", "", "the file to write")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s %s\n\nFlags:\n", command, ExportUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("export: --out FILE is required")
	}
	if *format == "" {
		f, err := statedict.FormatOf(*out)
		if err != nil {
			return fmt.Errorf("export: %w; or say --format", err)
		}
		*format = f
	}
	var dir string
	switch {
	case fs.NArg() == 1:
		var err error
		if dir, err = CheckpointOf(fs.Arg(0)); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	case fs.NArg() == 0 && shipped != nil:
		tmp, err := os.MkdirTemp("", command+"-export-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		if err := shipped(tmp); err != nil {
			return err
		}
		dir = tmp
	default:
		return fmt.Errorf("export: want one RUN_DIR, got %q", fs.Args())
	}
	weights, meta, err := checkpoint.Weights(dir)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	var config bytes.Buffer
	if err := json.Compact(&config, meta.Config); err != nil {
		return fmt.Errorf("export: configuration in %s: %w", dir, err)
	}
	metadata := map[string]string{
		"format":  "pt", // the tensors' layout is PyTorch's, as safetensors' own writers say
		"command": command,
		"config":  config.String(),
		"step":    strconv.FormatInt(meta.Step, 10),
	}
	if err := statedict.Write(*out, *format, weights, metadata); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	from := dir
	if fs.NArg() == 0 {
		from = "the shipped model"
	}
	fmt.Fprintf(stderr, "%s: wrote %s (%s, %d tensors) from %s, step %d\n", command, *out, *format, len(weights), from, meta.Step)
	return nil
}

// CheckpointOf finds the checkpoint a run folder means: run itself when it
// is a checkpoint, else its best/ checkpoint, else its checkpoint/.
func CheckpointOf(run string) (string, error) {
	for _, dir := range []string{run, train.BestDir(run), filepath.Join(run, "checkpoint")} {
		if checkpoint.Exists(dir) {
			return dir, nil
		}
	}
	if _, err := os.Stat(run); err != nil {
		return "", err
	}
	return "", fmt.Errorf("%s holds no checkpoint (looked for checkpoint.json in it, in best/ and in checkpoint/)", strings.TrimRight(run, "/"))
}
