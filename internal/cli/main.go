package cli

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"torchlab/internal/train"
)

// ErrInterrupted is what a training command returns when Ctrl-C or SIGTERM
// stopped it after its checkpoint was saved (train.ErrInterrupted).
var ErrInterrupted = train.ErrInterrupted

// Main is the whole main of a torchlab command: it gives log lines their
// format (a timestamp and the command's name), runs body on the command-line arguments and turns body's error
// into the exit status (see ExitCode).
func Main(name string, body func(args []string) error) {
	log.SetFlags(logFlags)
	log.SetPrefix(name + ": ")
	err := body(os.Args[1:])
	if code := ExitCode(err); code != 0 {
		// Not through log: a quiet rank's errors are shown too, and an
		// error is not a timed event.
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(os.Stderr, "%s%s\n", log.Prefix(), line)
		}
		os.Exit(code)
	}
}

// ExitCode is the exit status for a command's error: 0 for none and for
// --help, 2 for a UsageError, 130 (the shell's code for Ctrl-C) for
// ErrInterrupted, 1 for any other error (a failed run).
func ExitCode(err error) int {
	var usage *UsageError
	switch {
	case err == nil, errors.Is(err, pflag.ErrHelp):
		return 0
	case errors.As(err, &usage):
		return 2
	case errors.Is(err, ErrInterrupted):
		return 130
	default:
		return 1
	}
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
