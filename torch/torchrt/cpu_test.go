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
