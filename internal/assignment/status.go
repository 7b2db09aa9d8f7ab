package assignment

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"torchlab/internal/runrec"
)

// State is what the script does with a part.
type State string

const (
	Done   State = "done"   // complete: skip it
	Resume State = "resume" // a checkpoint to continue from (--resume)
	New    State = "new"    // start afresh (--overwrite any run files left)
)

// checkpointFile marks a training run's checkpoint (torch/checkpoint).
const checkpointFile = "checkpoint/checkpoint.json"

// Status says what to do with part p in folder dir when the run should
// reach want (epochs for VGG and VAE, iterations for LSTM; ignored for CNN,
// which is done when its file exists, and Report, which is always New), and
// why, in words.
func Status(p Part, dir string, want int) (State, string, error) {
	switch p.Kind {
	case CNN:
		if _, err := os.Stat(filepath.Join(dir, CNNFile)); err == nil {
			return Done, CNNFile + " written", nil
		}
		return New, "no " + CNNFile, nil
	case Report:
		return New, "the report is written from the parts every time", nil
	}
	s, err := readSummary(dir)
	if err != nil {
		return "", "", err
	}
	why := "no summary.json"
	if s != nil {
		var ok bool
		if ok, why = Complete(p, s, want); ok {
			return Done, why, nil
		}
		why = "summary.json: " + why
	}
	if _, err := os.Stat(filepath.Join(dir, checkpointFile)); err == nil {
		return Resume, why + "; a checkpoint to resume from", nil
	}
	return New, why + "; no checkpoint", nil
}

// readSummary reads dir/summary.json; nil when there is none.
func readSummary(dir string) (*runrec.Summary, error) {
	path := filepath.Join(dir, runrec.SummaryFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	s, err := runrec.Read(dir)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return s, nil
}

// Complete says whether summary s records the whole run of a training
// part with want epochs or iterations: its configuration asked for want,
// the evaluation after the last step counted them all (a run stopped by
// Ctrl-C, --max-steps or an early stop counts fewer), and no note says it
// stopped. The reason is in words either way.
func Complete(p Part, s *runrec.Summary, want int) (bool, string) {
	cfgKey, doneKey, unit := "epochs", runrec.Epochs, "epochs"
	switch p.Kind {
	case VGG:
	case LSTM:
		cfgKey, doneKey, unit = "iterations", runrec.Steps, "iterations"
	case VAE:
	default:
		return false, "not a training part"
	}
	asked, ok := s.ConfigMap()[cfgKey].(float64)
	if !ok || asked != float64(want) {
		return false, fmt.Sprintf("its configuration asks for %v %s, not %d", s.ConfigMap()[cfgKey], unit, want)
	}
	done, ok := s.Results[doneKey]
	if !ok || done != float64(want) {
		return false, fmt.Sprintf("it records %g of %d %s", done, want, unit)
	}
	for _, n := range s.Notes {
		if strings.HasPrefix(n, "stopped") {
			return false, "its notes say: " + n
		}
	}
	return true, fmt.Sprintf("finished %d %s", want, unit)
}

// SessionsFile, in a part's folder, is where the script logs each session
// of the part: one line each, "START<TAB>SECONDS<TAB>EXIT<TAB>CPU<TAB>CORES"
// (start in Unix seconds, wall seconds, exit status, the CPU's model name,
// the number of processors). The script empties it when it starts the part
// afresh, so its lines are the sessions of the run in the folder.
const SessionsFile = "assignment-sessions.tsv"

// Session is one line of SessionsFile.
type Session struct {
	Start   int64
	Seconds float64
	Exit    int
	CPU     string
	Cores   int
}

// ReadSessions reads dir's SessionsFile; none (and no error) when it is
// missing.
func ReadSessions(dir string) ([]Session, error) {
	path := filepath.Join(dir, SessionsFile)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Session
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) != 5 {
			return nil, fmt.Errorf("%s:%d: %d fields, want 5", path, n, len(fields))
		}
		var s Session
		var errs [4]error
		s.Start, errs[0] = strconv.ParseInt(fields[0], 10, 64)
		s.Seconds, errs[1] = strconv.ParseFloat(fields[1], 64)
		s.Exit, errs[2] = strconv.Atoi(fields[2])
		s.CPU = fields[3]
		s.Cores, errs[3] = strconv.Atoi(fields[4])
		if err := errors.Join(errs[:]...); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		if !(s.Seconds >= 0) {
			return nil, fmt.Errorf("%s:%d: seconds %v, want >= 0", path, n, s.Seconds)
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return out, nil
}
