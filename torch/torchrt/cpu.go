package torchrt

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// CPU is what libtorch's float results depend on beyond the code: the
// kernels chosen at run time. OpenBLAS picks its GEMM kernels by core,
// oneDNN its convolution kernels by instruction set and blocks them by
// cache size, so the same program and seed give losses that differ in
// the last bits on another CPU, and training amplifies them.
type CPU struct {
	Model    string // /proc/cpuinfo "model name"
	ISA      string // the widest of oneDNN's x86 levels the CPU has and oneDNN may use
	CacheKB  [3]int // per-core L1 data and L2, shared L3, from sysfs
	BLASCore string // OpenBLAS's core name, or "not OpenBLAS"
}

// ThisCPU reads the CPU this process runs on.
func ThisCPU() CPU {
	c := CPU{Model: "unknown", ISA: "unknown", BLASCore: "not OpenBLAS"}
	if name, ok := BLASCore(); ok {
		c.BLASCore = name
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		c.Model, c.ISA = parseCPUInfo(string(b))
	}
	c.ISA = capISA(c.ISA, oneDNNMaxISA())
	c.CacheKB = cacheSizes("/sys/devices/system/cpu/cpu0/cache")
	return c
}

// Key names the machine's numerics in one line, for fixtures recorded
// per machine: two machines with the same key run the same kernels.
// ParseKey reads it back.
func (c CPU) Key() string {
	return fmt.Sprintf("%s; %s; OpenBLAS %s; L1d %dK L2 %dK L3 %dK", c.Model, c.ISA, c.BLASCore, c.CacheKB[0], c.CacheKB[1], c.CacheKB[2])
}

// ParseKey reads a Key back into a CPU; a string Key cannot produce is an
// error.
func ParseKey(key string) (CPU, error) {
	var c CPU
	parts := strings.Split(key, "; ")
	if len(parts) != 4 {
		return c, fmt.Errorf("machine key %q: want 4 parts separated by \"; \", got %d", key, len(parts))
	}
	c.Model, c.ISA = parts[0], parts[1]
	core, ok := strings.CutPrefix(parts[2], "OpenBLAS ")
	if !ok {
		return c, fmt.Errorf("machine key %q: third part %q does not start with \"OpenBLAS \"", key, parts[2])
	}
	c.BLASCore = core
	if _, err := fmt.Sscanf(parts[3], "L1d %dK L2 %dK L3 %dK", &c.CacheKB[0], &c.CacheKB[1], &c.CacheKB[2]); err != nil {
		return c, fmt.Errorf("machine key %q: cache sizes %q: %w", key, parts[3], err)
	}
	if c.Model == "" || c.ISA == "" || c.BLASCore == "" || c.Key() != key {
		return c, fmt.Errorf("machine key %q is not one Key produces", key)
	}
	return c, nil
}

// oneDNNMaxISA is the instruction set oneDNN is told not to exceed, as it
// reads it: ONEDNN_MAX_CPU_ISA, else DNNL_MAX_CPU_ISA; "" when neither.
func oneDNNMaxISA() string {
	for _, name := range []string{"ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"} {
		if v := os.Getenv(name); v != "" {
			return v
		}
	}
	return ""
}

// capISA is the level oneDNN uses on a CPU of level detected when told not
// to exceed limit: the narrower of the two. A limit that is not one of
// isaLevels (nor "ALL") still changes the kernels, so it is named.
func capISA(detected, limit string) string {
	limit = strings.ToLower(limit)
	if limit == "" || limit == "all" {
		return detected
	}
	rank := func(level string) int {
		for i, l := range isaLevels {
			if l.name == level {
				return i
			}
		}
		return -1
	}
	m, d := rank(limit), rank(detected)
	switch {
	case m < 0:
		return fmt.Sprintf("%s (max %s)", detected, limit)
	case d < 0 || m > d: // isaLevels lists the widest first
		return limit
	}
	return detected
}

// isaLevels are oneDNN's x86 dispatch levels, widest first, each with the
// cpuinfo flags it needs.
var isaLevels = []struct {
	name  string
	flags []string
}{
	{"avx512_core_amx", []string{"avx512f", "avx512bw", "avx512vl", "avx512dq", "amx_tile"}},
	{"avx512_core_fp16", []string{"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_fp16"}},
	{"avx512_core_bf16", []string{"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_bf16"}},
	{"avx512_core_vnni", []string{"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_vnni"}},
	{"avx512_core", []string{"avx512f", "avx512bw", "avx512vl", "avx512dq"}},
	{"avx2", []string{"avx2", "fma"}},
	{"avx", []string{"avx"}},
	{"sse41", []string{"sse4_1"}},
}

// parseCPUInfo returns the first processor's model name and ISA level.
func parseCPUInfo(cpuinfo string) (model, isa string) {
	model, isa = "unknown", "unknown"
	have := map[string]bool{}
	for _, line := range strings.Split(cpuinfo, "\n") {
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(key) {
		case "model name":
			if model == "unknown" {
				model = strings.TrimSpace(value)
			}
		case "flags":
			if len(have) == 0 {
				for _, f := range strings.Fields(value) {
					have[f] = true
				}
			}
		}
	}
	for _, level := range isaLevels {
		all := true
		for _, f := range level.flags {
			all = all && have[f]
		}
		if all {
			return model, level.name
		}
	}
	return model, isa
}

// cacheSizes reads the L1 data, L2 and L3 sizes in KB under dir (sysfs's
// cpuN/cache); a level it cannot read stays 0.
func cacheSizes(dir string) [3]int {
	var kb [3]int
	entries, _ := filepath.Glob(filepath.Join(dir, "index*"))
	for _, e := range entries {
		read := func(name string) string {
			b, _ := os.ReadFile(filepath.Join(e, name))
			return strings.TrimSpace(string(b))
		}
		var level, size int
		if _, err := fmt.Sscan(read("level"), &level); err != nil || level < 1 || level > 3 {
			continue
		}
		if typ := read("type"); typ == "Instruction" {
			continue
		}
		if _, err := fmt.Sscanf(read("size"), "%dK", &size); err == nil {
			kb[level-1] = size
		}
	}
	return kb
}
