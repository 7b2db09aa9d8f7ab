// Package cli is what every torchlab command shares at its command line:
// the common flags and the runtime settings they make, one main shape with
// its exit codes (Ctrl-C exits 130), subcommands, and the command line as
// the figures and summaries quote it.
package cli

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"torchlab/internal/train"
	"torchlab/torch/dist"
	"torchlab/torch/statedict"
	"torchlab/torch/torchrt"
)

// Common are the flags every training command takes.
type Common struct {
	DataDir string `json:"data_dir"`
	Out     string `json:"out"`
	Threads int    `json:"threads"`
	Seed    int64  `json:"seed"`
	// SplitSeed draws the data split (validation, and test where the
	// command draws one), apart from Seed (initialisation, batch order,
	// noise), so that runs with different seeds compare on one split. 0,
	// as read from a run made before the flag, means Seed drew both.
	SplitSeed int64 `json:"split_seed,omitempty"`
	Resume    bool  `json:"resume"`
	// Overwrite lets a new run replace the run in --out (see ClaimOut).
	Overwrite bool `json:"-"`
	// BLASThreads is OpenBLAS's own thread count, which libtorch's
	// set_num_threads does not touch; 0 leaves OpenBLAS's default.
	BLASThreads int `json:"blas_threads"`
	// Device is where the model and its tensors live: cpu, cuda or cuda:N.
	Device string `json:"device"`
	// InitFrom is a PyTorch state_dict file (.pt or .safetensors) that a
	// new run's model starts from (InitWeights).
	InitFrom string `json:"init_from,omitempty"`
	// DistTimeout bounds the rendezvous and each collective of a
	// data-parallel run (see JoinGroup).
	DistTimeout time.Duration `json:"-"`
	// LogAllRanks lets every rank of a data-parallel run log; by default
	// only rank 0 does (see JoinGroup).
	LogAllRanks bool `json:"-"`
	// GuardConfig is what a diverged training step does (train.Guard).
	train.GuardConfig
	// ProfileConfig asks for an op profile of a few steps (train.Profiler).
	train.ProfileConfig
}

// AddFlags registers the common flags on fs with defaultOut as --out.
func (c *Common) AddFlags(fs *pflag.FlagSet, defaultOut string) {
	fs.StringVar(&c.DataDir, "data-dir", "", "data folder (default: $TORCHLAB_DATA, ./data, ../shared/data found upwards, else the bundled sample)")
	fs.StringVar(&c.Out, "out", defaultOut, "output folder: metrics, figures, checkpoints")
	fs.IntVar(&c.Threads, "threads", DefaultThreads(os.Getenv), "libtorch intra-op threads (default: $OMP_NUM_THREADS when set, as torchrun and torchlab-run set it, else one per core; libtorch's own default here is 1)")
	fs.Int64Var(&c.Seed, "seed", 1, "random seed for libtorch and data order")
	fs.Int64Var(&c.SplitSeed, "split-seed", 1, "seed of the data split (validation, and test where drawn), kept apart from --seed (initialisation, batch order, noise) so that seeds compare on one split")
	fs.BoolVar(&c.Resume, "resume", false, "continue from the checkpoint in --out")
	fs.BoolVar(&c.Overwrite, "overwrite", false, "replace the run already in --out (without it, train refuses a folder that holds a run)")
	fs.IntVar(&c.BLASThreads, "blas-threads", 0, "OpenBLAS's own threads, apart from --threads (0: OpenBLAS's default, one per core; a command whose small products run slower with it defaults to 1 and says why)")
	fs.StringVar(&c.Device, "device", "cpu", "cpu, cuda or cuda:N (this Debian libtorch is CPU-only: cuda is refused at start-up)")
	fs.StringVar(&c.InitFrom, "init-from", "", "start from the weights of a PyTorch state_dict file: .pt (torch.save(model.state_dict())) or .safetensors; every name and shape must be the model's (not with --resume, which continues from the checkpoint)")
	train.AddGuardFlags(fs, &c.GuardConfig)
	train.AddProfileFlags(fs, &c.ProfileConfig)
	fs.BoolVar(&c.LogAllRanks, "log-all-ranks", false, "data-parallel runs: every rank logs (default: rank 0 only; errors always show)")
	fs.DurationVar(&c.DistTimeout, "dist-timeout", dist.Timeout, "data-parallel runs (torchlab-run; WORLD_SIZE set): how long to wait for the other ranks at start-up and in each collective before failing")
}

// DefaultThreads is --threads' default: OMP_NUM_THREADS when it is a
// positive number (torchrun sets it for each rank), else the number of
// cores.
func DefaultThreads(getenv func(string) string) int {
	if n, err := strconv.Atoi(strings.TrimSpace(getenv("OMP_NUM_THREADS"))); err == nil && n > 0 {
		return n
	}
	return runtime.NumCPU()
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

// Rename makes old a deprecated spelling of the flag new, for one
// release: it sets the same value, is left out of the help, and using it
// prints one line that names new.
func Rename(fs *pflag.FlagSet, old, new string) error {
	f := fs.Lookup(new)
	if f == nil {
		return fmt.Errorf("no flag --%s", new)
	}
	fs.Var(f.Value, old, f.Usage)
	fs.Lookup(old).NoOptDefVal = f.NoOptDefVal
	return fs.MarkDeprecated(old, "use --"+new)
}

// Check returns a UsageError for each common flag whose value is wrong.
func (c *Common) Check() error {
	errs := []error{
		Need("threads", c.Threads, c.Threads >= 0, ">= 0 (0: one per core)"),
		Need("blas-threads", c.BLASThreads, c.BLASThreads >= 0, ">= 0 (0: OpenBLAS's default)"),
		Need("profile-steps", c.ProfileSteps, c.ProfileSteps >= 0, ">= 0 (0: off)"),
		Need("split-seed", c.SplitSeed, c.SplitSeed >= 0, ">= 0 (0: --seed draws the split too)"),
	}
	if _, err := c.TorchDevice(); err != nil {
		errs = append(errs, &UsageError{Err: fmt.Errorf("--device: %w", err)})
	}
	if c.Resume && c.Overwrite {
		errs = append(errs, errResumeOverwrite(c.Out))
	}
	if err := c.GuardConfig.Check(); err != nil {
		errs = append(errs, &UsageError{Err: err})
	}
	return errors.Join(errs...)
}

// DataSeed is the seed of the run's data split: SplitSeed, or Seed for a
// run made before --split-seed.
func (c Common) DataSeed() int64 {
	if c.SplitSeed == 0 {
		return c.Seed
	}
	return c.SplitSeed
}

// Runtime locks the calling goroutine to its thread and applies --threads,
// --seed and --blas-threads.
func (c *Common) Runtime() error {
	if c.BLASThreads < 0 {
		return Need("blas-threads", c.BLASThreads, false, ">= 0")
	}
	if _, err := c.TorchDevice(); err != nil {
		return err
	}
	if _, err := torchrt.Init(torchrt.Config{Threads: c.Threads, Seed: c.Seed}); err != nil {
		return err
	}
	threads := c.Threads
	if threads == 0 {
		threads = runtime.NumCPU()
	}
	// A rank's peers are busy by design; one thread always fits.
	if os.Getenv("WORLD_SIZE") == "" && threads > 1 {
		if busy, err := busyCores(100*time.Millisecond, runtime.NumCPU()); err == nil {
			if w := busyWarning(threads, runtime.NumCPU(), busy); w != "" {
				log.Print(w)
			}
		}
	}
	if c.BLASThreads > 0 && !torchrt.SetBLASThreads(c.BLASThreads) {
		log.Printf("BLAS is not OpenBLAS: --blas-threads %d ignored", c.BLASThreads)
	}
	return nil
}

// InitWeights copies --init-from's weights into model (the model's
// variables by name) for a new run; a resumed run continues from its
// checkpoint instead, and without --init-from the model keeps its own
// initialisation.
func (c *Common) InitWeights(model map[string]*ts.Tensor, logf func(format string, args ...any)) error {
	if c.InitFrom == "" || c.Resume {
		return nil
	}
	if err := statedict.Load(c.InitFrom, model); err != nil {
		return fmt.Errorf("--init-from: %w", err)
	}
	logf("weights from %s", c.InitFrom)
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

// TorchDevice is --device as a gotch device ("" means cpu, as in
// configurations saved before the flag existed).
func (c *Common) TorchDevice() (gotch.Device, error) {
	if c.Device == "" {
		return gotch.CPU, nil
	}
	return torchrt.ParseDevice(c.Device)
}
