package cli

import (
	"bytes"
	"io"
	"log"
	"regexp"
	"testing"
)

// TestLogf: a line logged to a writer has the standard logger's format,
// which Main sets: the time, then the command's name, then the message.
func TestLogf(t *testing.T) {
	flags, prefix := log.Flags(), log.Prefix()
	defer func() { log.SetFlags(flags); log.SetPrefix(prefix) }()
	log.SetFlags(logFlags)
	log.SetPrefix("tool: ")
	var w bytes.Buffer
	Logf(&w, "epoch %d done", 3)
	if !regexp.MustCompile(`^\d\d:\d\d:\d\d tool: epoch 3 done\n$`).MatchString(w.String()) {
		t.Errorf("Logf wrote %q, want \"hh:mm:ss tool: epoch 3 done\"", w.String())
	}
}

// TestParallelLog: a quiet rank's log goes nowhere; one process (nil) and
// rank 0 log.
func TestParallelLog(t *testing.T) {
	var w bytes.Buffer
	if (*Parallel)(nil).Log(&w) != &w || (&Parallel{}).Log(&w) != &w || (&Parallel{quiet: true}).Log(&w) != io.Discard {
		t.Error("Log: want w for one process and a logging rank, io.Discard for a quiet one")
	}
}
