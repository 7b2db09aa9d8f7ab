// Package run holds what every torchlab training command shares: the common
// flags, Ctrl-C handling, the run's identity (command line, date) and its
// summary.json.
package run

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"torchlab/internal/metrics"
	"torchlab/internal/torchrt"
)

// Common are the flags every training command takes.
type Common struct {
	DataDir string `json:"data_dir"`
	Out     string `json:"out"`
	Threads int    `json:"threads"`
	Seed    int64  `json:"seed"`
	Resume  bool   `json:"resume"`
}

// AddFlags registers the common flags on fs with defaultOut as --out.
func (c *Common) AddFlags(fs *pflag.FlagSet, defaultOut string) {
	fs.StringVar(&c.DataDir, "data-dir", "", "data folder (default: $TORCHLAB_DATA, ./data, or ../shared/data found upwards)")
	fs.StringVar(&c.Out, "out", defaultOut, "output folder: metrics, figures, checkpoints")
	fs.IntVar(&c.Threads, "threads", runtime.NumCPU(), "libtorch intra-op threads (libtorch's own default here is 1)")
	fs.Int64Var(&c.Seed, "seed", 1, "random seed for libtorch and data order")
	fs.BoolVar(&c.Resume, "resume", false, "continue from the checkpoint in --out")
}

// Runtime locks the calling goroutine to its thread and applies --threads
// and --seed.
func (c *Common) Runtime() error {
	_, err := torchrt.Init(torchrt.Config{Threads: c.Threads, Seed: c.Seed})
	return err
}

// CommandLine is how this process was started, quoted for a shell, for the
// captions of figures and the summary.
func CommandLine() string {
	parts := []string{filepath.Base(os.Args[0])}
	for _, a := range os.Args[1:] {
		if strings.ContainsAny(a, " \t'\"$\\") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

// Summary is summary.json: what ran, when, with what configuration, and
// the final numbers. The report reads it.
type Summary struct {
	Command  string             `json:"command"`
	Started  time.Time          `json:"started"`
	Finished time.Time          `json:"finished"`
	Seconds  float64            `json:"seconds"`
	Config   any                `json:"config"`
	Results  map[string]float64 `json:"results"`
	Notes    []string           `json:"notes,omitempty"`
}

// WriteSummary writes s to dir/summary.json.
func WriteSummary(dir string, s Summary) error {
	if err := metrics.WriteJSON(filepath.Join(dir, "summary.json"), s); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}
