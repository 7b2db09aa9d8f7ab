package train

import (
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"

	"torchlab/torch/durable"
	"torchlab/torch/opprofile"
)

// ProfileConfig asks for libtorch's op profile of a few training steps.
type ProfileConfig struct {
	ProfileSteps int `json:"-"`
}

// profileWarmup is how many steps of a session run before the profiled
// ones: the first steps pay for oneDNN's kernel choices and the
// allocator's first pages.
const profileWarmup = 5

// AddProfileFlags registers --profile-steps on fs.
func AddProfileFlags(fs *pflag.FlagSet, c *ProfileConfig) {
	fs.IntVar(&c.ProfileSteps, "profile-steps", 0, fmt.Sprintf(
		"profile this many training steps with libtorch's op profiler, after the session's first %d, and write op_profile.md (time and FLOPs by kind of work and by op) to --out; 0: off", profileWarmup))
}

// Profiler runs the op profile over steps of one session, then times as
// many steps again without it (the profiler's own cost shows as the
// difference), and writes both to op_profile.md in a folder. A nil
// *Profiler does nothing.
type Profiler struct {
	steps   int
	path    string
	started bool
	prof    opprofile.Profile
	done    int     // steps profiled so far
	wall    float64 // seconds inside Task.Step of those steps
	plain   int     // steps timed without the profiler after them
	plainS  float64 // their seconds
	written bool
}

// NewProfiler returns the profiler c asks for, writing into dir, or nil
// when c asks for none.
func NewProfiler(c ProfileConfig, dir string) *Profiler {
	if c.ProfileSteps <= 0 {
		return nil
	}
	return &Profiler{steps: c.ProfileSteps, path: filepath.Join(dir, "op_profile.md")}
}

// beforeStep starts the profile before the session's step number
// sessionStep (0-based) once the warm-up is over.
func (p *Profiler) beforeStep(sessionStep int) error {
	if p == nil || p.started || p.done > 0 || sessionStep < profileWarmup {
		return nil
	}
	p.started = true
	return opprofile.Start()
}

// afterStep adds a step's seconds: after the last profiled one it stops
// the profile, after as many plain ones it writes the file.
func (p *Profiler) afterStep(seconds float64) error {
	switch {
	case p == nil || p.written:
		return nil
	case p.started:
		p.done++
		p.wall += seconds
		if p.done < p.steps {
			return nil
		}
		p.started = false
		var err error
		p.prof, err = opprofile.Stop()
		return err
	case p.done > 0:
		p.plain++
		p.plainS += seconds
		if p.plain < p.steps {
			return nil
		}
		return p.finish()
	}
	return nil
}

// finish writes what the profiler has (also when the session ends before
// all the steps asked for).
func (p *Profiler) finish() error {
	if p == nil || p.written || p.done == 0 {
		return nil
	}
	if p.started {
		p.started = false
		var err error
		if p.prof, err = opprofile.Stop(); err != nil {
			return err
		}
	}
	p.written = true
	return durable.Write(p.path, 0o644, func(f io.Writer) error {
		fmt.Fprintf(f, "# Op profile (%s)\n\nThe training steps %d-%d of this session, by libtorch's op profiler on the training thread\n"+
			"(an op's time includes its intra-op threads' work and their waiting).\n",
			time.Now().UTC().Format(time.RFC3339), profileWarmup+1, profileWarmup+p.done)
		if p.plain > 0 {
			fmt.Fprintf(f, "The %d steps after them, without the profiler: %.1f ms per step.\n",
				p.plain, 1e3*p.plainS/float64(p.plain))
		}
		fmt.Fprintln(f)
		return opprofile.WriteMarkdown(f, p.prof, p.done, p.wall)
	})
}
