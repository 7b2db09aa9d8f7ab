package peak

import (
	"math"
	"strings"
	"testing"

	"torchlab/torch/torchrt"
)

// twoXeon is the cpuinfo of a 2-vCPU VM on an AVX-512 Xeon, cut to the keys
// that matter and a few around them.
const twoXeon = `processor	: 0
vendor_id	: GenuineIntel
model name	: Intel(R) Xeon(R) Processor
cpu MHz		: 2600.002
physical id	: 0
siblings	: 2
core id		: 0
cpu cores	: 2
flags		: fpu sse sse2 fma avx avx2 avx512f avx512dq avx512bw avx512vl
bogomips	: 5200.00

processor	: 1
vendor_id	: GenuineIntel
model name	: Intel(R) Xeon(R) Processor
cpu MHz		: 2900.000
physical id	: 0
core id		: 1
flags		: fpu sse sse2
`

func TestParseCPUInfo(t *testing.T) {
	// A hyperthreaded desktop: four processors on two cores, and a clock
	// in the model name.
	ht := strings.Join([]string{
		"processor : 0\nmodel name : Intel(R) Core(TM) i5 CPU @ 3.40GHz\ncpu MHz : 800.0\nphysical id : 0\ncore id : 0\nflags : sse avx fma avx2",
		"processor : 1\nphysical id : 0\ncore id : 1",
		"processor : 2\nphysical id : 0\ncore id : 0",
		"processor : 3\nphysical id : 0\ncore id : 1",
	}, "\n\n")
	for _, tc := range []struct {
		name, text string
		model      string
		mhz        float64
		cores      int
		flags      []string // present
		absent     []string
	}{
		{"xeon vm", twoXeon, "Intel(R) Xeon(R) Processor", 2600.002, 2, []string{"avx512f", "fma", "avx2"}, []string{"avx512_fp16", "fpu sse"}},
		{"hyperthreads", ht, "Intel(R) Core(TM) i5 CPU @ 3.40GHz", 800, 2, []string{"avx2", "fma"}, []string{"avx512f"}},
		{"no core ids", "processor : 0\nflags : sse\n\nprocessor : 1\n\nprocessor : 2\n", "", 0, 3, []string{"sse"}, nil},
		{"empty", "", "", 0, 0, nil, []string{"sse"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseCPUInfo(tc.text)
			if got.Model != tc.model || got.MHz != tc.mhz || got.Cores != tc.cores {
				t.Errorf("model %q, MHz %v, cores %d; want %q, %v, %d", got.Model, got.MHz, got.Cores, tc.model, tc.mhz, tc.cores)
			}
			for _, f := range tc.flags {
				if !got.Flags[f] {
					t.Errorf("flag %q missing from %v", f, got.Flags)
				}
			}
			for _, f := range tc.absent {
				if got.Flags[f] {
					t.Errorf("flag %q present, want absent (only the first processor's flags count)", f)
				}
			}
		})
	}
}

func TestTheoretical(t *testing.T) {
	xeon := ParseCPUInfo(twoXeon)
	avx2 := CPUInfo{Model: "AMD EPYC 7B13 @ 3.00GHz", Flags: map[string]bool{"avx": true, "avx2": true, "fma": true}, MHz: 2450, Cores: 2}
	avx := CPUInfo{Flags: map[string]bool{"avx": true}, MHz: 2000, Cores: 4}
	for _, tc := range []struct {
		name   string
		info   CPUInfo
		maxKHz int64
		units  int
		gflops float64 // cores x GHz x FLOP/cycle, worked by hand
		perCyc int
		source string
	}{
		{"avx-512, 2 units, cpu MHz", xeon, 0, 2, 2 * 2.600002 * 64, 64, "cpu MHz"},
		{"avx-512, 1 unit", xeon, 0, 1, 2 * 2.600002 * 32, 32, "cpu MHz"},
		{"avx-512, cpufreq max wins", xeon, 3_500_000, 2, 2 * 3.5 * 64, 64, "cpufreq max"},
		{"avx2, model name over cpu MHz", avx2, 0, 2, 2 * 3.0 * 32, 32, "model name"},
		{"avx without fma", avx, 0, 2, 4 * 2.0 * 16, 16, "cpu MHz"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Theoretical(tc.info, tc.maxKHz, tc.units)
			if err != nil {
				t.Fatal(err)
			}
			// Relative to the hand-worked peak: only float rounding may differ.
			if !(math.Abs(f.GFLOPS()-tc.gflops) <= 1e-12*tc.gflops) || f.FLOPsPerCycle != tc.perCyc || f.ClockSource != tc.source {
				t.Errorf("%v GFLOP/s, %d FLOP/cycle, clock from %q; want %v, %d, %q", f.GFLOPS(), f.FLOPsPerCycle, f.ClockSource, tc.gflops, tc.perCyc, tc.source)
			}
			if s := f.String(); !strings.Contains(s, "GFLOP/s") || !strings.Contains(s, tc.source) {
				t.Errorf("String() = %q, want the clock's source and the result", s)
			}
		})
	}
	for _, tc := range []struct {
		name  string
		info  CPUInfo
		units int
	}{
		{"no units", xeon, 0},
		{"no processors", CPUInfo{Flags: xeon.Flags, MHz: 2600}, 2},
		{"no clock", CPUInfo{Flags: xeon.Flags, Cores: 2, Model: "x @ fastGHz"}, 2},
		{"no vectors", CPUInfo{Flags: map[string]bool{"fpu": true}, MHz: 2600, Cores: 2}, 2},
	} {
		if f, err := Theoretical(tc.info, 0, tc.units); err == nil {
			t.Errorf("%s: got %v, want an error", tc.name, f)
		}
	}
}

func TestMeasure(t *testing.T) {
	torchrt.Lock()
	m, err := Measure(256, 2)
	if err != nil {
		t.Fatal(err)
	}
	// A product of 2*256^3 FLOPs takes more than a nanosecond and less than a
	// minute on any machine: the rates lie between those bounds (and fail on NaN).
	lo, hi := 2*256*256*256/60.0/1e9, 2*256*256*256/1e-9/1e9
	for name, v := range map[string]float64{"OpenBLAS": m.OpenBLAS, "oneDNN": m.OneDNN} {
		if !(v > lo && v < hi) {
			t.Errorf("%s: %v GFLOP/s, want within (%g, %g)", name, v, lo, hi)
		}
	}
	if m.Best() != max(m.OpenBLAS, m.OneDNN) || m.Threads < 1 {
		t.Errorf("best %v of %v and %v, threads %d", m.Best(), m.OpenBLAS, m.OneDNN, m.Threads)
	}
	if _, err := Measure(100, 1); err == nil {
		t.Error("size 100 (not a multiple of 16): no error")
	}
}
