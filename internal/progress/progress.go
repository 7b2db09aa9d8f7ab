// Package progress draws a one-line progress bar for long training runs:
//
//	train  37% [=======>            ] 3700/10000  loss 0.2134  acc 0.931  412 img/s  ETA 15s
//
// On a terminal the line is redrawn in place a few times a second. In a log
// file (a run under nohup) a full line is printed every 30 seconds instead,
// so that the log stays small and readable.
//
// The rate is smoothed exponentially so that the ETA does not jump with
// every slow batch, and it counts only the steps done by this process, so
// the ETA of a resumed run is right from the start. Pause stops the clock
// around evaluations and checkpoints, so the rate is training speed, while
// the ETA still counts their share of the time.
//
// Why not a library: github.com/schollz/progressbar/v3 (v3.18.0, read in
// its source) computes its rate and ETA from the start time and has no
// pause, so every evaluation would show as a slump in speed and a jump of
// the ETA (a VGG epoch's evaluation once showed 0.9 img/s and an ETA of
// 72 h), and it redraws in place, which a log file under nohup records as
// one ever-growing line. github.com/vbauerster/mpb/v8 renders from its own
// goroutine on a refresh ticker with ANSI cursor moves, which a log file
// does not want either, and its moving-average ETA would need our own step
// timings fed in. Ours is about 300 lines and does exactly the three
// things: ETA, a plain line every 30 s in a log file, pause.
package progress

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"time"
)

const (
	// redrawEvery limits terminal redraws: faster is unreadable and costs
	// time in the training loop.
	redrawEvery = 250 * time.Millisecond
	// defaultLogEvery is the interval between lines in a log file.
	defaultLogEvery = 30 * time.Second
	// sampleEvery is the shortest interval over which the rate is measured;
	// shorter ones mostly measure the jitter of single batches.
	sampleEvery = time.Second
	// rateTau is the time constant of the rate's exponential smoothing: a
	// change of speed is mostly reflected after about this long.
	rateTau = 10 * time.Second
	// barWidth is the number of characters between the brackets.
	barWidth = 20
	// maxETA bounds the ETA shown; beyond it the estimate means nothing.
	maxETA = 999 * time.Hour
)

// Field is a named number shown after the counts, such as the running loss.
type Field struct {
	Name  string
	Value float64
	// Format is the fmt verb for Value; "%.4g" when empty.
	Format string
}

// Bar is a progress bar. Its methods may be called from several goroutines.
type Bar struct {
	mu sync.Mutex

	w        io.Writer
	label    string
	unit     string
	start    int // steps done before this process began
	total    int
	now      func() time.Time
	terminal bool
	logEvery time.Duration

	began   time.Time
	done    int
	fields  []Field
	rate    float64 // smoothed steps per second; 0 until a sample shows progress
	sampleT time.Time
	sampleN int
	paused  time.Duration // time spent in Pause, left out of the rate

	drawn    bool
	lastDraw time.Time
	lastLen  int // length of the last terminal line, to blank its tail
	finished bool
	err      error // first write error, returned by Finish
}

// Option configures a Bar.
type Option func(*Bar)

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option {
	return func(b *Bar) { b.now = now }
}

// WithLogInterval sets how often a line is printed when the output is not
// a terminal (default 30s).
func WithLogInterval(d time.Duration) Option {
	return func(b *Bar) { b.logEvery = d }
}

// WithTerminal overrides the detection of whether the output is a terminal.
func WithTerminal(terminal bool) Option {
	return func(b *Bar) { b.terminal = terminal }
}

// WithUnit names what is counted, shown in the rate ("img" gives
// "412 img/s"; default "it").
func WithUnit(unit string) Option {
	return func(b *Bar) { b.unit = unit }
}

// New returns a bar counting from 0 to total; a total of 0 or less means
// unknown and shows only the count, rate and elapsed time.
func New(w io.Writer, total int, label string, opts ...Option) *Bar {
	return NewFrom(w, 0, total, label, opts...)
}

// NewFrom returns a bar for a run resumed after start of total steps: the
// percentage counts them, the rate and ETA do not.
func NewFrom(w io.Writer, start, total int, label string, opts ...Option) *Bar {
	b := &Bar{
		w:        w,
		label:    label,
		unit:     "it",
		start:    start,
		total:    total,
		now:      time.Now,
		terminal: isTerminal(w),
		logEvery: defaultLogEvery,
		done:     start,
	}
	for _, o := range opts {
		o(b)
	}
	b.began = b.now()
	b.sampleT, b.sampleN = b.began, start
	return b
}

// isTerminal reports whether w is a character device, which is what a
// terminal is; it needs no dependency beyond os.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Update records that done steps (counted from 0, including those before a
// resume) are complete and redraws the bar if it is due. fields replace the
// fields shown before.
func (b *Bar) Update(done int, fields ...Field) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return
	}
	now := b.now()
	b.done = done
	b.fields = append(b.fields[:0], fields...)
	b.sample(now, done)

	interval := b.logEvery
	if b.terminal {
		interval = redrawEvery
	}
	if b.drawn && now.Sub(b.lastDraw) < interval {
		return
	}
	b.drawn, b.lastDraw = true, now
	tail := "ETA " + b.eta(now)
	if b.total <= 0 {
		tail = formatDuration(now.Sub(b.began)) + " elapsed"
	}
	b.print(b.line(b.rateNow(now), tail), false)
}

// Pause stops the rate's clock until the returned resume is called, so
// that work which is not progress (an evaluation) does not read as one very
// slow step and send the ETA to days. The ETA still counts paused time, as
// the same share per step for the steps left.
func (b *Bar) Pause() (resume func()) {
	b.mu.Lock()
	from := b.now()
	b.mu.Unlock()
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		d := b.now().Sub(from)
		b.paused += d
		b.sampleT = b.sampleT.Add(d)
	}
}

// sample folds the rate since the last sample into the smoothed rate.
func (b *Bar) sample(now time.Time, done int) {
	dt := now.Sub(b.sampleT)
	if done < b.sampleN {
		// The count went backwards (a new phase reusing the bar); restart
		// the measurement rather than report a negative rate.
		b.sampleT, b.sampleN = now, done
		return
	}
	if dt < sampleEvery {
		return
	}
	inst := float64(done-b.sampleN) / dt.Seconds()
	if b.rate == 0 {
		// The first sample with progress seeds the estimate, so that a
		// slow start (loading data, warming caches) does not drag it down
		// for the next minute.
		b.rate = inst
	} else {
		// Weighting by elapsed time keeps the smoothing the same whether
		// Update is called every batch or every epoch.
		alpha := 1 - math.Exp(-dt.Seconds()/rateTau.Seconds())
		b.rate += alpha * (inst - b.rate)
	}
	b.sampleT, b.sampleN = now, done
}

// rateNow is the smoothed rate or, before the first sample, the average
// rate of this process.
func (b *Bar) rateNow(now time.Time) float64 {
	if b.rate > 0 {
		return b.rate
	}
	return b.average(now)
}

// average is the mean rate of this process since it started, pauses
// left out.
func (b *Bar) average(now time.Time) float64 {
	elapsed := (now.Sub(b.began) - b.paused).Seconds()
	if elapsed <= 0 || b.done <= b.start {
		return 0
	}
	return float64(b.done-b.start) / elapsed
}

// eta formats the expected time to completion of a known total.
func (b *Bar) eta(now time.Time) string {
	left := b.total - b.done
	if left <= 0 {
		return "0s"
	}
	rate := b.rateNow(now)
	if rate <= 0 {
		return "--"
	}
	secs := float64(left) / rate
	if b.done > b.start {
		secs += b.paused.Seconds() * float64(left) / float64(b.done-b.start)
	}
	if secs > maxETA.Seconds() {
		return ">" + formatDuration(maxETA)
	}
	return formatDuration(time.Duration(secs * float64(time.Second)))
}

// line formats the bar with the given rate and trailing text.
func (b *Bar) line(rate float64, tail string) string {
	var s strings.Builder
	s.WriteString(b.label)
	if b.total > 0 {
		frac := min(max(float64(b.done)/float64(b.total), 0), 1)
		fmt.Fprintf(&s, " %3d%% [%s] %d/%d", int(frac*100), bar(frac), b.done, b.total)
	} else {
		fmt.Fprintf(&s, " %d", b.done)
	}
	for _, f := range b.fields {
		format := f.Format
		if format == "" {
			format = "%.4g"
		}
		fmt.Fprintf(&s, "  %s "+format, f.Name, f.Value)
	}
	fmt.Fprintf(&s, "  %s %s/s  %s", formatRate(rate), b.unit, tail)
	return s.String()
}

// bar draws the filled part of the bar for a fraction in [0,1].
func bar(frac float64) string {
	n := int(frac * barWidth)
	if n >= barWidth {
		return strings.Repeat("=", barWidth)
	}
	return strings.Repeat("=", n) + ">" + strings.Repeat(" ", barWidth-n-1)
}

// print writes line, in place on a terminal, and keeps the first error.
func (b *Bar) print(line string, final bool) {
	var out string
	switch {
	case b.terminal:
		// Spaces blank the tail of a longer previous line, which \r alone
		// would leave on screen.
		out = "\r" + line + strings.Repeat(" ", max(0, b.lastLen-len(line)))
		b.lastLen = len(line)
		if final {
			out += "\n"
		}
	default:
		out = line + "\n"
	}
	if _, err := io.WriteString(b.w, out); err != nil && b.err == nil {
		b.err = fmt.Errorf("progress %s: %w", b.label, err)
	}
}

// Finish prints the final line with the mean rate and the time taken, and
// returns the first error met writing the bar. Later calls to Update and
// Finish do nothing.
func (b *Bar) Finish() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return b.err
	}
	b.finished = true
	now := b.now()
	b.print(b.line(b.average(now), "took "+formatDuration(now.Sub(b.began))), true)
	return b.err
}

// formatRate shows three significant digits or more.
func formatRate(r float64) string {
	switch {
	case r >= 100:
		return fmt.Sprintf("%.0f", r)
	case r >= 10:
		return fmt.Sprintf("%.1f", r)
	}
	return fmt.Sprintf("%.2f", r)
}

// formatDuration rounds d to whole seconds and shows its two largest units:
// 12s, 4m12s, 1h02m.
func formatDuration(d time.Duration) string {
	s := int64(max(d, 0).Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	// Round to the minute, as the seconds are not shown.
	m := (s + 30) / 60
	return fmt.Sprintf("%dh%02dm", m/60, m%60)
}
