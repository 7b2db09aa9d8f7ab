package cli

import (
	"fmt"
	"io"
	"log"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"
	"github.com/sugarme/gotch/ts"

	"torchlab/internal/train"
)

// Logger is a command's logger writing to w, in the format Main gives
// the standard logger ("15:04:05 vgg-mnist: message").
func Logger(w io.Writer) *log.Logger { return log.New(w, log.Prefix(), log.Flags()) }

// StartRun is the start of every training run: it applies the runtime
// settings (Runtime), joins the process group (JoinGroup; nil without
// one, to Leave when the run ends) and returns the run's train.Setup with
// what the common flags say filled in. Its Log is lg for a rank that
// logs and a silent logger for one that does not.
func (c *Common) StartRun(lg *log.Logger) (train.Setup, *Parallel, error) {
	started := time.Now()
	if err := c.Runtime(); err != nil {
		return train.Setup{}, nil, err
	}
	par, err := c.JoinGroup()
	if err != nil {
		return train.Setup{}, nil, err
	}
	if par != nil {
		prefix := lg.Prefix()
		if par.Rank() > 0 {
			prefix += fmt.Sprintf("rank %d: ", par.Rank())
		}
		lg = log.New(par.Log(lg.Writer()), prefix, lg.Flags())
	}
	su := train.Setup{Command: CommandLine(), Started: started, Out: c.Out, Resume: c.Resume, Seed: c.Seed,
		Guard: c.GuardConfig, Profile: c.ProfileConfig, Log: lg,
		InitWeights: func(vars map[string]*ts.Tensor) error { return c.InitWeights(vars, lg.Printf) }}
	if par != nil {
		su.Group = par
	}
	return su, par, nil
}

// TrainFlags is how a training command reads its train subcommand into
// its configuration C.
type TrainFlags[C any] struct {
	Defaults func() C                            // a configuration with every default
	Register func(c *C, fs *pflag.FlagSet) error // binds the train flags to c
	Common   func(c *C) *Common
	// Parsed, when set, fills in defaults that depend on other flags,
	// right after parsing.
	Parsed func(c *C)
	// CheckpointDir is the checkpoint a --resume of c continues (nil:
	// <out>/checkpoint).
	CheckpointDir func(c *C) string
	// MayChange are the flags a resumed run may change (besides
	// train.AlwaysMayChange).
	MayChange []string
	// KeepOut keeps a resumed run in the --out it was read from, whatever
	// --out the checkpoint's configuration names.
	KeepOut bool
}

// ParseTrain reads a train subcommand's flags; with --resume the
// configuration is the checkpoint's (train.Resume) with only the flags in
// MayChange applied. The configuration's Check must pass.
func ParseTrain[C interface{ Check() error }](cmd *Command, args []string, stdout, stderr io.Writer, tf TrainFlags[C]) (C, error) {
	cfg := tf.Defaults()
	fs := cmd.FlagSet("train", stdout, stderr)
	if err := tf.Register(&cfg, fs); err != nil {
		return cfg, err
	}
	if err := cmd.ParseCommon(fs, args, tf.Common(&cfg)); err != nil {
		return cfg, err
	}
	if tf.Parsed != nil {
		tf.Parsed(&cfg)
	}
	if !tf.Common(&cfg).Resume {
		return cfg, cfg.Check()
	}
	saved := tf.Defaults()
	flags := func(c *C) (*pflag.FlagSet, error) {
		fs := cmd.FlagSet("train", io.Discard, io.Discard)
		return fs, tf.Register(c, fs)
	}
	dir := filepath.Join(tf.Common(&cfg).Out, "checkpoint")
	if tf.CheckpointDir != nil {
		dir = tf.CheckpointDir(&cfg)
	}
	if err := train.Resume(fs, dir, &saved, flags, tf.MayChange); err != nil {
		return cfg, err
	}
	tf.Common(&saved).Resume = true
	if tf.KeepOut {
		tf.Common(&saved).Out = tf.Common(&cfg).Out
	}
	return saved, saved.Check()
}
