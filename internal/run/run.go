// Package run holds what every torchlab training command shares: the common
// flags, Ctrl-C handling, the run's identity (command line, date) and its
// summary.json.
package run

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"torchlab/internal/metrics"
	"torchlab/torch/torchrt"
)

// Common are the flags every training command takes.
type Common struct {
	DataDir string `json:"data_dir"`
	Out     string `json:"out"`
	Threads int    `json:"threads"`
	Seed    int64  `json:"seed"`
	Resume  bool   `json:"resume"`
	// BLASThreads is OpenBLAS's own thread count, which libtorch's
	// set_num_threads does not touch; 0 leaves OpenBLAS's default.
	BLASThreads int `json:"blas_threads"`
}

// AddFlags registers the common flags on fs with defaultOut as --out.
func (c *Common) AddFlags(fs *pflag.FlagSet, defaultOut string) {
	fs.StringVar(&c.DataDir, "data-dir", "", "data folder (default: $TORCHLAB_DATA, ./data, ../shared/data found upwards, else the bundled sample)")
	fs.StringVar(&c.Out, "out", defaultOut, "output folder: metrics, figures, checkpoints")
	fs.IntVar(&c.Threads, "threads", runtime.NumCPU(), "libtorch intra-op threads (libtorch's own default here is 1)")
	fs.Int64Var(&c.Seed, "seed", 1, "random seed for libtorch and data order")
	fs.BoolVar(&c.Resume, "resume", false, "continue from the checkpoint in --out")
	fs.IntVar(&c.BLASThreads, "blas-threads", 0, "OpenBLAS's own threads, apart from --threads (0: OpenBLAS's default, one per core)")
}

// SetDefault changes the default of the flag name, registered by AddFlags,
// for a command whose best value differs, and says why in its usage.
func SetDefault(fs *pflag.FlagSet, name, value, usage string) error {
	f := fs.Lookup(name)
	if f == nil {
		return fmt.Errorf("no flag --%s", name)
	}
	if err := f.Value.Set(value); err != nil {
		return fmt.Errorf("default of --%s: %w", name, err)
	}
	f.DefValue, f.Usage = value, usage
	return nil
}

// Runtime locks the calling goroutine to its thread and applies --threads,
// --seed and --blas-threads.
func (c *Common) Runtime() error {
	if c.BLASThreads < 0 {
		return fmt.Errorf("--blas-threads %d: want >= 0", c.BLASThreads)
	}
	if _, err := torchrt.Init(torchrt.Config{Threads: c.Threads, Seed: c.Seed}); err != nil {
		return err
	}
	if c.BLASThreads > 0 && !torchrt.SetBLASThreads(c.BLASThreads) {
		log.Printf("BLAS is not OpenBLAS: --blas-threads %d ignored", c.BLASThreads)
	}
	return nil
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
	Data     any                `json:"data,omitempty"` // where the data came from (datasets.Source or a map of them)
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
