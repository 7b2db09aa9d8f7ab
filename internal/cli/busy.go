package cli

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// busyCores returns how many cores' worth of CPU the machine spent outside
// idle over the window (from /proc/stat's first line), with this process
// idle meanwhile.
func busyCores(window time.Duration, ncpu int) (float64, error) {
	a, err := cpuTimes()
	if err != nil {
		return 0, err
	}
	time.Sleep(window)
	b, err := cpuTimes()
	if err != nil {
		return 0, err
	}
	total, idle := b[0]-a[0], b[1]-a[1]
	if total <= 0 {
		return 0, nil
	}
	return float64(ncpu) * float64(total-idle) / float64(total), nil
}

// cpuTimes reads /proc/stat's aggregate line: all jiffies, and the idle
// and I/O-wait ones.
func cpuTimes() ([2]int64, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return [2]int64{}, err
	}
	return parseCPUTimes(string(b))
}

func parseCPUTimes(stat string) ([2]int64, error) {
	line, _, _ := strings.Cut(stat, "\n")
	f := strings.Fields(line)
	if len(f) < 6 || f[0] != "cpu" {
		return [2]int64{}, fmt.Errorf("/proc/stat: first line %q is not the cpu line", line)
	}
	var total, idle int64
	for i, s := range f[1:] {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return [2]int64{}, fmt.Errorf("/proc/stat: cpu field %d: %w", i+1, err)
		}
		if i < 8 { // user nice system idle iowait irq softirq steal (guest is inside user)
			total += v
		}
		if i == 3 || i == 4 {
			idle += v
		}
	}
	return [2]int64{total, idle}, nil
}

// busyWarning is the warning for a run of threads libtorch threads on ncpu
// cores when other work keeps busy cores busy, or "" when the threads fit.
func busyWarning(threads, ncpu int, busy float64) string {
	if threads <= 1 || busy < 0.5 || float64(threads) <= float64(ncpu)-busy+0.5 {
		return ""
	}
	return fmt.Sprintf("other work keeps %.1f of %d cores busy: with --threads %d every parallel region waits for a thread "+
		"the scheduler has set aside, and steps can be many times slower (docs/threads.md); --threads 1 is safe", busy, ncpu, threads)
}
