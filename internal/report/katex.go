package report

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// DefaultKaTeXDir is where Debian's libjs-katex installs KaTeX (its fonts
// come from fonts-katex, through the fonts/ link).
const DefaultKaTeXDir = "/usr/share/javascript/katex"

// katex is KaTeX ready to inline into a page: the script, and the
// stylesheet with every font as a data: URI.
type katex struct {
	js, css string
}

// reFontSrc matches one @font-face's list of sources; the WOFF2 one is
// kept (every browser that runs KaTeX reads it) and the others dropped, so
// the page carries each font once.
var reFontSrc = regexp.MustCompile(`src:url\(([^)'"]+\.woff2)\) format\(['"]woff2['"]\)[^;}]*`)

// loadKaTeX reads KaTeX from dir. It returns nil and no error when dir does
// not exist: the report then shows formulas as TeX source.
func loadKaTeX(dir string) (*katex, error) {
	jsPath := filepath.Join(dir, "katex.min.js")
	if _, err := os.Stat(jsPath); os.IsNotExist(err) {
		return nil, nil
	}
	js, err := os.ReadFile(jsPath)
	if err != nil {
		return nil, fmt.Errorf("katex: %w", err)
	}
	css, err := os.ReadFile(filepath.Join(dir, "katex.min.css"))
	if err != nil {
		return nil, fmt.Errorf("katex: %w", err)
	}
	if strings.Contains(strings.ToLower(string(js)), "</script") {
		return nil, fmt.Errorf("katex: %s contains </script and cannot be inlined", jsPath)
	}
	var ferr error
	out := reFontSrc.ReplaceAllStringFunc(string(css), func(m string) string {
		font := reFontSrc.FindStringSubmatch(m)[1]
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(font)))
		if err != nil {
			ferr = fmt.Errorf("katex font: %w", err)
			return m
		}
		return "src:url(data:font/woff2;base64," + base64.StdEncoding.EncodeToString(b) + ") format('woff2')"
	})
	if ferr != nil {
		return nil, ferr
	}
	if strings.Contains(out, "url(fonts/") {
		return nil, fmt.Errorf("katex: %s refers to fonts the report could not inline", filepath.Join(dir, "katex.min.css"))
	}
	return &katex{js: string(js), css: out}, nil
}
