package layout

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "torchlab/"

// floor returns the floor of a torchlab package: "cmd", "internal",
// "models", "torch", or the pure-Go "datasets"/"plots"/"scripts".
func floor(pkg string) string {
	rel := strings.TrimPrefix(pkg, module)
	return strings.SplitN(rel, "/", 2)[0]
}

// allowed says whether a package of floor from may import one of floor to.
// Imports point strictly down: cmd -> internal -> models -> torch -> gotch;
// datasets and plots are pure Go, used by internal and cmd; models know
// nothing of the data sets.
func allowed(from, to string) bool {
	rank := map[string]int{"torch": 1, "models": 2, "datasets": 2, "plots": 2, "internal": 3, "cmd": 4, "scripts": 4}
	switch from {
	case "datasets", "plots":
		return to == from
	case "torch", "models", "internal":
		return to == from || rank[to] < rank[from]
	}
	return to != "cmd" || from == "cmd"
}

func TestImportsPointDown(t *testing.T) {
	out, err := exec.Command("go", "list", "-test", "-f", `{{.ImportPath}}|{{join .Imports " "}}`, "torchlab/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, "|")
		// go list -test adds "pkg [pkg.test]" variants and the .test mains.
		pkg, _, _ = strings.Cut(pkg, " ")
		if strings.HasSuffix(pkg, ".test") || strings.HasPrefix(pkg, module+"internal/layout") {
			continue
		}
		from := floor(pkg)
		for _, imp := range strings.Fields(imports) {
			imp, _, _ = strings.Cut(imp, " ")
			if strings.HasPrefix(imp, module) {
				checked++
				if to := floor(imp); !allowed(from, to) {
					t.Errorf("%s imports %s: a %s package may not import from %s/", pkg, imp, from, to)
				}
				continue
			}
			// The pure-Go floors do not link libtorch.
			if (from == "datasets" || from == "plots") && strings.HasPrefix(imp, "github.com/sugarme/gotch") {
				t.Errorf("%s imports %s: %s/ is pure Go", pkg, imp, from)
			}
		}
	}
	if checked < 50 {
		t.Fatalf("only %d torchlab imports seen: go list output not understood", checked)
	}
}

func TestFloorRules(t *testing.T) {
	for _, tt := range []struct {
		from, to string
		ok       bool
	}{
		{"cmd", "internal", true}, {"internal", "models", true}, {"models", "torch", true},
		{"torch", "models", false}, {"torch", "internal", false}, {"models", "internal", false},
		{"internal", "cmd", false}, {"datasets", "torch", false}, {"models", "datasets", false},
		{"plots", "datasets", false},
	} {
		if got := allowed(tt.from, tt.to); got != tt.ok {
			t.Errorf("allowed(%s, %s) = %v, want %v", tt.from, tt.to, got, tt.ok)
		}
	}
}
