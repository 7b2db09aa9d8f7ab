package report

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

const (
	demoScript = "../../scripts/demo.sh"
	// demoDoc is the user's page on make demo, which states its settings.
	demoDoc = "../../docs/demo.md"
	// settingsTitle names the block in demo.sh and demoDoc's table.
	settingsTitle = "Quick settings of make demo"
)

var reSetting = regexp.MustCompile(`^([A-Z][A-Z0-9_]*)=("[^"]*"|'[^']*'|\S+)\s*(#.*)?$`)

// demoSettings reads the variables between the quick-settings markers of
// demo.sh, and the rest of the script.
func demoSettings(t *testing.T) (map[string]string, []string, string) {
	t.Helper()
	b, err := os.ReadFile(demoScript)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	var order []string
	var rest strings.Builder
	in, seen := false, false
	for n, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, "# --- "+settingsTitle):
			in, seen = true, true
		case in && strings.HasPrefix(line, "# --- end"):
			in = false
		case in:
			if strings.TrimSpace(line) == "" {
				continue
			}
			m := reSetting.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("%s:%d: not a NAME=value setting: %q", demoScript, n+1, line)
			}
			settings[m[1]] = strings.Trim(m[2], `"'`)
			order = append(order, m[1])
		default:
			rest.WriteString(line + "\n")
		}
	}
	if !seen || in {
		t.Fatalf("%s: no complete %q block", demoScript, settingsTitle)
	}
	return settings, order, rest.String()
}

// docSettings reads the first table after the document's heading that
// names the quick settings: | `NAME` | `value` | what it means |.
func docSettings(t *testing.T, doc string) map[string]string {
	t.Helper()
	f, err := os.Open(doc)
	if err != nil {
		t.Fatalf("%v (it holds the %q table)", err, settingsTitle)
	}
	defer f.Close()
	settings := map[string]string{}
	found, inTable := false, false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case !found:
			found = strings.HasPrefix(line, "#") && strings.Contains(line, settingsTitle)
		case strings.HasPrefix(line, "|"):
			inTable = true
			cells := splitRow(line)
			if len(cells) < 2 || strings.HasPrefix(cells[0], "-") || strings.EqualFold(strings.Trim(cells[0], "`* "), "setting") {
				continue // header or separator
			}
			name, value := strings.Trim(cells[0], "` "), strings.Trim(cells[1], "` ")
			if _, dup := settings[name]; dup {
				t.Errorf("%s:%d: %s listed twice", doc, n, name)
			}
			settings[name] = value
		case inTable:
			return settings // the table ended
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if !found {
		t.Fatalf("%s has no heading containing %q followed by the settings table", doc, settingsTitle)
	}
	return settings
}

// docs/demo.md states make demo's quick settings; they must be the ones
// scripts/demo.sh uses.
func TestDemoSettingsMatchDocs(t *testing.T) {
	script, order, rest := demoSettings(t)
	if len(script) == 0 {
		t.Fatal("demo.sh has no quick settings")
	}
	// Each setting is passed on somewhere, so the block is what runs.
	for _, name := range order {
		if !strings.Contains(rest, "$"+name) && !strings.Contains(rest, "${"+name) {
			t.Errorf("demo.sh sets %s but never uses it", name)
		}
	}
	for _, p := range compareSettings(script, order, docSettings(t, demoDoc)) {
		t.Error(demoDoc + ": " + p)
	}
}

// compareSettings lists every difference between the script's settings and
// a document's.
func compareSettings(script map[string]string, order []string, doc map[string]string) []string {
	var problems []string
	for _, name := range order {
		got, ok := doc[name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("the table lacks %s (demo.sh: %s)", name, script[name]))
		case got != script[name]:
			problems = append(problems, fmt.Sprintf("%s: the table says %q, demo.sh uses %q", name, got, script[name]))
		}
	}
	var extra []string
	for name := range doc {
		if _, ok := script[name]; !ok {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	for _, name := range extra {
		problems = append(problems, fmt.Sprintf("the table lists %s = %q, which demo.sh does not set", name, doc[name]))
	}
	return problems
}

// The comparison itself, on a page made here: the real table passes, a
// changed value, a missing row and an extra row are each found.
func TestCompareSettings(t *testing.T) {
	script, order, _ := demoSettings(t)
	var table strings.Builder
	table.WriteString("# x\n\nSome text.\n\n## " + settingsTitle + "\n\n| setting | value | meaning |\n|---|---|---|\n")
	for _, name := range order {
		fmt.Fprintf(&table, "| `%s` | `%s` | something |\n", name, script[name])
	}
	table.WriteString("\nAfter the table.\n\n| other | table |\n|---|---|\n| `X` | 1 |\n")
	path := filepath.Join(t.TempDir(), "demo.md")
	if err := os.WriteFile(path, []byte(table.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	doc := docSettings(t, path)
	if p := compareSettings(script, order, doc); len(p) != 0 {
		t.Fatalf("a table made from demo.sh does not match it: %v", p)
	}
	doc[order[0]] += "0"
	delete(doc, order[1])
	doc["EXTRA"] = "1"
	got := strings.Join(compareSettings(script, order, doc), "\n")
	for _, want := range []string{order[0] + ": the table says", "the table lacks " + order[1], "EXTRA"} {
		if !strings.Contains(got, want) {
			t.Errorf("problems %q lack %q", got, want)
		}
	}
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
