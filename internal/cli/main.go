package cli

import (
	"context"
	"errors"
	"log"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/spf13/pflag"
)

// ErrInterrupted is what a training command returns when Ctrl-C or SIGTERM
// stopped it after its checkpoint was saved.
var ErrInterrupted = errors.New("interrupted: checkpoint saved; continue with --resume")

// Main is the whole main of a torchlab command: it names the command in
// log lines, runs body on the command-line arguments and turns body's error
// into the exit status (see ExitCode).
func Main(name string, body func(args []string) error) {
	log.SetFlags(0)
	log.SetPrefix(name + ": ")
	err := body(os.Args[1:])
	if code := ExitCode(err); code != 0 {
		log.Print(err)
		os.Exit(code)
	}
}

// ExitCode is the exit status for a command's error: 0 for none and for
// --help, 130 (the shell's code for Ctrl-C) for ErrInterrupted, 1 for any
// other error.
func ExitCode(err error) int {
	switch {
	case err == nil, errors.Is(err, pflag.ErrHelp):
		return 0
	case errors.Is(err, ErrInterrupted):
		return 130
	default:
		return 1
	}
}

// Subcommand splits args into a subcommand and its arguments: args[0] when
// it is one of names, else def (so `cmd --flag` means `cmd def --flag`).
func Subcommand(args []string, def string, names ...string) (string, []string) {
	if len(args) > 0 && slices.Contains(names, args[0]) {
		return args[0], args[1:]
	}
	return def, args
}

// Interruptible returns a context cancelled by Ctrl-C or SIGTERM, so a
// training loop can save a checkpoint and return instead of dying. After
// the first signal the default action is back: a second Ctrl-C while the
// checkpoint is being written kills the process as usual.
func Interruptible() (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	return ctx, stop
}
