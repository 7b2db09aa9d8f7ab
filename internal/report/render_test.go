package report

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestExtractMath(t *testing.T) {
	for _, tc := range []struct {
		name, in, text string
		spans          []mathSpan
	}{
		{"inline", "a $x_1$ b", "a " + token(0) + " b", []mathSpan{{tex: "x_1"}}},
		{"two inline", "$a$ and $b*c$", token(0) + " and " + token(1), []mathSpan{{tex: "a"}, {tex: "b*c"}}},
		{"prices are text", "costs $5 and $6 now", "costs $5 and $6 now", nil},
		{"space after opening $", "a $ x$ b", "a $ x$ b", nil},
		{"escaped dollar", `a \$x$ b`, `a \$x$ b`, nil},
		{"code span", "`$x$` and $y$", "`$x$` and " + token(0), []mathSpan{{tex: "y"}}},
		{"double backticks", "``a`$x$`` $y$", "``a`$x$`` " + token(0), []mathSpan{{tex: "y"}}},
		{"inline display", "a $$\\sum_i x_i$$ b", "a " + token(0) + " b", []mathSpan{{tex: `\sum_i x_i`, display: true}}},
		{"across a line", "a $x +\ny$ b", "a " + token(0) + " b", []mathSpan{{tex: "x +\ny"}}},
		{"not across paragraphs", "a $x\n\ny$ b", "a $x\n\ny$ b", nil},
		{"math fence", "a\n\n```math\nx < y\n```\n\nb\n", "a\n\n\n" + token(0) + "\n\n\nb\n", []mathSpan{{tex: "x < y", display: true, block: true}}},
		{"code fence kept", "```go\nx := \"$a$\"\n```\n$b$\n", "```go\nx := \"$a$\"\n```\n" + token(0) + "\n", []mathSpan{{tex: "b"}}},
		{"a code span ends a candidate", "$5 and `$x$` $y$", "$5 and `$x$` " + token(0), []mathSpan{{tex: "y"}}},
		{"escapes inside math", `$a \,\|\, b\$$`, token(0), []mathSpan{{tex: `a \,\|\, b\$`}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text, spans := extractMath(tc.in)
			if text != tc.text {
				t.Errorf("text %q, want %q", text, tc.text)
			}
			if len(spans) != len(tc.spans) {
				t.Fatalf("spans %+v, want %+v", spans, tc.spans)
			}
			for i := range spans {
				if spans[i] != tc.spans[i] {
					t.Errorf("span %d: %+v, want %+v", i, spans[i], tc.spans[i])
				}
			}
		})
	}
}

// Without KaTeX the formulas show as TeX in code, the page says why once,
// and it carries no script.
func TestRenderWithoutKaTeX(t *testing.T) {
	page, err := renderHTML("t", "# T\n\nWith $\\alpha_1$ and $\\beta$.\n\n```math\n\\frac{a}{b}\n```\n", t.TempDir(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<code class="math">$\alpha_1$</code>`, `<pre class="math"><code>\frac{a}{b}</code></pre>`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if n := strings.Count(page, "Formulas are shown as TeX source"); n != 1 {
		t.Errorf("the page says %d times that KaTeX is missing, want 1", n)
	}
	if strings.Contains(page, "<script") {
		t.Error("the page has a script")
	}
}

func TestRenderMarkdown(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "img", "a.png"), tinyPNG(t, 9))
	md := "Text[^1] with a table:\n\n| a | b |\n|---|--:|\n| 1 | 2 |\n\n![a](img/a.png)\n\n[^1]: A footnote.\n"
	page, err := renderHTML("t", md, dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<table>", `<td style="text-align:right">2</td>`, `class="footnotes"`, `<img src="data:image/png;base64,`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if _, err := renderHTML("t", "![b](img/missing.png)\n", dir, nil, nil); err == nil {
		t.Error("a missing image gave no error")
	}
}

func TestLoadKaTeX(t *testing.T) {
	if kt, err := loadKaTeX(filepath.Join(t.TempDir(), "none")); kt != nil || err != nil {
		t.Errorf("missing KaTeX: %v, %v; want nil, nil (the fallback)", kt, err)
	}
	dir := t.TempDir()
	fakeKaTeX(t, dir)
	kt, err := loadKaTeX(dir)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(kt.css, "fonts/") || !strings.Contains(kt.css, "data:font/woff2;base64,") {
		t.Errorf("fonts not inlined: %s", kt.css)
	}
	// A font the stylesheet names but the folder lacks is an error, not a
	// page that silently falls back to other fonts.
	write(t, filepath.Join(dir, "katex.min.css"), []byte(`@font-face{src:url(fonts/Gone.woff2) format('woff2')}`))
	if _, err := loadKaTeX(dir); err == nil || !strings.Contains(err.Error(), "Gone.woff2") {
		t.Errorf("missing font: err %v", err)
	}
}
