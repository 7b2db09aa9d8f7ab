package report

import (
	"encoding/base64"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// style is the report's whole stylesheet: readable widths, tables, figures,
// and math kept as monospace text (no script, no web fonts).
const style = `body{font:16px/1.55 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}
h1,h2,h3,h4{line-height:1.25;margin-top:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em}
pre{background:#f6f8fa;padding:.8em;overflow-x:auto;font-size:13px;line-height:1.4}
code,.math{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
code{background:#f3f3f3;padding:0 .2em}pre code{background:none;padding:0}
pre.math{background:#fbfaf3;border-left:3px solid #e0d9a8}.math{color:#333}
table{border-collapse:collapse;margin:.8em 0}td,th{border:1px solid #ccc;padding:.25em .6em;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right}
figure{margin:1em 0}img{max-width:100%;border:1px solid #eee}
p.caption,figcaption{font-size:.9em;color:#555}`

var (
	reHeading = regexp.MustCompile(`^(#{1,6})\s+(.*)$`)
	reImage   = regexp.MustCompile(`^!\[([^\]]*)\]\(([^)\s]+)\)$`)
	reList    = regexp.MustCompile(`^(\s*)([-*]|\d+\.)\s+(.*)$`)
	reTableSp = regexp.MustCompile(`^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$`)
	reBold    = regexp.MustCompile(`\*\*([^*]+)\*\*`)
	reItalic  = regexp.MustCompile(`(^|[^\w*])\*([^*\s][^*]*)\*`)
	reLink    = regexp.MustCompile(`\[([^\]]+)\]\(([^)\s]+)\)`)
)

// renderHTML renders the Markdown subset the report uses (headings,
// paragraphs, lists, pipe tables, fenced code, standalone images) as one
// self-contained page. Images are read from base and embedded; $...$ math
// and ```math blocks stay as text.
func renderHTML(title, md, base string) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>%s</title>\n<style>\n%s\n</style>\n</head>\n<body>\n",
		html.EscapeString(title), style)
	lines := strings.Split(md, "\n")
	var para []string
	flush := func() {
		if len(para) > 0 {
			text := strings.Join(para, " ")
			class := ""
			if strings.HasPrefix(text, "*Figure ") {
				class = ` class="caption"`
			}
			fmt.Fprintf(&b, "<p%s>%s</p>\n", class, inline(text))
			para = nil
		}
	}
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "":
			flush()
		case strings.HasPrefix(trimmed, "```"):
			flush()
			lang := strings.TrimSpace(strings.TrimPrefix(trimmed, "```"))
			var code []string
			for i++; i < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[i]), "```"); i++ {
				code = append(code, lines[i])
			}
			class := ""
			if lang == "math" {
				class = ` class="math"`
			}
			fmt.Fprintf(&b, "<pre%s><code>%s</code></pre>\n", class, html.EscapeString(strings.Join(code, "\n")))
		case reHeading.MatchString(trimmed):
			flush()
			m := reHeading.FindStringSubmatch(trimmed)
			fmt.Fprintf(&b, "<h%d>%s</h%d>\n", len(m[1]), inline(m[2]), len(m[1]))
		case reImage.MatchString(trimmed):
			flush()
			m := reImage.FindStringSubmatch(trimmed)
			src, err := dataURI(base, m[2])
			if err != nil {
				return "", err
			}
			fmt.Fprintf(&b, "<figure><img src=\"%s\" alt=\"%s\"></figure>\n", src, html.EscapeString(m[1]))
		case strings.HasPrefix(trimmed, "|") && i+1 < len(lines) && reTableSp.MatchString(strings.TrimSpace(lines[i+1])):
			flush()
			header := splitRow(trimmed)
			aligns := splitRow(strings.TrimSpace(lines[i+1]))
			b.WriteString("<table>\n<tr>")
			for _, h := range header {
				fmt.Fprintf(&b, "<th>%s</th>", inline(h))
			}
			b.WriteString("</tr>\n")
			for i += 2; i < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[i]), "|"); i++ {
				b.WriteString("<tr>")
				for c, cellText := range splitRow(strings.TrimSpace(lines[i])) {
					class := ""
					if c < len(aligns) && strings.HasSuffix(aligns[c], ":") {
						class = ` class="num"`
					}
					fmt.Fprintf(&b, "<td%s>%s</td>", class, inline(cellText))
				}
				b.WriteString("</tr>\n")
			}
			i--
			b.WriteString("</table>\n")
		case reList.MatchString(line) && len(para) == 0:
			tag := "ul"
			if m := reList.FindStringSubmatch(line); m[2] != "-" && m[2] != "*" {
				tag = "ol"
			}
			fmt.Fprintf(&b, "<%s>\n", tag)
			var item []string
			end := func() {
				if item != nil {
					fmt.Fprintf(&b, "<li>%s</li>\n", inline(strings.Join(item, " ")))
				}
			}
			for ; i < len(lines); i++ {
				l := lines[i]
				if m := reList.FindStringSubmatch(l); m != nil {
					end()
					item = []string{m[3]}
					continue
				}
				// An indented line continues the item; anything else ends the list.
				if strings.TrimSpace(l) != "" && (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")) {
					item = append(item, strings.TrimSpace(l))
					continue
				}
				break
			}
			end()
			i--
			fmt.Fprintf(&b, "</%s>\n", tag)
		default:
			para = append(para, trimmed)
		}
	}
	flush()
	b.WriteString("</body>\n</html>\n")
	return b.String(), nil
}

// splitRow splits a pipe-table row into cells, honouring \| escapes.
func splitRow(row string) []string {
	row = strings.TrimSpace(row)
	row = strings.TrimPrefix(row, "|")
	if strings.HasSuffix(row, "|") && !strings.HasSuffix(row, `\|`) {
		row = row[:len(row)-1]
	}
	var cells []string
	var cur strings.Builder
	for i := 0; i < len(row); i++ {
		switch {
		case row[i] == '\\' && i+1 < len(row) && row[i+1] == '|':
			cur.WriteByte('|')
			i++
		case row[i] == '|':
			cells = append(cells, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(row[i])
		}
	}
	return append(cells, strings.TrimSpace(cur.String()))
}

// inline renders code spans, $math$ spans, bold, italic and links of one
// block of text. Code and math are escaped and otherwise left alone; they
// are set aside first so that emphasis may span them ("**$d$ dimensions**").
func inline(s string) string {
	var spans []string
	var b strings.Builder
	for len(s) > 0 {
		i := strings.IndexAny(s, "`$")
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		delim := s[i]
		rest := s[i+1:]
		j := strings.IndexByte(rest, delim)
		// A lone $ or ` (or "$ " as in prices) is text.
		if j < 0 || (delim == '$' && (j == 0 || rest[0] == ' ')) {
			b.WriteByte(delim)
			s = rest
			continue
		}
		if delim == '`' {
			spans = append(spans, "<code>"+html.EscapeString(rest[:j])+"</code>")
		} else {
			spans = append(spans, `<span class="math">`+html.EscapeString("$"+rest[:j]+"$")+"</span>")
		}
		// \x00 cannot occur in the report's text, and escaping keeps it.
		fmt.Fprintf(&b, "\x00%d\x00", len(spans)-1)
		s = rest[j+1:]
	}
	out := emphasis(b.String())
	return reSpan.ReplaceAllStringFunc(out, func(m string) string {
		n, _ := strconv.Atoi(strings.Trim(m, "\x00"))
		return spans[n]
	})
}

var reSpan = regexp.MustCompile("\x00[0-9]+\x00")

func emphasis(s string) string {
	s = html.EscapeString(s)
	s = reBold.ReplaceAllString(s, "<strong>$1</strong>")
	s = reItalic.ReplaceAllString(s, "$1<em>$2</em>")
	// The page must not depend on anything outside it, so links become
	// their text and address.
	return reLink.ReplaceAllString(s, "$1 ($2)")
}

// dataURI reads the image at base/src and returns it as a data URI.
func dataURI(base, src string) (string, error) {
	if strings.Contains(src, "://") {
		return "", fmt.Errorf("image %s is not a local file", src)
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
