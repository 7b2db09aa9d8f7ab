// Package peak is the float32 peak a benchmark's GFLOP/s is a share of, in
// two senses: the fastest large matrix product libtorch runs on this machine
// (the best of OpenBLAS's sgemm through at::mm and oneDNN's through a 1x1
// convolution, measured in the calling process), and the theoretical FMA
// peak of the CPU (cores x clock x FLOPs per cycle of its widest vectors).
package peak

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// CPUInfo is what the FMA peak needs from /proc/cpuinfo.
type CPUInfo struct {
	Model string          // first processor's "model name"
	Flags map[string]bool // first processor's "flags"
	MHz   float64         // first processor's "cpu MHz" (0 when absent)
	// Cores counts physical cores: distinct ("physical id", "core id")
	// pairs, or the processors when those keys are absent (as in some
	// VMs). Hyperthreads of one core share its FMA units, so they do not
	// add to the peak.
	Cores int
}

// ParseCPUInfo reads the text of /proc/cpuinfo (x86's layout, "key : value"
// lines with a blank line between processors).
func ParseCPUInfo(text string) CPUInfo {
	var info CPUInfo
	processors := 0
	cores := map[string]bool{}
	physical, first := "", true
	for _, line := range strings.Split(text, "\n") {
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		switch key {
		case "processor":
			if processors > 0 {
				first = false
			}
			processors++
		case "physical id":
			physical = value
		case "core id":
			cores[physical+"/"+value] = true
		case "model name":
			if first {
				info.Model = value
			}
		case "cpu MHz":
			if first {
				if mhz, err := strconv.ParseFloat(value, 64); err == nil {
					info.MHz = mhz
				}
			}
		case "flags":
			if first {
				info.Flags = map[string]bool{}
				for _, f := range strings.Fields(value) {
					info.Flags[f] = true
				}
			}
		}
	}
	info.Cores = len(cores)
	if info.Cores == 0 {
		info.Cores = processors
	}
	return info
}

// FMA is the theoretical float32 peak of a CPU and what it assumes.
type FMA struct {
	Cores       int
	GHz         float64
	ClockSource string // where GHz came from: "cpufreq max", "model name" or "cpu MHz"
	Vector      string // the widest float vectors: "AVX-512", "AVX2+FMA", "AVX", "SSE"
	Lanes       int    // float32 lanes of one vector
	// Units is the FMA units per core assumed (cpuinfo does not say):
	// 2 on most server cores, 1 on some (e.g. low-end Xeon Silver's
	// AVX-512). Without FMA it is 0: one add and one multiply per cycle.
	Units         int
	FLOPsPerCycle int // per core
}

// GFLOPS is cores x clock x FLOPs per cycle.
func (f FMA) GFLOPS() float64 { return f.OnCores(f.Cores) }

// OnCores is the peak of n of the cores (at most all of them): a run with
// fewer threads than cores can reach no more.
func (f FMA) OnCores(n int) float64 {
	return float64(min(max(n, 0), f.Cores)) * f.GHz * float64(f.FLOPsPerCycle)
}

// String says the arithmetic and its assumptions in one line.
func (f FMA) String() string {
	per := fmt.Sprintf("%d FMA units x %d floats x 2", f.Units, f.Lanes)
	if f.Units == 0 {
		per = fmt.Sprintf("an add and a multiply of %d floats, no FMA", f.Lanes)
	}
	return fmt.Sprintf("%d cores x %.2f GHz (%s) x %d FLOP/cycle (%s: %s) = %.1f GFLOP/s",
		f.Cores, f.GHz, f.ClockSource, f.FLOPsPerCycle, f.Vector, per, f.GFLOPS())
}

// Theoretical is the FMA peak of the CPU info describes, assuming units FMA
// units per core (units >= 1). The clock is maxKHz (cpufreq's
// cpuinfo_max_freq) when positive, else the "@ 2.60GHz" of the model name,
// else cpuinfo's "cpu MHz" (the current or nominal clock: a VM often shows
// no other, and turbo can run above it).
func Theoretical(info CPUInfo, maxKHz int64, units int) (FMA, error) {
	if units < 1 {
		return FMA{}, fmt.Errorf("FMA units per core: %d, want >= 1", units)
	}
	if info.Cores < 1 {
		return FMA{}, fmt.Errorf("no processors in cpuinfo")
	}
	f := FMA{Cores: info.Cores}
	switch {
	case maxKHz > 0:
		f.GHz, f.ClockSource = float64(maxKHz)/1e6, "cpufreq max"
	case modelGHz(info.Model) > 0:
		f.GHz, f.ClockSource = modelGHz(info.Model), "model name"
	case info.MHz > 0:
		f.GHz, f.ClockSource = info.MHz/1e3, "cpu MHz"
	default:
		return FMA{}, fmt.Errorf("no clock: no cpufreq maximum, no GHz in model name %q, no cpu MHz", info.Model)
	}
	has := func(flags ...string) bool {
		for _, fl := range flags {
			if !info.Flags[fl] {
				return false
			}
		}
		return true
	}
	switch {
	case has("avx512f"):
		f.Vector, f.Lanes, f.Units = "AVX-512", 16, units
	case has("avx2", "fma"):
		f.Vector, f.Lanes, f.Units = "AVX2+FMA", 8, units
	case has("avx"):
		f.Vector, f.Lanes = "AVX", 8
	case has("sse"):
		f.Vector, f.Lanes = "SSE", 4
	default:
		return FMA{}, fmt.Errorf("no float vector flags (avx512f, avx2 and fma, avx, sse) in cpuinfo")
	}
	if f.Units > 0 {
		f.FLOPsPerCycle = f.Units * f.Lanes * 2 // an FMA is a multiply and an add
	} else {
		f.FLOPsPerCycle = 2 * f.Lanes
	}
	return f, nil
}

// modelGHz is the clock a model name states ("... CPU @ 2.60GHz"), or 0.
func modelGHz(model string) float64 {
	_, after, ok := strings.Cut(model, "@")
	if !ok {
		return 0
	}
	num, ok := strings.CutSuffix(strings.TrimSpace(after), "GHz")
	if !ok {
		return 0
	}
	ghz, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || ghz <= 0 {
		return 0
	}
	return ghz
}

// cpufreqMax is where Linux states a CPU's highest clock, in kHz.
const cpufreqMax = "/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq"

// ThisMachine is the FMA peak of this machine (Theoretical of /proc/cpuinfo
// and cpufreq's maximum when the kernel exposes it).
func ThisMachine(units int) (FMA, error) {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return FMA{}, fmt.Errorf("read /proc/cpuinfo: %w", err)
	}
	var khz int64
	if raw, err := os.ReadFile(cpufreqMax); err == nil {
		khz, _ = strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64)
	}
	return Theoretical(ParseCPUInfo(string(b)), khz, units)
}
