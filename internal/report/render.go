package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/util"
)

// style is the report's stylesheet: a readable column, tables, figures
// that fit the page, and print rules for report.pdf (A4, no figure split
// across pages; the main part's chapters run on, the appendices start on
// a new page and each of them too).
const style = `body{font:16px/1.55 "DejaVu Serif",Georgia,serif;max-width:52em;margin:2em auto;padding:0 1em;color:#222}
h1,h2,h3,h4{font-family:"DejaVu Sans",system-ui,sans-serif;line-height:1.25;margin-top:1.6em}
h1{font-size:1.9em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em}h4{font-size:1em}
pre{background:#f6f8fa;padding:.8em;overflow-x:auto;font-size:13px;line-height:1.4}
code{font-family:"DejaVu Sans Mono",ui-monospace,Menlo,Consolas,monospace;font-size:.85em;background:#f3f3f3;padding:0 .2em}
pre code{background:none;padding:0}
table{border-collapse:collapse;margin:.8em 0;font-size:.9em}td,th{border:1px solid #ccc;padding:.25em .6em;vertical-align:top}
th{background:#f3f3f3;text-align:left}
details table{width:100%}details td,details th{overflow-wrap:anywhere}
figure{margin:1.2em 0;break-inside:avoid;page-break-inside:avoid}
figure img{display:block;max-width:100%;height:auto;margin:0 auto}figure>img{max-width:70%}
table.grid{border:0;width:100%;margin:0}table.grid td{border:0;padding:2px;vertical-align:middle}
table.grid.cols2 td{width:50%}table.grid img{width:100%}
figcaption{font-size:.88em;color:#444;margin-top:.4em}
details{margin:1em 0;padding:.4em .8em;border:1px solid #ddd;background:#fcfcfc}
summary{cursor:pointer;font-weight:bold}
.math.display{margin:1em 0;overflow-x:auto;overflow-y:hidden}
code.math,pre.math{background:#fbfaf3}
p.notice{border-left:3px solid #e0b000;padding-left:.8em;background:#fffbea}
@page{size:A4;margin:16mm 15mm}
@media print{body{max-width:none;margin:0;padding:0;font-size:10.5pt}
.report-appendices{break-before:page}.report-appendices h2{break-before:page}.report-appendices h2:first-of-type{break-before:auto}
h2,h3,h4{break-after:avoid}table,tr,.math.display{break-inside:avoid}
pre{white-space:pre-wrap;font-size:8.5pt}
details{border:0;padding:0;background:none}details table{break-inside:auto}details::details-content{content-visibility:visible;display:block}
summary{list-style:none}summary::-webkit-details-marker{display:none}}`

// renderMath typesets every .math element with KaTeX once the page has
// loaded; errors show as KaTeX's red .katex-error text, which
// scripts/check-report.sh looks for.
const renderMath = `(function(){function go(){var els=document.querySelectorAll(".math");
for(var i=0;i<els.length;i++){var el=els[i];katex.render(el.textContent,el,{displayMode:el.classList.contains("display"),throwOnError:false});}}
if(document.readyState==="loading"){document.addEventListener("DOMContentLoaded",go);}else{go();}})();`

// newMarkdown is the renderer for the report: GitHub's tables and
// footnotes, headings with ids (so a part can be linked to). Raw HTML is
// shown as text, except the HTML blocks in trusted (the report's own
// <figure> and <details>, built with every run-folder string escaped):
// strings from run folders (a summary's command or notes, a folder's name)
// can then never add an element, an attribute or a script to the page.
// Links whose address could run script (javascript:) are dropped, as
// goldmark does without its unsafe option.
func newMarkdown(trusted map[string]bool) goldmark.Markdown {
	return goldmark.New(
		goldmark.WithExtensions(extension.Table, extension.Footnote, extension.Strikethrough),
		goldmark.WithParserOptions(parser.WithAutoHeadingID()),
		goldmark.WithRendererOptions(renderer.WithNodeRenderers(util.Prioritized(&rawAsText{trusted: trusted}, 100))),
	)
}

// rawAsText renders raw HTML as escaped text, but for trusted blocks.
type rawAsText struct {
	trusted map[string]bool
}

func (r *rawAsText) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindHTMLBlock, r.block)
	reg.Register(ast.KindRawHTML, r.inline)
}

func (r *rawAsText) block(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.HTMLBlock)
	var b bytes.Buffer
	for i := 0; i < n.Lines().Len(); i++ {
		seg := n.Lines().At(i)
		b.Write(seg.Value(source))
	}
	if n.HasClosure() {
		b.Write(n.ClosureLine.Value(source))
	}
	if r.trusted[strings.TrimSpace(b.String())] {
		_, err := w.Write(b.Bytes())
		return ast.WalkSkipChildren, err
	}
	_, err := w.WriteString("<p>" + html.EscapeString(strings.TrimRight(b.String(), "\n")) + "</p>\n")
	return ast.WalkSkipChildren, err
}

func (r *rawAsText) inline(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.RawHTML)
	for i := 0; i < n.Segments.Len(); i++ {
		seg := n.Segments.At(i)
		if _, err := w.WriteString(html.EscapeString(string(seg.Value(source)))); err != nil {
			return ast.WalkStop, err
		}
	}
	return ast.WalkSkipChildren, nil
}

// renderHTML renders the report's Markdown as one self-contained page.
// trusted are the HTML blocks of md that the report wrote itself (any
// other HTML shows as text). Images are read from base and embedded. Math
// is taken out before Markdown sees it (so that `\|`, `_` and `*` inside
// formulas stay TeX) and put back as .math elements that KaTeX typesets,
// or, with kt nil, as TeX source in code. A Content-Security-Policy lets
// the page run only its own inlined scripts and load nothing from outside.
func renderHTML(title, md, base string, kt *katex, trusted map[string]bool) (string, error) {
	text, spans := extractMath(md)
	var body bytes.Buffer
	if err := newMarkdown(trusted).Convert([]byte(text), &body); err != nil {
		return "", fmt.Errorf("render markdown: %w", err)
	}
	out := restoreMath(body.String(), spans, kt != nil)
	out, err := embedImages(out, base)
	if err != nil {
		return "", err
	}
	scripts := []string{}
	if kt != nil && len(spans) > 0 {
		scripts = append(scripts, kt.js, renderMath)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	fmt.Fprintf(&b, "<meta http-equiv=\"Content-Security-Policy\" content=\"%s\">\n", contentPolicy(scripts))
	fmt.Fprintf(&b, "<title>%s</title>\n", html.EscapeString(title))
	if kt != nil {
		fmt.Fprintf(&b, "<style>\n%s\n</style>\n", kt.css)
	}
	fmt.Fprintf(&b, "<style>\n%s\n</style>\n</head>\n<body>\n", style)
	if kt == nil && len(spans) > 0 {
		b.WriteString(`<p class="notice">Formulas are shown as TeX source: KaTeX (Debian's <code>libjs-katex</code>) ` +
			"was not installed when this page was written. <code>make setup</code> installs it.</p>\n")
	}
	b.WriteString(out)
	for _, js := range scripts {
		fmt.Fprintf(&b, "<script>%s</script>\n", js)
	}
	b.WriteString("</body>\n</html>\n")
	return b.String(), nil
}

// contentPolicy allows the page's images and fonts (data: URIs), its
// stylesheets (KaTeX also sets style attributes) and exactly the scripts
// given, by hash; nothing else, and nothing from the network.
func contentPolicy(scripts []string) string {
	script := "'none'"
	if len(scripts) > 0 {
		var hashes []string
		for _, js := range scripts {
			sum := sha256.Sum256([]byte(js))
			hashes = append(hashes, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
		}
		script = strings.Join(hashes, " ")
	}
	return "default-src 'none'; img-src data:; font-src data:; style-src 'unsafe-inline'; script-src " + script
}

// A mathSpan is one formula taken out of the Markdown.
type mathSpan struct {
	tex     string
	display bool
	block   bool // a ```math fence, which stands as its own paragraph
}

// token marks where formula i was; letters and digits only, so Markdown
// leaves it alone.
func token(i int) string { return "TORCHLABMATH" + strconv.Itoa(i) + "Z" }

var reToken = regexp.MustCompile(`(<p>)?TORCHLABMATH([0-9]+)Z(</p>)?`)

// extractMath replaces the formulas of md by tokens: ```math fences,
// $$...$$ and $...$, outside code fences and code spans. A $ opens inline
// math only when followed by a non-space, and closes it only after a
// non-space and not before a digit ("costs $5 and $6" stays text).
func extractMath(md string) (string, []mathSpan) {
	var spans []mathSpan
	var out strings.Builder
	lines := strings.SplitAfter(md, "\n")
	var text strings.Builder // consecutive lines outside fences
	flush := func() {
		out.WriteString(inlineMath(text.String(), &spans))
		text.Reset()
	}
	for i := 0; i < len(lines); i++ {
		trimmed := strings.TrimLeft(lines[i], " ")
		fence := ""
		if len(lines[i])-len(trimmed) < 4 {
			for _, f := range []string{"```", "~~~"} {
				if strings.HasPrefix(trimmed, f) {
					fence = trimmed[:len(trimmed)-len(strings.TrimLeft(trimmed, f[:1]))]
				}
			}
		}
		if fence == "" {
			text.WriteString(lines[i])
			continue
		}
		flush()
		info := strings.TrimSpace(trimmed[len(fence):])
		var body strings.Builder
		j := i + 1
		for ; j < len(lines); j++ {
			if strings.HasPrefix(strings.TrimSpace(lines[j]), fence) && strings.Trim(strings.TrimSpace(lines[j]), fence[:1]) == "" {
				break
			}
			body.WriteString(lines[j])
		}
		if info == "math" {
			spans = append(spans, mathSpan{tex: strings.TrimSpace(body.String()), display: true, block: true})
			out.WriteString("\n" + token(len(spans)-1) + "\n\n")
		} else {
			for k := i; k <= j && k < len(lines); k++ {
				out.WriteString(lines[k])
			}
		}
		i = j
	}
	flush()
	return out.String(), spans
}

// inlineMath replaces $$...$$ and $...$ in text outside code spans.
func inlineMath(s string, spans *[]mathSpan) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			b.WriteString(s[i : i+2])
			i += 2
		case c == '`':
			n := len(s[i:]) - len(strings.TrimLeft(s[i:], "`"))
			ticks := s[i : i+n]
			end := strings.Index(s[i+n:], ticks)
			if end < 0 {
				b.WriteString(ticks)
				i += n
				continue
			}
			b.WriteString(s[i : i+n+end+n])
			i += n + end + n
		case c == '$' && strings.HasPrefix(s[i:], "$$"):
			end := strings.Index(s[i+2:], "$$")
			if end < 0 || strings.Contains(s[i+2:i+2+end], "\n\n") {
				b.WriteString("$$")
				i += 2
				continue
			}
			*spans = append(*spans, mathSpan{tex: strings.TrimSpace(s[i+2 : i+2+end]), display: true})
			b.WriteString(token(len(*spans) - 1))
			i += 2 + end + 2
		case c == '$':
			end := closingDollar(s[i+1:])
			if end < 0 {
				b.WriteByte('$')
				i++
				continue
			}
			*spans = append(*spans, mathSpan{tex: s[i+1 : i+1+end]})
			b.WriteString(token(len(*spans) - 1))
			i += 1 + end + 1
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// closingDollar returns the index in s of the $ closing an inline formula
// that opened just before s, or -1.
func closingDollar(s string) int {
	if s == "" || s[0] == ' ' || s[0] == '\t' || s[0] == '\n' || s[0] == '$' {
		return -1
	}
	for j := 0; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '`':
			return -1 // a formula does not contain a code span
		case '\n':
			if j+1 < len(s) && s[j+1] == '\n' {
				return -1 // a formula does not cross paragraphs
			}
		case '$':
			if prev := s[j-1]; prev == ' ' || prev == '\t' || prev == '\n' {
				continue
			}
			if j+1 < len(s) && s[j+1] >= '0' && s[j+1] <= '9' {
				continue
			}
			return j
		}
	}
	return -1
}

// restoreMath puts the formulas back: for KaTeX as .math elements holding
// the TeX as text, otherwise as code.
func restoreMath(page string, spans []mathSpan, katex bool) string {
	return reToken.ReplaceAllStringFunc(page, func(m string) string {
		sub := reToken.FindStringSubmatch(m)
		n, _ := strconv.Atoi(sub[2])
		if n >= len(spans) {
			return m
		}
		sp := spans[n]
		tex := html.EscapeString(sp.tex)
		wrapped := sub[1] != "" && sub[3] != ""
		var el string
		switch {
		case katex && sp.display:
			el = `<div class="math display">` + tex + `</div>`
		case katex:
			el = `<span class="math inline">` + tex + `</span>`
		case sp.display:
			el = `<pre class="math"><code>` + tex + `</code></pre>`
		default:
			el = `<code class="math">$` + tex + `$</code>`
		}
		if sp.display && wrapped {
			return el // the formula was the whole paragraph
		}
		if sp.display && katex {
			el = `<span class="math display">` + tex + `</span>`
		}
		return sub[1] + el + sub[3]
	})
}

var reImgSrc = regexp.MustCompile(`(<img\b[^>]*?\bsrc=")([^"]*)(")`)

// embedImages replaces every local image address with a data URI.
func embedImages(page, base string) (string, error) {
	var err error
	out := reImgSrc.ReplaceAllStringFunc(page, func(m string) string {
		sub := reImgSrc.FindStringSubmatch(m)
		src := html.UnescapeString(sub[2])
		if strings.HasPrefix(src, "data:") || err != nil {
			return m
		}
		uri, e := dataURI(base, src)
		if e != nil {
			err = e
			return m
		}
		return sub[1] + uri + sub[3]
	})
	return out, err
}

// dataURI reads the image at base/src and returns it as a data URI. Only
// files inside base are read: an image address written in a run's notes
// cannot pull another file of the machine into the page.
func dataURI(base, src string) (string, error) {
	if strings.Contains(src, "://") {
		return "", fmt.Errorf("image %s is not a local file", src)
	}
	if !filepath.IsLocal(filepath.FromSlash(src)) {
		return "", fmt.Errorf("image %s is not inside the report's folder", src)
	}
	b, err := os.ReadFile(filepath.Join(base, filepath.FromSlash(src)))
	if err != nil {
		return "", fmt.Errorf("embed image: %w", err)
	}
	mime := "image/png"
	switch strings.ToLower(filepath.Ext(src)) {
	case ".jpg", ".jpeg":
		mime = "image/jpeg"
	case ".svg":
		mime = "image/svg+xml"
	}
	return "data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(b), nil
}
