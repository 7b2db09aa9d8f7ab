package report

import (
	"fmt"
	"html"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// figureSet writes the figures of run r laid out as specs say. With rest,
// the run's figures no spec names (and skip does not) follow one by one.
func (w *writer) figureSet(specs []figureSpec, skip []string, rest bool, r *Run, prefix, whose string) error {
	shown := map[string]bool{}
	for _, s := range skip {
		shown[s] = true
	}
	for _, fs := range specs {
		grid, what := layoutFigure(fs, r, shown)
		if len(grid) == 0 {
			continue
		}
		if n := w.keyFigureOf(r, grid); n > 0 {
			var names []string
			for _, row := range grid {
				names = append(names, row...)
			}
			w.p("Figure %d, in the main part, shows this run's `%s`.\n\n", n, strings.Join(names, "`, `"))
			continue
		}
		if err := w.figure(r, prefix, grid, what, whose); err != nil {
			return err
		}
	}
	if !rest {
		return nil
	}
	for _, name := range r.Figures {
		if !shown[name] {
			if err := w.figure(r, prefix, [][]string{{name}}, "", whose); err != nil {
				return err
			}
		}
	}
	return nil
}

// layoutFigure returns the images of fs that run r has, row by row, and
// what they show ("" when some are missing and "left" or "top" no longer
// hold, unless fs says what its one image alone shows). Each name of fs is
// marked in shown.
func layoutFigure(fs figureSpec, r *Run, shown map[string]bool) ([][]string, string) {
	var grid [][]string
	what := fs.what
	for _, row := range fs.rows {
		var have []string
		for _, name := range row {
			shown[name] = true
			if r.hasFigure(name) {
				have = append(have, name)
			} else {
				what = ""
			}
		}
		if len(have) > 0 {
			grid = append(grid, have)
		}
	}
	if what == "" && fs.alone != "" && len(grid) == 1 && len(grid[0]) == 1 {
		what = fs.alone
	}
	return grid, what
}

// figure copies the images beside report.md and writes one <figure>: a
// single image, or a grid of them, and a caption saying what it shows and
// which run made it. It is one HTML block without blank lines, so that
// Markdown renderers pass it through as it is.
func (w *writer) figure(r *Run, prefix string, grid [][]string, what, whose string) error {
	w.figures++
	var b strings.Builder
	b.WriteString("<figure>\n")
	img := func(name string) (string, error) {
		rel := filepath.ToSlash(filepath.Join(prefix, name))
		dst := filepath.Join(w.cfg.Out, filepath.FromSlash(rel))
		if err := copyFile(filepath.Join(r.Dir, name), dst); err != nil {
			return "", fmt.Errorf("report: %w", err)
		}
		w.res.Images = append(w.res.Images, dst)
		alt := strings.ReplaceAll(strings.TrimSuffix(name, filepath.Ext(name)), "_", " ")
		return fmt.Sprintf(`<img src="%s" alt="%s">`, html.EscapeString(rel), html.EscapeString(alt)), nil
	}
	if len(grid) == 1 && len(grid[0]) == 1 {
		tag, err := img(grid[0][0])
		if err != nil {
			return err
		}
		b.WriteString(tag + "\n")
	} else {
		cols := 0
		for _, row := range grid {
			cols = max(cols, len(row))
		}
		fmt.Fprintf(&b, "<table class=\"grid cols%d\">\n", cols)
		for _, row := range grid {
			b.WriteString("<tr>")
			for _, name := range row {
				tag, err := img(name)
				if err != nil {
					return err
				}
				b.WriteString("<td>" + tag + "</td>")
			}
			b.WriteString("</tr>\n")
		}
		b.WriteString("</table>\n")
	}
	if what == "" {
		var names []string
		for _, row := range grid {
			names = append(names, row...)
		}
		what = "`" + strings.Join(names, "`, `") + "`."
	}
	fmt.Fprintf(&b, "<figcaption><b>Figure %d.</b> %s %s</figcaption>\n</figure>\n\n", w.figures, inlineHTML(what), inlineHTML(whose))
	w.html(b.String())
	return nil
}

// inlineHTML escapes text for HTML and turns `code` spans into <code>.
func inlineHTML(s string) string {
	parts := strings.Split(s, "`")
	var b strings.Builder
	for i, p := range parts {
		if i%2 == 1 && i < len(parts)-1 {
			b.WriteString("<code>" + html.EscapeString(p) + "</code>")
			continue
		}
		if i%2 == 1 {
			b.WriteString("`")
		}
		b.WriteString(html.EscapeString(p))
	}
	return b.String()
}

// details folds every setting and result of a part's runs into one
// collapsible block, a column per run.
func (w *writer) details(spec *partSpec, full []*Run, demo *Run) {
	rs := rows(spec, full, demo)
	var withSummary []labelled
	for _, r := range rs {
		if r.run.Summary != nil {
			withSummary = append(withSummary, r)
		}
	}
	if len(withSummary) == 0 {
		return
	}
	w.html("<details>\n<summary>Configuration and every recorded result of the runs above</summary>\n\n")
	header := func(first string) {
		w.p("| %s |", first)
		for _, r := range withSummary {
			w.p(" %s |", cell(r.label))
		}
		w.p("\n|---|%s\n", strings.Repeat("---|", len(withSummary)))
	}
	configs := make([]map[string]any, len(withSummary))
	keys := map[string]bool{}
	for i, r := range withSummary {
		configs[i] = r.run.Summary.ConfigMap()
		for k := range configs[i] {
			keys[k] = true
		}
	}
	header("setting")
	for _, k := range sortedKeys(keys) {
		w.p("| %s (`%s`) |", cell(settingLabel(k)), k)
		for _, c := range configs {
			v, ok := c[k]
			if !ok {
				w.p(" – |")
				continue
			}
			w.p(" %s |", cell(settingValue(k, v)))
		}
		w.p("\n")
	}
	w.p("\n")
	results := map[string]bool{}
	for _, r := range withSummary {
		for k := range r.run.Summary.Results {
			results[k] = true
		}
	}
	if len(results) > 0 {
		header("result")
		for _, k := range sortedKeys(results) {
			w.p("| %s (`%s`) |", cell(resultLabel(k)), k)
			for _, r := range withSummary {
				v, ok := r.run.Summary.Results[k]
				if !ok {
					w.p(" – |")
					continue
				}
				w.p(" %s |", cell(resultValue(k, v)))
			}
			w.p("\n")
		}
		w.p("\n")
	}
	w.html("</details>\n\n")
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
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

// cell makes text safe inside a Markdown table cell or list item.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}
