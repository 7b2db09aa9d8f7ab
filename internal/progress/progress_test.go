package progress

import (
	"bytes"
	"errors"
	"math"
	"os"
	"strings"
	"testing"
	"time"
)

// clock is a manual clock for deterministic tests.
type clock struct{ t time.Time }

func newClock() *clock                   { return &clock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)} }
func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{-time.Second, "0s"},
		{400 * time.Millisecond, "0s"},
		{12 * time.Second, "12s"},
		{59*time.Second + 600*time.Millisecond, "1m00s"},
		{4*time.Minute + 12*time.Second, "4m12s"},
		{4*time.Minute + 5*time.Second, "4m05s"},
		{time.Hour + 2*time.Minute, "1h02m"},
		{time.Hour + 2*time.Minute + 40*time.Second, "1h03m"},
		{59*time.Minute + 59*time.Second, "59m59s"},
		{100 * time.Hour, "100h00m"},
	}
	for _, tt := range tests {
		if got := formatDuration(tt.d); got != tt.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestFormatRate(t *testing.T) {
	tests := []struct {
		r    float64
		want string
	}{
		{412.4, "412"}, {12.345, "12.3"}, {3.14159, "3.14"}, {0, "0.00"},
	}
	for _, tt := range tests {
		if got := formatRate(tt.r); got != tt.want {
			t.Errorf("formatRate(%g) = %q, want %q", tt.r, got, tt.want)
		}
	}
}

// lines splits log output into lines, failing on a trailing partial line.
func lines(t *testing.T, out string) []string {
	t.Helper()
	if out == "" {
		return nil
	}
	if !strings.HasSuffix(out, "\n") {
		t.Fatalf("output does not end in a newline: %q", out)
	}
	return strings.Split(strings.TrimSuffix(out, "\n"), "\n")
}

// run advances the clock by step and updates b n times, adding per steps
// each time; it returns the count reached.
func run(c *clock, b *Bar, done, n, per int, step time.Duration) int {
	for range n {
		c.advance(step)
		done += per
		b.Update(done)
	}
	return done
}

func TestLine(t *testing.T) {
	fields := []Field{{Name: "loss", Value: 0.21341}, {Name: "acc", Value: 0.931}, {Name: "lr", Value: 0.001, Format: "%.0e"}}
	tests := []struct {
		name  string
		start int
		total int
		opts  []Option
		want  string // last line after 10 s at 370 steps/s
	}{
		{"training", 0, 10000, []Option{WithUnit("img")},
			"train  37% [=======>            ] 3700/10000  loss 0.2134  acc 0.931  lr 1e-03  370 img/s  ETA 17s"},
		{"resumed", 90000, 100000, nil,
			"train  93% [==================> ] 93700/100000  loss 0.2134  acc 0.931  lr 1e-03  370 it/s  ETA 17s"},
		{"unknown total", 0, 0, nil,
			"train 3700  loss 0.2134  acc 0.931  lr 1e-03  370 it/s  10s elapsed"},
		{"days", 0, 1 << 30, nil,
			"train   0% [>                   ] 3700/1073741824  loss 0.2134  acc 0.931  lr 1e-03  370 it/s  ETA 806h07m"},
		{"hopeless", 0, 1 << 31, nil,
			"train   0% [>                   ] 3700/2147483648  loss 0.2134  acc 0.931  lr 1e-03  370 it/s  ETA >999h00m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			var buf bytes.Buffer
			opts := append([]Option{WithClock(c.now), WithTerminal(false), WithLogInterval(time.Second)}, tt.opts...)
			b := NewFrom(&buf, tt.start, tt.total, "train", opts...)
			done := run(c, b, tt.start, 9, 370, time.Second)
			c.advance(time.Second)
			b.Update(done+370, fields...)
			got := lines(t, buf.String())
			if len(got) != 10 || got[9] != tt.want {
				t.Errorf("%d lines, last\n%q\nwant\n%q", len(got), got[len(got)-1], tt.want)
			}
		})
	}
}

func TestResumeRate(t *testing.T) {
	// Resumed at 9000 of 10000: 100 steps in 10 s is 10/s, not 910/s,
	// even before the first rate sample, and 900 steps are left.
	c := newClock()
	var buf bytes.Buffer
	b := NewFrom(&buf, 9000, 10000, "train", WithClock(c.now), WithTerminal(false))
	c.advance(500 * time.Millisecond)
	b.Update(9005)
	if got, want := lines(t, buf.String())[0], "train  90% [==================> ] 9005/10000  10.0 it/s  ETA 1m40s"; got != want {
		t.Errorf("before the first sample:\n%q\nwant\n%q", got, want)
	}
	run(c, b, 9005, 10, 10, time.Second)
	if r := b.rateNow(c.now()); math.Abs(r-10) > 1e-9 {
		t.Errorf("rate %g, want 10", r)
	}
	if got, want := b.eta(c.now()), "1m30s"; got != want {
		t.Errorf("ETA %s, want %s", got, want)
	}
}

func TestPause(t *testing.T) {
	// 10 steps/s, then a 100 s evaluation after 100 of 1000 steps: the
	// rate must stay 10/s (without Pause the sample over the gap is
	// 10 steps in 101 s and drags the smoothed rate to about 0.1/s) and
	// the ETA must count the evaluation's share for the steps left: at 110
	// of 1000, 890/10 = 89 s of steps + 100 s * 890/110 = 809 s of
	// evaluations.
	c := newClock()
	b := New(&bytes.Buffer{}, 1000, "train", WithClock(c.now))
	done := run(c, b, 0, 10, 10, time.Second)
	resume := b.Pause()
	c.advance(100 * time.Second)
	resume()
	done = run(c, b, done, 1, 10, time.Second)
	if r := b.rateNow(c.now()); math.Abs(r-10) > 1e-9 {
		t.Errorf("rate after a paused evaluation %g, want 10", r)
	}
	if got, want := b.eta(c.now()), "14m58s"; got != want {
		t.Errorf("ETA %s, want %s", got, want)
	}
}

func TestRateSmoothing(t *testing.T) {
	c := newClock()
	b := New(&bytes.Buffer{}, 0, "train", WithClock(c.now))
	done := run(c, b, 0, 20, 100, time.Second)
	if r := b.rateNow(c.now()); r != 100 {
		t.Fatalf("steady rate %g, want 100", r)
	}
	// One fast second moves the estimate only part of the way.
	done = run(c, b, done, 1, 200, time.Second)
	if r := b.rateNow(c.now()); r <= 100 || r >= 120 {
		t.Errorf("rate after one fast second %g, want in (100, 120)", r)
	}
	// Updates faster than sampleEvery are measured together, not one by one.
	before := b.rate
	done = run(c, b, done, 9, 20, 100*time.Millisecond)
	if b.rate != before {
		t.Errorf("rate sampled after 0.9 s: %g, was %g", b.rate, before)
	}
	done = run(c, b, done, 1, 20, 100*time.Millisecond)
	if b.rate == before || b.sampleN != done {
		t.Errorf("rate not sampled after 1 s")
	}
	// A sustained change is followed.
	run(c, b, done, 60, 200, time.Second)
	if r := b.rateNow(c.now()); math.Abs(r-200) > 1 {
		t.Errorf("rate after a minute at 200/s: %g", r)
	}
}

func TestNoProgress(t *testing.T) {
	c := newClock()
	var buf bytes.Buffer
	b := New(&buf, 100, "eval", WithClock(c.now), WithTerminal(false), WithLogInterval(time.Second))
	b.Update(0) // at once: no time has passed
	c.advance(5 * time.Second)
	b.Update(0) // no step done: no rate, no ETA
	c.advance(5 * time.Second)
	b.Update(40)
	c.advance(5 * time.Second)
	b.Update(10) // count restarted (a new phase): the rate stays positive
	want := []string{
		"eval   0% [>                   ] 0/100  0.00 it/s  ETA --",
		"eval   0% [>                   ] 0/100  0.00 it/s  ETA --",
		"eval  40% [========>           ] 40/100  8.00 it/s  ETA 8s", // 7.5 s rounded
		"eval  10% [==>                 ] 10/100  8.00 it/s  ETA 11s",
	}
	got := lines(t, buf.String())
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestLogThrottle(t *testing.T) {
	tests := []struct {
		name     string
		interval time.Duration
		want     int // lines in 95 updates, one a second
	}{
		{"default 30s", 0, 4}, // t = 1, 31, 61, 91
		{"10s", 10 * time.Second, 10},
		{"every update", time.Nanosecond, 95},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			var buf bytes.Buffer
			opts := []Option{WithClock(c.now), WithTerminal(false)}
			if tt.interval > 0 {
				opts = append(opts, WithLogInterval(tt.interval))
			}
			b := New(&buf, 1000, "train", opts...)
			run(c, b, 0, 95, 10, time.Second)
			out := buf.String()
			if strings.Contains(out, "\r") {
				t.Error("log output contains \\r")
			}
			if got := len(lines(t, out)); got != tt.want {
				t.Errorf("%d lines, want %d:\n%s", got, tt.want, out)
			}
			c.advance(time.Second)
			if err := b.Finish(); err != nil {
				t.Fatal(err)
			}
			all := lines(t, buf.String())
			if last, want := all[len(all)-1], "train  95% [===================>] 950/1000  9.90 it/s  took 1m36s"; last != want {
				t.Errorf("final line\n%q\nwant\n%q", last, want)
			}
		})
	}
}

func TestTerminal(t *testing.T) {
	c := newClock()
	var buf bytes.Buffer
	b := New(&buf, 100, "test", WithClock(c.now), WithTerminal(true))
	// 20 updates 100 ms apart: drawn at 0.1, 0.4, 0.7, ... 1.9 s.
	run(c, b, 0, 20, 1, 100*time.Millisecond)
	out := buf.String()
	if n := strings.Count(out, "\r"); n != 7 {
		t.Errorf("%d redraws, want 7", n)
	}
	if strings.Contains(out, "\n") {
		t.Error("newline before Finish")
	}
	// A shorter line blanks the rest of the longer one.
	buf.Reset()
	c.advance(time.Second)
	b.Update(20, Field{Name: "loss", Value: 1.5})
	long := strings.TrimPrefix(buf.String(), "\r")
	buf.Reset()
	c.advance(time.Second)
	b.Update(21)
	short := strings.TrimPrefix(buf.String(), "\r")
	if len(short) != len(long) || strings.TrimRight(short, " ") == short {
		t.Errorf("short line %q not padded to %d", short, len(long))
	}
	if err := b.Finish(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(buf.String(), "\n") || !strings.Contains(buf.String(), "took 4s") {
		t.Errorf("final output %q, want a line with the time taken ending in a newline", buf.String())
	}
	// Nothing is drawn after Finish.
	buf.Reset()
	c.advance(time.Minute)
	b.Update(50)
	if err := b.Finish(); err != nil || buf.Len() != 0 {
		t.Errorf("after Finish: wrote %q, error %v", buf.String(), err)
	}
}

type failWriter struct{ n int }

var errDisk = errors.New("disk full")

func (w *failWriter) Write(p []byte) (int, error) {
	w.n++
	if w.n > 1 {
		return 0, errDisk
	}
	return len(p), nil
}

func TestWriteError(t *testing.T) {
	c := newClock()
	b := New(&failWriter{}, 10, "train", WithClock(c.now), WithTerminal(false), WithLogInterval(time.Second))
	for i := range 3 {
		c.advance(time.Second)
		b.Update(i)
	}
	if err := b.Finish(); !errors.Is(err, errDisk) {
		t.Errorf("Finish error %v, want %v", err, errDisk)
	}
}

func TestIsTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Error("regular file detected as a terminal")
	}
	if isTerminal(&bytes.Buffer{}) {
		t.Error("buffer detected as a terminal")
	}
	// /dev/null is a character device, as a terminal is.
	if null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
		defer null.Close()
		if !isTerminal(null) {
			t.Errorf("%s not detected as a character device", os.DevNull)
		}
	}
}
