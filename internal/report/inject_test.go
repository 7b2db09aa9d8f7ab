package report

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	reTag     = regexp.MustCompile(`<([a-zA-Z][a-zA-Z0-9]*)\b([^>]*)>`)
	reHandler = regexp.MustCompile(`(?i)\bon[a-z]+\s*=`)
)

// TestRunStringsShownAsText builds a report from a run whose folder name,
// command and notes carry HTML and script: report.html must show them as
// text, with no element or attribute of theirs, and run no script.
func TestRunStringsShownAsText(t *testing.T) {
	root := t.TempDir()
	const payload = `<img src=x onerror="document.title='pwned'">`
	demo := filepath.Join(root, "out", `demo<script>document.title='pwned'</script>`)
	write(t, filepath.Join(demo, "summary.json"), []byte(`{
  "command": "vgg-mnist train `+"`"+`<b onclick=x>`+"`"+` <svg onload=alert(1)>",
  "started": "2025-01-01T10:00:00Z",
  "finished": "2025-01-01T11:00:00Z",
  "config": {"epochs": 1, "threads": 2, "optimizer": "<i onmouseover=x>adam</i>"},
  "results": {"test_accuracy": 0.9},
  "notes": ["`+strings.ReplaceAll(payload, `"`, `\"`)+`", "[click](javascript:alert(1))", "<details open ontoggle=alert(1)>"]
}`))
	write(t, filepath.Join(demo, "test_loss.png"), tinyPNG(t, 5))
	res, err := Write(Config{Out: filepath.Join(root, "report"), Root: root, DemoDirs: map[string]string{"vgg-mnist": demo}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(res.HTML)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	if !strings.Contains(page, "&lt;img src=x onerror=") {
		t.Errorf("the note is not shown as text")
	}
	if !strings.Contains(page, "&lt;svg onload=alert(1)&gt;") {
		t.Errorf("the command is not shown as text")
	}
	for _, m := range reTag.FindAllStringSubmatch(page, -1) {
		tag, attrs := strings.ToLower(m[1]), m[2]
		if reHandler.MatchString(attrs) {
			t.Errorf("element with an event handler: %s", m[0])
		}
		if tag == "svg" || tag == "i" || (tag == "b" && attrs != "") {
			t.Errorf("injected element: %s", m[0])
		}
		if tag == "img" && !strings.Contains(attrs, `src="data:image/png;base64,`) {
			t.Errorf("image not the report's own: %s", m[0])
		}
		if tag == "a" && strings.Contains(strings.ToLower(attrs), "javascript:") {
			t.Errorf("script link: %s", m[0])
		}
	}
	if n := strings.Count(page, "<script"); n != 0 {
		t.Errorf("%d <script> elements on a page without formulas: injected", n)
	}
	if !strings.Contains(page, `http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:;`) {
		t.Error("no Content-Security-Policy")
	}
	if !strings.Contains(page, "<figure>") || !strings.Contains(page, "<details>") {
		t.Error("the report's own figure and details are gone")
	}
}
