// Command peak prints the float32 peaks a benchmark's GFLOP/s is a share
// of: the fastest large product libtorch ran in this process (the best of
// OpenBLAS's sgemm through at::mm and oneDNN's through a 1x1 convolution,
// at the same threads) and the machine's theoretical FMA peak.
//
// Usage:
//
//	peak                     # a few seconds: 2048 x 2048 products, best of 10
//	peak --json              # one JSON object, for scripts
//	peak --json-file F       # the text, and the JSON object into F
//	peak --threads 1 --fma-units 1
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/spf13/pflag"

	"torchlab/internal/cli"
	"torchlab/torch/peak"
	"torchlab/torch/torchrt"
)

// libtorch's thread-local state needs every call on one OS thread.
func init() { runtime.LockOSThread() }

type config struct {
	Threads, Size, Reps, FMAUnits int
	JSON                          bool
	JSONFile                      string
}

func main() {
	cli.Main("peak", func(args []string) error {
		cfg, err := parseFlags(args, os.Stderr)
		if err != nil {
			return err
		}
		return run(cfg, os.Stdout)
	})
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	cfg := config{Size: 2048, Reps: 10, FMAUnits: 2}
	fs := pflag.NewFlagSet("peak", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&cfg.Threads, "threads", cli.DefaultThreads(os.Getenv), "libtorch intra-op threads, and OpenBLAS's (default: $OMP_NUM_THREADS when set, else one per core)")
	fs.IntVar(&cfg.Size, "size", cfg.Size, "side of the square products (a multiple of 16)")
	fs.IntVar(&cfg.Reps, "reps", cfg.Reps, "timed products of each kind; the best counts")
	fs.IntVar(&cfg.FMAUnits, "fma-units", cfg.FMAUnits, "FMA units per core assumed for the theoretical peak (cpuinfo does not say: 2 on most server cores)")
	fs.BoolVar(&cfg.JSON, "json", false, "print one JSON object")
	fs.StringVar(&cfg.JSONFile, "json-file", "", "also write the JSON object to this file")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return cfg, nil
}

// Result is what peak prints with --json; GFLOP/s throughout.
type Result struct {
	Size     int     `json:"size"`
	Threads  int     `json:"threads"`
	OpenBLAS float64 `json:"openblas_gflops"`
	OneDNN   float64 `json:"onednn_gflops"`
	Measured float64 `json:"measured_gflops"` // the larger of the two
	FMA      float64 `json:"fma_gflops"`
	// FMAThreads is the FMA peak of as many cores as threads (all of
	// them when there are more threads than cores).
	FMAThreads float64 `json:"fma_threads_gflops"`
	FMAWords   string  `json:"fma"` // the arithmetic and its assumptions
}

func run(cfg config, w io.Writer) error {
	fma, err := peak.ThisMachine(cfg.FMAUnits)
	if err != nil {
		return err
	}
	if _, err := torchrt.Init(torchrt.Config{Threads: cfg.Threads, Seed: 1}); err != nil {
		return err
	}
	m, err := peak.Measure(cfg.Size, cfg.Reps)
	if err != nil {
		return err
	}
	r := Result{Size: m.N, Threads: m.Threads, OpenBLAS: m.OpenBLAS, OneDNN: m.OneDNN, Measured: m.Best(),
		FMA: fma.GFLOPS(), FMAThreads: fma.OnCores(m.Threads), FMAWords: fma.String()}
	if cfg.JSONFile != "" {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if err := os.WriteFile(cfg.JSONFile, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", cfg.JSONFile, err)
		}
	}
	if cfg.JSON {
		return json.NewEncoder(w).Encode(r)
	}
	_, err = fmt.Fprintf(w, "measured peak: %.1f GFLOP/s, the best of OpenBLAS's sgemm (at::mm) %.1f and oneDNN's (1x1 convolution) %.1f; %d x %d float32 products, best of %d, %d threads\n"+
		"theoretical FMA peak: %s\n", r.Measured, r.OpenBLAS, r.OneDNN, r.Size, r.Size, cfg.Reps, r.Threads, r.FMAWords)
	if err == nil && fma.Cores > r.Threads {
		_, err = fmt.Fprintf(w, "  of which %d threads can use %d cores: %.1f GFLOP/s\n", r.Threads, r.Threads, r.FMAThreads)
	}
	return err
}
