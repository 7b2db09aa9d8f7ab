package layout

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// root is the repository root, relative to this package.
const root = "../.."

// maxLine is the longest line the README may have outside code blocks, in
// characters: its first screen is read on GitHub and in a terminal.
const maxLine = 160

// reBuilderWords finds the words that speak to the project's builders
// rather than its users: the tracker's "issue" and its targets' "bars".
var reBuilderWords = regexp.MustCompile(`(?i)\b(issues?|bars)\b`)

// readmeProblems lists the README lines outside code blocks that are longer
// than maxLine characters, and every line (code included) with a word of
// reBuilderWords, each as "LINE: what".
func readmeProblems(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var problems []string
	fence := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case fence == "" && (strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~")):
			fence = trimmed[:3]
		case fence != "" && strings.HasPrefix(trimmed, fence):
			fence = ""
		case fence == "" && utf8.RuneCountInString(line) > maxLine:
			problems = append(problems, lineProblem(n, "%d characters, more than %d", utf8.RuneCountInString(line), maxLine))
		}
		if w := reBuilderWords.FindString(line); w != "" {
			problems = append(problems, lineProblem(n, "says %q, which speaks to the builders, not the users", w))
		}
	}
	return problems, sc.Err()
}

// lineProblem says what is wrong with line n.
func lineProblem(n int, format string, args ...any) string {
	return fmt.Sprintf("%d: ", n) + fmt.Sprintf(format, args...)
}

// The README speaks to users: short lines, and no word of the tracker.
func TestReadmeForUsers(t *testing.T) {
	problems, err := readmeProblems(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error("README.md:" + p)
	}
}

// The check itself, on a README made here: a long line and the tracker's
// words are found; a long line inside a code block is not.
func TestReadmeProblemsFound(t *testing.T) {
	long := strings.Repeat("é", maxLine+1)
	text := "# x\n\nshort line\n" + long + "\n```sh\n" + long + "\n```\nsee issue 16\nThe bars are met.\nIssues: none\n" +
		strings.Repeat("é", maxLine) + "\n"
	path := filepath.Join(t.TempDir(), "README.md")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	problems, err := readmeProblems(path)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(problems, "\n")
	for _, want := range []string{"4: 161 characters", `8: says "issue"`, `9: says "bars"`, `10: says "Issues"`} {
		if !strings.Contains(got, want) {
			t.Errorf("problems %q lack %q", got, want)
		}
	}
	if len(problems) != 4 {
		t.Errorf("found %d problems, want 4 (the long line in code and the %d-character line are fine): %q", len(problems), maxLine, got)
	}
}

// reLink finds a Markdown link's target.
var reLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// The README and the pages of docs/ link only to files that exist, and
// keep the two commands CI and a new user run.
func TestReadmeAndDocsLinks(t *testing.T) {
	pages, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	pages = append(pages, filepath.Join(root, "README.md"))
	for _, page := range pages {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range reLink.FindAllStringSubmatch(string(b), -1) {
			target, _, _ := strings.Cut(m[1], "#")
			if target == "" || strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(page), filepath.FromSlash(target))); err != nil {
				t.Errorf("%s links to %s, which does not exist", page, m[1])
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"\nmake demo ", "\nmake test "} {
		if !strings.Contains(string(b), cmd) {
			t.Errorf("README.md lacks the command line %q", strings.TrimSpace(cmd))
		}
	}
}

// reSectionRef finds a pointer to a README section, as written in a page
// (README, "Data") or in a Go string literal (README, \"Data\").
var reSectionRef = regexp.MustCompile(`README, \\?"([^"\\]+)\\?"`)

// Every pointer to a README section, in the commands' messages and in the
// pages of docs/, names a heading the README has.
func TestReadmeSectionsPointedTo(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	headings := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "#") {
			headings[strings.TrimSpace(strings.TrimLeft(line, "#"))] = true
		}
	}
	checked := 0
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "build" || d.Name() == "results" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || strings.HasSuffix(path, "_test.go") || (!strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, ".md")) {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range reSectionRef.FindAllStringSubmatch(string(src), -1) {
			checked++
			if !headings[m[1]] {
				t.Errorf("%s points to the README's section %q, which it does not have", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Error("no pointer to a README section found; datasets' message names one")
	}
}
