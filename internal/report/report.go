// Package report writes torchlab's report: the CNN-basics answers, the VAE
// theory, and for each training part the committed full-length runs of
// docs/results/ as the results, beside the quick runs `make demo` made on
// this machine. It writes report.md (GitHub-renderable, images copied
// beside it) and a self-contained report.html: Markdown rendered by
// goldmark, images as data URIs, and math typeset by KaTeX inlined from
// Debian's libjs-katex (or shown as TeX source when that is missing).
package report

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"torchlab/internal/cnncalc"
)

// Config says where the report goes and what it reads.
type Config struct {
	// Out is the report folder: report.md, report.html and img/.
	Out string
	// Root is the repository root the default folders are relative to.
	Root string
	// ResultsDir holds the committed full-length runs, one folder per
	// command (and variants such as lstm-tweets-lr1e-3); "" means
	// Root/docs/results.
	ResultsDir string
	// VGGDir, LSTMDir and VAEDir are the quick runs of `make demo`; ""
	// means Root/out/demo/<command>.
	VGGDir, LSTMDir, VAEDir string
	// Theory is the theory Markdown file; "" means Root/docs/theory.md.
	Theory string
	// Spec is the network of part 1; "" means cnncalc.DefaultSpec.
	Spec string
	// CNNChecks says under each answer of part 1 what libtorch confirmed,
	// if the check was run (the report package itself does not call
	// libtorch); nil means not checked.
	CNNChecks *cnncalc.Checks
	// KaTeXDir holds katex.min.js, katex.min.css and fonts/; "" means
	// DefaultKaTeXDir. Without it the HTML shows formulas as TeX source.
	KaTeXDir string
	// Now dates the report; zero means time.Now().
	Now time.Time
}

// Result says what Write wrote.
type Result struct {
	Markdown, HTML string   // file paths
	Images         []string // copied image paths
	// Missing names the runs not found, e.g. "vgg-mnist: quick run".
	Missing  []string
	Problems []string // files that could not be read
	// MathRendered says whether KaTeX was inlined into the HTML.
	MathRendered bool
}

// DemoDir is where `make demo` leaves command's quick run, relative to the
// repository root.
func DemoDir(command string) string { return filepath.Join("out", "demo", command) }

// ResultsDir is where the committed full-length runs are, relative to the
// repository root.
const ResultsDir = "docs/results"

// Write gathers everything and writes the report.
func Write(cfg Config) (*Result, error) {
	if cfg.Out == "" {
		return nil, errors.New("report: no output folder")
	}
	if cfg.Now.IsZero() {
		cfg.Now = time.Now()
	}
	if cfg.Spec == "" {
		cfg.Spec = cnncalc.DefaultSpec
	}
	if cfg.Theory == "" {
		cfg.Theory = filepath.Join(cfg.Root, "docs", "theory.md")
	}
	if cfg.ResultsDir == "" {
		cfg.ResultsDir = filepath.Join(cfg.Root, ResultsDir)
	}
	if cfg.KaTeXDir == "" {
		cfg.KaTeXDir = DefaultKaTeXDir
	}
	// Old images would otherwise linger and be mistaken for the new run's.
	if err := os.RemoveAll(filepath.Join(cfg.Out, "img")); err != nil {
		return nil, fmt.Errorf("report: clean %s: %w", cfg.Out, err)
	}
	if err := os.MkdirAll(filepath.Join(cfg.Out, "img"), 0o755); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}

	w := &writer{cfg: cfg, res: &Result{}}
	w.header()
	if err := w.cnn(); err != nil {
		return nil, err
	}
	if err := w.theory(); err != nil {
		return nil, err
	}
	for _, p := range []struct {
		spec *partSpec
		demo string
	}{{&vgg, cfg.VGGDir}, {&lstm, cfg.LSTMDir}, {&vae, cfg.VAEDir}} {
		if p.demo == "" {
			p.demo = filepath.Join(cfg.Root, DemoDir(p.spec.command))
		}
		if err := w.part(p.spec, fullRuns(cfg.ResultsDir, p.spec.command), demoRun(p.demo)); err != nil {
			return nil, err
		}
	}

	md := w.b.String()
	w.res.Markdown = filepath.Join(cfg.Out, "report.md")
	if err := os.WriteFile(w.res.Markdown, []byte(md), 0o644); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	kt, err := loadKaTeX(cfg.KaTeXDir)
	if err != nil {
		w.res.Problems = append(w.res.Problems, err.Error())
		kt = nil
	}
	page, err := renderHTML("torchlab report", md, cfg.Out, kt, w.trusted)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	w.res.MathRendered = kt != nil
	w.res.HTML = filepath.Join(cfg.Out, "report.html")
	if err := os.WriteFile(w.res.HTML, []byte(page), 0o644); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return w.res, nil
}

type writer struct {
	cfg     Config
	b       strings.Builder
	res     *Result
	figures int
	trusted map[string]bool // the HTML blocks written by html
}

func (w *writer) p(format string, args ...any) {
	fmt.Fprintf(&w.b, format, args...)
}

// html writes one of the report's own HTML blocks (ending in a blank line),
// which report.html keeps as HTML. Every string in it that comes from a run
// folder must already be escaped; HTML anywhere else shows as text.
func (w *writer) html(block string) {
	if w.trusted == nil {
		w.trusted = map[string]bool{}
	}
	w.trusted[strings.TrimSpace(block)] = true
	w.b.WriteString(block)
}

// rel writes a path relative to the repository root when it is inside it.
func (w *writer) rel(path string) string {
	root, err := filepath.Abs(w.cfg.Root)
	if err != nil {
		return path
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	if r, err := filepath.Rel(root, abs); err == nil && !strings.HasPrefix(r, "..") {
		return filepath.ToSlash(r)
	}
	return path
}

func (w *writer) header() {
	w.p("# torchlab report\n\n")
	w.p("Written %s by `report`. Part 1 answers the CNN-basics questions and part 2 derives the VAE "+
		"theory. Parts 3 to 5 present the full-length training runs committed in `%s` as the results, "+
		"each with the command that made it and its date, and beside them the quick runs `make demo` "+
		"made on this machine, which show that the code reproduces them in minutes, at smaller settings.\n\n",
		stamp(w.cfg.Now), w.rel(w.cfg.ResultsDir))
}

func (w *writer) cnn() error {
	net, err := cnncalc.Parse(w.cfg.Spec)
	if err != nil {
		return fmt.Errorf("report part 1: %w", err)
	}
	r, err := cnncalc.Analyze(net)
	if err != nil {
		return fmt.Errorf("report part 1: %w", err)
	}
	w.p("## 1. CNN basics\n\n")
	w.p("The assignment's four questions, (1) to (4) in its order, answered for its network by `cnn-calc` " +
		"(package `internal/cnncalc`); the same text is committed as `docs/results/cnn-basics.md`. ")
	if w.cfg.CNNChecks != nil {
		w.p("Under each answer, \"Checked\" says what libtorch confirmed by building the network.\n\n")
	} else {
		w.p("Not checked by libtorch in this report; `cnn-calc` does the check.\n\n")
	}
	answers := cnncalc.Answers(r, w.cfg.CNNChecks)
	w.p("| question | answer |\n|---|---|\n")
	var pads []string
	for _, sp := range r.SamePadding {
		pads = append(pads, fmt.Sprintf("%s (%dx%d filter): %dx%d", sp.Name, sp.Kernel[0], sp.Kernel[1], sp.Pad[0], sp.Pad[1]))
	}
	w.p("| %s | zero padding p = (k-1)/2 on each side (rows x columns): %s |\n", answers[0].Heading(), cell(strings.Join(pads, "; ")))
	var outs []string
	for _, l := range r.NoPadding.Layers {
		if l.Kind != cnncalc.KindFC {
			outs = append(outs, fmt.Sprintf("%s %dx%dx%d", l.Name, l.Out[0], l.Out[1], l.Out[2]))
		}
	}
	if r.NoPadding.Invalid != "" {
		outs = []string{"not computable: " + r.NoPadding.Invalid}
	}
	w.p("| %s | %s (height x width x channels) |\n", answers[1].Heading(), cell(strings.Join(outs, "; ")))
	w.p("| %s | %dx%d input pixels (layer %d) |\n", answers[2].Heading(),
		r.ReceptiveField[0], r.ReceptiveField[1], r.ReceptiveFieldLayer)
	w.p("| %s | %s (no biases) |\n\n", answers[3].Heading(), paramsCell(r.SameSize))
	w.p("%s\n", demote(cnncalc.Markdown(r, w.cfg.CNNChecks), 1))
	return nil
}

func paramsCell(v cnncalc.Variant) string {
	if v.Invalid != "" {
		return cell("not computable: " + v.Invalid)
	}
	return thousands(float64(v.Params))
}

func (w *writer) theory() error {
	w.p("## 2. VAE theory\n\n")
	b, err := os.ReadFile(w.cfg.Theory)
	if errors.Is(err, os.ErrNotExist) {
		w.p("The VAE theory is not in this copy of the repository (it lives in `docs/theory.md`).\n\n")
		w.res.Problems = append(w.res.Problems, err.Error())
		return nil
	}
	if err != nil {
		return fmt.Errorf("report part 2: %w", err)
	}
	w.p("From `docs/theory.md`.\n\n")
	w.p("%s\n\n", demote(dropTitle(string(b)), 2))
	return nil
}

// demote pushes every Markdown heading down by n levels (outside code
// fences), so a document's "# Title" fits under the report's "## 2.".
func demote(md string, n int) string {
	lines := strings.Split(strings.TrimRight(md, "\n"), "\n")
	fence := false
	for i, l := range lines {
		if strings.HasPrefix(l, "```") {
			fence = !fence
			continue
		}
		if !fence && strings.HasPrefix(l, "#") {
			level := len(l) - len(strings.TrimLeft(l, "#"))
			lines[i] = strings.Repeat("#", min(level+n, 6)) + l[level:]
		}
	}
	return strings.Join(lines, "\n")
}

// dropTitle removes a document's leading "# Title" line, which the report's
// own part heading replaces.
func dropTitle(md string) string {
	trimmed := strings.TrimLeft(md, "\n")
	if strings.HasPrefix(trimmed, "# ") {
		if i := strings.IndexByte(trimmed, '\n'); i >= 0 {
			return strings.TrimLeft(trimmed[i+1:], "\n")
		}
		return ""
	}
	return md
}
