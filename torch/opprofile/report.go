package opprofile

import (
	"fmt"
	"io"
	"strings"
)

// WriteMarkdown writes p as Markdown: per step, the wall time, the time
// inside libtorch's ops and outside them (Go, cgo, waiting for other ranks),
// then the time and FLOPs by kind of work and the top ops by self time.
// wall is the seconds the steps took; steps how many ran.
func WriteMarkdown(w io.Writer, p Profile, steps int, wall float64) error {
	if steps <= 0 || wall <= 0 {
		return fmt.Errorf("op profile: %d steps in %g s: nothing to report", steps, wall)
	}
	perStep := func(us float64) float64 { return us / 1e3 / float64(steps) } // ms per step
	wallMs := wall * 1e3 / float64(steps)
	share := func(ms float64) float64 { return 100 * ms / wallMs }
	gflops := func(flops, us float64) string {
		if flops == 0 || us == 0 {
			return ""
		}
		return fmt.Sprintf("%.1f", flops/us/1e3)
	}
	var b strings.Builder
	inside := perStep(p.Self())
	fmt.Fprintf(&b, "%d steps, %.1f ms per step (wall)\n\n", steps, wallMs)
	fmt.Fprintf(&b, "| where | ms per step | share of wall |\n|---|---:|---:|\n")
	fmt.Fprintf(&b, "| inside libtorch ops | %.1f | %.1f %% |\n", inside, share(inside))
	fmt.Fprintf(&b, "| outside them (Go, cgo, collectives, data) | %.1f | %.1f %% |\n\n", wallMs-inside, share(wallMs-inside))

	fmt.Fprintf(&b, "| kind of work | ms per step | share of wall | GFLOP per step | GFLOP/s |\n|---|---:|---:|---:|---:|\n")
	totalFLOPs := 0.0
	for _, k := range p.ByKind() {
		totalFLOPs += k.FLOPs
		if k.Self == 0 {
			continue
		}
		ms := perStep(k.Self)
		fmt.Fprintf(&b, "| %s | %.1f | %.1f %% | %s | %s |\n", k.Kind, ms, share(ms), gflop(k.FLOPs/float64(steps)),
			gflops(k.FLOPs, k.Self))
	}
	fmt.Fprintf(&b, "| **step** | **%.1f** | 100 %% | **%s** | **%.1f** |\n\n", wallMs, gflop(totalFLOPs/float64(steps)),
		totalFLOPs/(wall*1e9))

	fmt.Fprintf(&b, "| phase | op | calls per step | self ms per step | share of wall | GFLOP/s |\n|---|---|---:|---:|---:|---:|\n")
	for _, op := range p.Top(20) {
		ms := perStep(op.Self)
		fmt.Fprintf(&b, "| %s | `%s` | %.1f | %.2f | %.1f %% | %s |\n", op.Phase, op.Name,
			float64(op.Calls)/float64(steps), ms, share(ms), gflops(op.FLOPs, op.Self))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func gflop(flops float64) string {
	if flops == 0 {
		return ""
	}
	return fmt.Sprintf("%.2f", flops/1e9)
}
