package cli

import (
	"io"
	"log"
)

// logFlags give every command's log lines one format: the time, then the
// command's name (log.Prefix, set by Main), then the message.
const logFlags = log.Ltime | log.Lmsgprefix

// Logf writes one log line to w in the format of the standard logger,
// which Main sets for every command ("15:04:05 vgg-mnist: message"), for
// the commands that log to a writer they are given.
func Logf(w io.Writer, format string, a ...any) {
	log.New(w, log.Prefix(), log.Flags()).Printf(format, a...)
}
