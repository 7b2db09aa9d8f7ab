// Package report writes torchlab's report: the CNN-basics answers, the VAE
// theory, and every figure and summary number of the latest vgg-mnist,
// lstm-tweets and vae-galaxy runs it finds, as report.md (GitHub-renderable,
// images copied beside it) and a self-contained report.html (images embedded
// as data URIs, no external references, math kept as text).
//
// The report is written as Markdown first and the HTML is rendered from
// that same text by a small renderer for the subset of Markdown used here,
// so the two files always say the same thing.
package report

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"torchlab/internal/cnncalc"
	"torchlab/internal/metrics"
)

// Config says where the report goes and what it reads.
type Config struct {
	// Out is the report folder: report.md, report.html and img/.
	Out string
	// Root is the repository root the default folders are relative to.
	Root string
	// VGGDir, LSTMDir and VAEDir are the run folders; "" means the newest of
	// out/<cmd>, out/demo/<cmd> and docs/results/<cmd> under Root.
	VGGDir, LSTMDir, VAEDir string
	// Theory is the theory Markdown file; "" means Root/docs/theory.md.
	Theory string
	// Spec is the network of part 1; "" means cnncalc.DefaultSpec.
	Spec string
	// CNNCheck is the libtorch check's summary of that network, if it was
	// run (the report package itself does not call libtorch).
	CNNCheck string
	// Now dates the report; zero means time.Now().
	Now time.Time
}

// Result says what Write wrote.
type Result struct {
	Markdown, HTML string   // file paths
	Images         []string // copied image paths
	Missing        []string // parts with no run
	Problems       []string // files that could not be read
}

// DefaultDirs are the folders searched for a command's runs, relative to
// the repository root, in order.
func DefaultDirs(command string) []string {
	return []string{
		filepath.Join("out", command),
		filepath.Join("out", "demo", command),
		filepath.Join("docs", "results", command),
	}
}

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
	parts := []struct{ n, title, command, dir, hint string }{
		{"3", "VGG11 on MNIST", "vgg-mnist", cfg.VGGDir, "`vgg-mnist --out out/vgg-mnist`"},
		{"4", "Character-level LSTM on tweets", "lstm-tweets", cfg.LSTMDir, "`lstm-tweets --out out/lstm-tweets`"},
		{"5", "Galaxy Zoo VAEs", "vae-galaxy", cfg.VAEDir, "`vae-galaxy --arch conv --out out/vae-galaxy/conv` (one folder per architecture)"},
	}
	for _, p := range parts {
		cands := []string{p.dir}
		if p.dir == "" {
			cands = nil
			for _, d := range DefaultDirs(p.command) {
				cands = append(cands, filepath.Join(cfg.Root, d))
			}
		}
		if err := w.part(p.n, p.hint, loadPart(p.title, p.command, cands)); err != nil {
			return nil, err
		}
	}

	md := w.b.String()
	w.res.Markdown = filepath.Join(cfg.Out, "report.md")
	if err := os.WriteFile(w.res.Markdown, []byte(md), 0o644); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	html, err := renderHTML("torchlab report", md, cfg.Out)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	w.res.HTML = filepath.Join(cfg.Out, "report.html")
	if err := os.WriteFile(w.res.HTML, []byte(html), 0o644); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return w.res, nil
}

type writer struct {
	cfg     Config
	b       strings.Builder
	res     *Result
	figures int
}

func (w *writer) p(format string, args ...any) {
	fmt.Fprintf(&w.b, format, args...)
}

func (w *writer) header() {
	w.p("# torchlab report\n\n")
	w.p("Written %s by `report`. Parts: 1. CNN basics; 2. VAE theory; 3. VGG11 on MNIST; "+
		"4. character-level LSTM on tweets; 5. Galaxy Zoo VAEs. Figures and numbers come from "+
		"the newest run folders found; each figure says which command made it and when.\n\n",
		w.cfg.Now.Format("2006-01-02 15:04 MST"))
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
	w.p("The network: `%s`. Sizes are height x width (x channels), so `pool 2x4` halves the "+
		"height and quarters the width. Computed by `cnn-calc` (package `internal/cnncalc`).\n\n", r.Spec)
	w.p("| question | answer |\n|---|---|\n")
	var pads []string
	for _, sp := range r.SamePadding {
		pads = append(pads, fmt.Sprintf("%s (%dx%d filter): %dx%d", sp.Name, sp.Kernel[0], sp.Kernel[1], sp.Pad[0], sp.Pad[1]))
	}
	w.p("| padding keeping a stride-1 conv's size, p = (k-1)/2 (rows x columns per side) | %s |\n", cell(strings.Join(pads, "; ")))
	var outs []string
	for _, l := range r.NoPadding.Layers {
		outs = append(outs, fmt.Sprintf("%s %dx%dx%d", l.Name, l.Out[0], l.Out[1], l.Out[2]))
	}
	if r.NoPadding.Invalid != "" {
		outs = []string{"not computable: " + r.NoPadding.Invalid}
	}
	w.p("| output sizes without padding (height x width x channels) | %s |\n", cell(strings.Join(outs, "; ")))
	w.p("| receptive field of one neuron of the last conv layer (layer %d) | %dx%d input pixels |\n",
		r.ReceptiveFieldLayer, r.ReceptiveField[0], r.ReceptiveField[1])
	w.p("| weights without padding (no biases) | %s |\n", paramsCell(r.NoPadding))
	w.p("| weights when every conv keeps its input's height and width | %s |\n\n", paramsCell(r.SameSize))
	if w.cfg.CNNCheck != "" {
		w.p("Checked by libtorch, which built each variant, ran a zero image through it and backpropagated " +
			"from one neuron (average pooling, weights of one) to count the input pixels it depends on:\n\n")
		for _, line := range strings.Split(strings.TrimSpace(w.cfg.CNNCheck), "\n") {
			w.p("- %s\n", line)
		}
		w.p("\n")
	} else {
		w.p("Not checked by libtorch in this report; `cnn-calc` does the check.\n\n")
	}
	w.p("The reasoning, as `cnn-calc` prints it:\n\n```text\n%s```\n\n", cnncalc.Explain(r))
	return nil
}

func paramsCell(v cnncalc.Variant) string {
	if v.Invalid != "" {
		return cell("not computable: " + v.Invalid)
	}
	return fmt.Sprintf("%d", v.Params)
}

func (w *writer) theory() error {
	w.p("## 2. VAE theory\n\n")
	b, err := os.ReadFile(w.cfg.Theory)
	if errors.Is(err, os.ErrNotExist) {
		w.p("The theory file %s was not found.\n\n", "`"+w.cfg.Theory+"`")
		w.res.Problems = append(w.res.Problems, err.Error())
		return nil
	}
	if err != nil {
		return fmt.Errorf("report part 2: %w", err)
	}
	w.p("From `docs/theory.md`.\n\n")
	w.p("%s\n\n", demote(string(b), 2))
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

func (w *writer) part(n, hint string, p *Part) error {
	w.p("## %s. %s\n\n", n, p.Title)
	if p.Dir == "" {
		w.res.Missing = append(w.res.Missing, p.Command)
		w.p("No run of %s found in %s; run `make demo` (quick runs into `out/demo/`) or %s "+
			"and then `report` again.\n\n", p.Command, quoteList(p.Searched), hint)
		return nil
	}
	w.p("From `%s`.\n\n", p.Dir)
	runs := append([]*Run{p.Top}, p.Subruns...)
	// Comparison figures at the top of a part with subruns are made from
	// those runs; caption them with the newest one.
	captionRun := p.Top
	if p.Top.Summary == nil && len(p.Subruns) > 0 {
		captionRun = latest(p.Subruns)
	}
	for _, r := range runs {
		if r == p.Top && r.Summary == nil && len(r.Figures) == 0 && len(r.Problems) == 0 {
			continue // just the folder of the subruns
		}
		if r.Name != "" {
			w.p("### %s. %s: %s\n\n", n, p.Title, r.Name)
		}
		if err := w.run(p, r, captionRun); err != nil {
			return err
		}
	}
	return nil
}

func latest(runs []*Run) *Run {
	var best *Run
	for _, r := range runs {
		if r.Summary != nil && (best == nil || r.Summary.Finished.After(best.Summary.Finished)) {
			best = r
		}
	}
	if best == nil {
		return runs[0]
	}
	return best
}

func (w *writer) run(p *Part, r *Run, captionRun *Run) error {
	for _, prob := range r.Problems {
		w.res.Problems = append(w.res.Problems, prob)
		w.p("Could not read: %s\n\n", cell(prob))
	}
	s := r.Summary
	if s != nil {
		w.p("- Command: `%s`\n", s.Command)
		w.p("- Ran %s to %s (%s)\n", date(s.Started), date(s.Finished), duration(s.Seconds))
		if cfg := s.ConfigPairs(); len(cfg) > 0 {
			w.p("- Configuration: %s\n", codeList(cfg))
		}
		for _, note := range s.Notes {
			w.p("- Note: %s\n", cell(note))
		}
		w.p("\n")
		if len(s.Results) > 0 {
			keys := make([]string, 0, len(s.Results))
			for k := range s.Results {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			w.p("| result | value |\n|---|---:|\n")
			for _, k := range keys {
				w.p("| %s | %s |\n", cell(k), number(s.Results[k]))
			}
			w.p("\n")
		}
	} else if r.Name != "" || len(r.Figures) > 0 {
		w.p("No summary.json in `%s`.\n\n", r.Dir)
	}
	if t := r.Metrics; t != nil {
		w.p("`metrics.csv`: %d rows (%s).", len(t.Rows), strings.Join(t.Header, ", "))
		if rows := lastRows(t); len(rows) > 0 {
			w.p(" Last row of each split:\n\n")
			w.p("| %s |\n|%s\n", strings.Join(t.Header, " | "), strings.Repeat("---|", len(t.Header)))
			for _, row := range rows {
				w.p("| %s |\n", strings.Join(row, " | "))
			}
		}
		w.p("\n\n")
	}
	capRun := r
	if r.Summary == nil {
		capRun = captionRun
	}
	for _, f := range r.Figures {
		if err := w.figure(p, r, capRun, f); err != nil {
			return err
		}
	}
	return nil
}

// lastRows returns the last row of each value of the "split" column, in
// order of first appearance, or the last row when there is no such column.
func lastRows(t *metrics.Table) [][]string {
	if len(t.Rows) == 0 {
		return nil
	}
	splits, err := t.Column("split")
	if err != nil {
		return [][]string{t.Rows[len(t.Rows)-1]}
	}
	var order []string
	last := map[string][]string{}
	for i, sp := range splits {
		if _, ok := last[sp]; !ok {
			order = append(order, sp)
		}
		last[sp] = t.Rows[i]
	}
	out := make([][]string, len(order))
	for i, sp := range order {
		out[i] = last[sp]
	}
	return out
}

func (w *writer) figure(p *Part, r, capRun *Run, name string) error {
	rel := filepath.Join("img", p.Command, r.Name, name)
	dst := filepath.Join(w.cfg.Out, rel)
	if err := copyFile(filepath.Join(r.Dir, name), dst); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	w.res.Images = append(w.res.Images, dst)
	w.figures++
	alt := strings.TrimSuffix(name, filepath.Ext(name))
	w.p("![%s](%s)\n\n", alt, filepath.ToSlash(rel))
	w.p("*Figure %d.* `%s` from `%s`. ", w.figures, name, r.Dir)
	if s := capRun.Summary; s != nil {
		if capRun != r {
			w.p("Made from the runs of this part; the newest is ")
		} else {
			w.p("Made by ")
		}
		w.p("`%s`, finished %s", s.Command, date(s.Finished))
		if cfg := s.ConfigPairs(); len(cfg) > 0 {
			w.p("; configuration %s", codeList(cfg))
		}
		w.p(".\n\n")
	} else {
		info, err := os.Stat(filepath.Join(r.Dir, name))
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		w.p("No summary.json says which command made it; the file is dated %s.\n\n", info.ModTime().Format("2006-01-02 15:04"))
	}
	return nil
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}

func date(t time.Time) string {
	if t.IsZero() {
		return "an unknown time"
	}
	return t.Format("2006-01-02 15:04 MST")
}

func duration(sec float64) string {
	return (time.Duration(sec*float64(time.Second)) / time.Second * time.Second).String()
}

func number(v float64) string {
	return fmt.Sprintf("%.6g", v)
}

// cell makes text safe inside a Markdown table cell or list item.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

func codeList(items []string) string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = "`" + strings.ReplaceAll(it, "`", "'") + "`"
	}
	return strings.Join(out, ", ")
}

func quoteList(dirs []string) string {
	out := make([]string, len(dirs))
	for i, d := range dirs {
		out[i] = "`" + d + "`"
	}
	return strings.Join(out, ", ")
}
