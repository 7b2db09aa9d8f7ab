// Package report writes torchlab's report. Its main part answers the
// assignment's items in the assignment's order (the CNN-basics answers,
// each training part's headline with its table of full runs, named by
// recipe, and its key figures, the VAE theory); its appendices hold the
// evidence: the extra CNN material, and for each training part every
// committed full-length run of docs/results/ with its figures and
// settings, beside the quick runs `make demo` made on this machine. It
// writes report.md (GitHub-renderable, images copied beside it) and a
// self-contained report.html: Markdown rendered by goldmark, images as
// data URIs, and math typeset by KaTeX inlined from Debian's libjs-katex
// (or shown as TeX source when that is missing). The two parts are
// wrapped in elements of class report-main and report-appendices, so that
// each can be printed alone.
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
	// DemoDirs are the quick runs of `make demo` by command (the keys of
	// TrainingParts); a command not in it means Root/out/demo/<command>.
	DemoDirs map[string]string
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

	w := &writer{cfg: cfg, res: &Result{}, keyFigures: map[string]int{}}
	var main, appendices []chapter
	for i, a := range assignment {
		mainBody, appendixBody := a.main, a.extra
		if spec := a.part; spec != nil {
			demo := cfg.DemoDirs[spec.command]
			if demo == "" {
				demo = filepath.Join(cfg.Root, DemoDir(spec.command))
			}
			runs := w.load(spec, demo)
			mainBody = func(w *writer) error { return w.partMain(spec, runs) }
			appendixBody = func(w *writer) error { return w.partAppendix(spec, runs) }
		}
		main = append(main, chapter{fmt.Sprintf("%d. %s", i+1, a.title()), func() error { return mainBody(w) }})
		if appendixBody != nil {
			appendices = append(appendices, chapter{a.appendixTitle(), func() error { return appendixBody(w) }})
		}
	}
	w.header(main, appendices)
	// The two parts are wrapped so that a printer (scripts/check-report.sh)
	// can print and count each alone.
	for _, part := range []struct {
		class    string
		chapters []chapter
	}{{mainClass, main}, {appendixClass, appendices}} {
		w.html(fmt.Sprintf("<div class=\"%s\">\n\n", part.class))
		for _, c := range part.chapters {
			w.p("## %s\n\n", c.title)
			if err := c.body(); err != nil {
				return nil, err
			}
		}
		w.html("</div>\n\n")
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
	// keyFigures numbers the figures of the main part by image file
	// (run folder and name), so the appendices refer to them rather than
	// show them again.
	keyFigures map[string]int
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

// A chapter is one numbered section of the report: its heading, which is
// also its entry in the contents, and what writes its body.
type chapter struct {
	title string
	body  func() error
}

// The classes of the two wrappers: the main part and the appendices.
const (
	mainClass     = "report-main"
	appendixClass = "report-appendices"
)

// header writes the title, what the report is, and the contents: the main
// part's chapters, then the appendices'.
func (w *writer) header(main, appendices []chapter) {
	w.p("# torchlab report\n\n")
	w.p("Written %s by `report`. The main part answers the assignment's items in the assignment's order: "+
		"for each, the answer or the headline result, its key figures and a sentence on what each shows. "+
		"The training results are the full-length runs committed in `%s`; every table names a run by its recipe, "+
		"\"as specified\" being the assignment's and \"tuned\" what the validation split chose. "+
		"The appendices hold the evidence: every run's figures and settings, the extra material, "+
		"and the quick runs `make demo` made on this machine, which show in minutes that the code reproduces the full runs at smaller settings.\n\n",
		stamp(w.cfg.Now), w.rel(w.cfg.ResultsDir))
	w.p("**Contents**\n\n")
	for _, c := range main {
		w.p("- [%s](#%s)\n", c.title, anchor(c.title))
	}
	w.p("- Appendices\n")
	for _, c := range appendices {
		w.p("  - [%s](#%s)\n", strings.TrimPrefix(c.title, "Appendix "), anchor(c.title))
	}
	w.p("\n")
}

// anchor is the id a heading gets, both from goldmark's automatic heading
// ids (report.html) and from GitHub (report.md), for the ASCII titles the
// report gives its chapters: letters and digits lower-cased, spaces,
// hyphens and underscores as hyphens, everything else dropped.
func anchor(title string) string {
	var b strings.Builder
	for _, c := range strings.TrimSpace(title) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteRune(c)
		case c >= 'A' && c <= 'Z':
			b.WriteRune(c + 'a' - 'A')
		case c == ' ', c == '-', c == '_':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// cnnParts returns part 1 as Markdown: the four answers, and the extra
// material cnncalc.Markdown writes after them under "## Extra: " headings.
func (w *writer) cnnParts() (answers, extra string, _ *cnncalc.Report, _ error) {
	net, err := cnncalc.Parse(w.cfg.Spec)
	if err != nil {
		return "", "", nil, fmt.Errorf("report part 1: %w", err)
	}
	r, err := cnncalc.Analyze(net)
	if err != nil {
		return "", "", nil, fmt.Errorf("report part 1: %w", err)
	}
	md := cnncalc.Markdown(r, w.cfg.CNNChecks)
	answers, extra, found := strings.Cut(md, "\n## Extra: ")
	if found {
		extra = "## Extra: " + extra
	}
	return answers, extra, r, nil
}

func (w *writer) cnn() error {
	answers, extra, r, err := w.cnnParts()
	if err != nil {
		return err
	}
	w.p("The assignment's four questions, (1) to (4) in its order, answered for its network by `cnn-calc` " +
		"(package `internal/cnncalc`); the same text is committed as `docs/results/cnn-basics.md`. ")
	if w.cfg.CNNChecks != nil {
		w.p("Under each answer, \"Checked\" says what libtorch confirmed by building the network.")
	} else {
		w.p("Not checked by libtorch in this report; `cnn-calc` does the check.")
	}
	if extra != "" {
		w.p(" Material the assignment does not ask for is in [Appendix A](#%s).", anchor("Appendix A. CNN basics: extra material"))
	}
	w.p("\n\n")
	qs := cnncalc.Answers(r, w.cfg.CNNChecks)
	w.p("| question | answer |\n|---|---|\n")
	var pads []string
	for _, sp := range r.SamePadding {
		pads = append(pads, fmt.Sprintf("%s (%dx%d filter): %dx%d", sp.Name, sp.Kernel[0], sp.Kernel[1], sp.Pad[0], sp.Pad[1]))
	}
	w.p("| %s | zero padding p = (k-1)/2 on each side (rows x columns): %s |\n", qs[0].Heading(), cell(strings.Join(pads, "; ")))
	var outs []string
	for _, l := range r.NoPadding.Layers {
		if l.Kind != cnncalc.KindFC {
			outs = append(outs, fmt.Sprintf("%s %dx%dx%d", l.Name, l.Out[0], l.Out[1], l.Out[2]))
		}
	}
	if r.NoPadding.Invalid != "" {
		outs = []string{"not computable: " + r.NoPadding.Invalid}
	}
	w.p("| %s | %s (height x width x channels) |\n", qs[1].Heading(), cell(strings.Join(outs, "; ")))
	w.p("| %s | %dx%d input pixels (layer %d) |\n", qs[2].Heading(),
		r.ReceptiveField[0], r.ReceptiveField[1], r.ReceptiveFieldLayer)
	w.p("| %s | %s (no biases) |\n\n", qs[3].Heading(), paramsCell(r.SameSize))
	w.p("%s\n\n", demote(answers, 1))
	return nil
}

// cnnExtra writes appendix A: what cnn-calc adds after the four answers.
func (w *writer) cnnExtra() error {
	_, extra, _, err := w.cnnParts()
	if err != nil {
		return err
	}
	if extra == "" {
		w.p("`cnn-calc` has nothing to add to the four answers for this network.\n\n")
		return nil
	}
	w.p("What `cnn-calc` adds after the four answers of part 1, which the assignment does not ask for.\n\n")
	w.p("%s\n\n", demote(extra, 1))
	return nil
}

func paramsCell(v cnncalc.Variant) string {
	if v.Invalid != "" {
		return cell("not computable: " + v.Invalid)
	}
	return thousands(float64(v.Params))
}

func (w *writer) theory() error {
	b, err := os.ReadFile(w.cfg.Theory)
	if errors.Is(err, os.ErrNotExist) {
		w.p("The VAE theory is not in this copy of the repository (it lives in `docs/theory.md`).\n\n")
		w.res.Problems = append(w.res.Problems, err.Error())
		return nil
	}
	if err != nil {
		return fmt.Errorf("report part 4: %w", err)
	}
	w.p("From `docs/theory.md`.\n\n")
	w.p("%s\n\n", demote(dropTitle(string(b)), 1))
	return nil
}

// demote pushes every Markdown heading down by n levels (outside code
// fences), so a document's "## Section" fits under the report's "## 4.".
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
