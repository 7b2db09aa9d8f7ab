package torchrt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseCPUInfo(t *testing.T) {
	for _, c := range []struct{ flags, isa string }{
		{"fpu sse4_1 avx avx2 fma", "avx2"},
		{"sse4_1 avx avx2 fma avx512f avx512bw avx512vl avx512dq avx512_vnni", "avx512_core_vnni"},
		{"sse4_1 avx avx2 fma avx512f avx512bw avx512vl avx512dq avx512_fp16 amx_tile", "avx512_core_amx"},
		{"sse4_1 avx avx2", "avx"}, // avx2 without fma is not oneDNN's avx2
		{"fpu", "unknown"},
	} {
		info := "processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: " + c.flags + "\n\nprocessor\t: 1\nmodel name\t: Other\nflags\t: avx512f\n"
		model, isa := parseCPUInfo(info)
		if model != "Some CPU" || isa != c.isa {
			t.Errorf("flags %q: got %q, %q; want \"Some CPU\", %q", c.flags, model, isa, c.isa)
		}
	}
}

func TestCacheSizes(t *testing.T) {
	dir := t.TempDir()
	for i, f := range [][3]string{{"1", "Data", "32K"}, {"1", "Instruction", "64K"}, {"2", "Unified", "1024K"}, {"3", "Unified", "16384K"}} {
		d := filepath.Join(dir, "index"+string(rune('0'+i)))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for j, name := range []string{"level", "type", "size"} {
			if err := os.WriteFile(filepath.Join(d, name), []byte(f[j]+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got, want := cacheSizes(dir), [3]int{32, 1024, 16384}; got != want {
		t.Errorf("cacheSizes = %v, want %v", got, want)
	}
}

// TestThisCPUFindsOpenBLAS: libtorch here runs on OpenBLAS (make setup),
// and a key without its core would let two machines with different
// kernels share a fixture.
func TestThisCPUFindsOpenBLAS(t *testing.T) {
	c := ThisCPU()
	t.Log(c.Key())
	if c.BLASCore == "not OpenBLAS" || c.BLASCore == "" {
		t.Errorf("OpenBLAS's core name not found: %+v", c)
	}
	if c.ISA == "unknown" || c.CacheKB[1] == 0 || strings.Contains(c.Key(), "\n") {
		t.Errorf("incomplete CPU description: %+v", c)
	}
}

func TestCapISA(t *testing.T) {
	for _, c := range []struct{ detected, max, want string }{
		{"avx512_core_amx", "", "avx512_core_amx"},
		{"avx512_core_amx", "ALL", "avx512_core_amx"},
		{"avx512_core_amx", "AVX2", "avx2"},
		{"avx2", "AVX512_CORE", "avx2"}, // oneDNN cannot exceed the CPU
		{"avx512_core_amx", "AVX2_VNNI", "avx512_core_amx (max avx2_vnni)"},
		{"unknown", "avx", "avx"},
	} {
		if got := capISA(c.detected, c.max); got != c.want {
			t.Errorf("capISA(%q, %q) = %q, want %q", c.detected, c.max, got, c.want)
		}
	}
}

func TestParseKey(t *testing.T) {
	c := CPU{Model: "Some CPU @ 2.0GHz", ISA: "avx2", BLASCore: "Haswell", CacheKB: [3]int{32, 1024, 16384}}
	got, err := ParseKey(c.Key())
	if err != nil || got != c {
		t.Errorf("ParseKey(%q) = %+v, %v; want %+v", c.Key(), got, err, c)
	}
	for _, bad := range []string{
		"before machine keys (2026-12-02/03): AVX2, OpenBLAS Haswell",
		"Some CPU; avx2; Haswell; L1d 32K L2 1024K L3 16384K",
		"Some CPU; avx2; OpenBLAS Haswell; L1d 32K L2 1024K",
		"Some CPU; avx2; OpenBLAS Haswell; L1d 32K L2 1024K L3 16384K extra",
		"; avx2; OpenBLAS Haswell; L1d 32K L2 1024K L3 16384K",
	} {
		if _, err := ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q): no error", bad)
		}
	}
}
