package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Browsers are the names headless Chromium goes by, in the order tried.
var Browsers = []string{"chromium", "chromium-browser", "google-chrome"}

// FindBrowser returns the path of the first of Browsers on PATH.
func FindBrowser() (string, error) {
	for _, b := range Browsers {
		if p, err := exec.LookPath(b); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no headless browser found (tried %s); Debian's chromium package provides one", strings.Join(Browsers, ", "))
}

// printArgs are the headless Chromium arguments that print page to pdf:
// A4 comes from the page's @page rule; the virtual time budget lets KaTeX
// typeset every formula before the page is printed; the PDF's bookmarks
// are the page's headings.
func printArgs(page, pdf string) []string {
	return []string{
		"--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--virtual-time-budget=20000", "--run-all-compositor-stages-before-draw",
		"--no-pdf-header-footer", "--generate-pdf-document-outline", "--print-to-pdf=" + pdf, "file://" + page,
	}
}

// PrintPDF prints the HTML page to a PDF file with headless Chromium.
func PrintPDF(ctx context.Context, browser, page, pdf string) error {
	page, err := filepath.Abs(page)
	if err != nil {
		return err
	}
	if pdf, err = filepath.Abs(pdf); err != nil {
		return err
	}
	// A fresh profile each time: Chromium refuses to share one between
	// two processes, and must not write into the user's.
	profile, err := os.MkdirTemp("", "torchlab-chromium-")
	if err != nil {
		return fmt.Errorf("print %s: %w", page, err)
	}
	defer os.RemoveAll(profile)
	if err := os.Remove(pdf); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("print %s: %w", page, err)
	}
	args := append([]string{"--user-data-dir=" + profile}, printArgs(page, pdf)...)
	cmd := exec.CommandContext(ctx, browser, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("print %s with %s: %w\n%s", page, browser, err, out.String())
	}
	if info, err := os.Stat(pdf); err != nil || info.Size() == 0 {
		return fmt.Errorf("print %s with %s: no PDF written\n%s", page, browser, out.String())
	}
	return nil
}
