package layout

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// libraryFloors are the folders whose code must return errors, never end the
// process: gotch's Must* ops call log.Fatal (no deferred cleanup, no
// checkpoint), and a panic is no better for a caller that could recover.
// Under cmd/ that is every file but the commands' main.go: training
// steps, data and figures return their errors to main, the one place
// that exits.
var libraryFloors = []string{"torch", "models", "datasets", "plots", "internal", "cmd"}

// fatalAllowed is the reviewed list of process-ending calls left in library
// code, by file, function ("Type.Method", or "" at package scope) and call,
// with how many there are. Two kinds are allowed everywhere without an
// entry; see allowedEverywhere.
var fatalAllowed = []struct {
	file, fn, call string
	count          int
	reason         string
}{
	{"torch/layers/init.go", "uniformInit.InitTensor", "MustEmpty", 1,
		"gotch's nn.Init interface has no error result; every layer constructor checks its sizes before creating a variable, so a failure is a bug"},
	{"torch/layers/init.go", "uniformInit.InitTensor", "MustUniform_", 1,
		"as MustEmpty above: filling a tensor just made with valid sizes cannot fail on user data"},
	{"torch/layers/init.go", "uniformInit.Set", "MustUniform_", 1,
		"gotch's nn.Init interface has no error result; the tensor is a parameter the VarStore made"},
	{"torch/optim/optim.go", "copyInto", "Copy_", 1,
		"gotch's in-place copy has no error form; Load checks the shapes and copyInto converts the dtype first"},
	{"torch/tensors/tensors.go", "Assign", "Copy_", 1,
		"gotch's in-place copy has no error form; Assign checks the shape and converts the dtype first"},
	// The benchmark: a failure there loses no training.
	{"cmd/bench/vgg.go", "benchVGG", "MustRandn", 1, benchOnly},
	{"cmd/bench/vgg.go", "benchVGG", "MustRandint", 1, benchOnly},
	{"cmd/bench/vgg.go", "benchEval", "MustRandn", 1, benchOnly},
	{"cmd/bench/vgg.go", "benchEval", "MustRandint", 1, benchOnly},
}

// The reason of the cmd/ entries.
const benchOnly = "the benchmark's random inputs of sizes checked by its flags; a failure loses no run"

// hiddenFatal are gotch methods without the Must prefix that still end the
// process on a libtorch error (they call log.Fatal or a Must op inside).
// Numel, Dim and Size-like accessors also do, but only on an undefined
// tensor, which no code here makes.
var hiddenFatal = map[string]bool{"Copy_": true, "Float64Values": true, "Int64Values": true, "Vals": true, "Idx": true}

// allowedEverywhere says whether a call needs no entry in fatalAllowed.
func allowedEverywhere(call, fn string) (bool, string) {
	switch {
	case call == "MustDrop":
		return true, "freeing a tensor fails only on a tensor freed twice or never made, a bug, never on user data"
	case call == "regexp.MustCompile" && fn == "":
		return true, "a constant pattern at package scope: a bad one fails every test run at start-up"
	}
	return false, ""
}

var mustName = regexp.MustCompile(`^Must[A-Z]\w*$`)

// fatalCalls returns the process-ending calls in one parsed file (gotch's
// Must* ops and hiddenFatal, log.Fatal*/Panic*, panic), counted
// by "function|call".
func fatalCalls(f *ast.File) map[string]int {
	found := map[string]int{}
	record := func(fn string, n ast.Node) {
		ast.Inspect(n, func(n ast.Node) bool {
			c, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			call := ""
			switch fun := c.Fun.(type) {
			case *ast.Ident:
				if fun.Name == "panic" {
					call = "panic"
				}
			case *ast.SelectorExpr:
				pkg := ""
				if id, ok := fun.X.(*ast.Ident); ok {
					pkg = id.Name
				}
				switch {
				case pkg == "log" && (strings.HasPrefix(fun.Sel.Name, "Fatal") || strings.HasPrefix(fun.Sel.Name, "Panic")):
					call = "log." + fun.Sel.Name
				case mustName.MatchString(fun.Sel.Name) && pkg == "regexp":
					call = "regexp." + fun.Sel.Name
				case mustName.MatchString(fun.Sel.Name), hiddenFatal[fun.Sel.Name]:
					call = fun.Sel.Name
				}
			}
			if call != "" {
				found[fn+"|"+call]++
			}
			return true
		})
	}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok {
			record("", d)
			continue
		}
		name := fd.Name.Name
		if fd.Recv != nil && len(fd.Recv.List) == 1 {
			t := fd.Recv.List[0].Type
			if s, ok := t.(*ast.StarExpr); ok {
				t = s.X
			}
			if id, ok := t.(*ast.Ident); ok {
				name = id.Name + "." + name
			}
		}
		record(name, fd)
	}
	return found
}

func TestNoFatalExitsInLibraries(t *testing.T) {
	root := filepath.Join("..", "..")
	got := map[string]int{} // file|function|call
	fset := token.NewFileSet()
	for _, floor := range libraryFloors {
		err := filepath.WalkDir(filepath.Join(root, floor), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			if f.Name.Name == "main" && (floor != "cmd" || filepath.Base(path) == "main.go") {
				return nil // only main may exit
			}
			rel, _ := filepath.Rel(root, path)
			for k, n := range fatalCalls(f) {
				got[filepath.ToSlash(rel)+"|"+k] += n
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]int{}
	for _, a := range fatalAllowed {
		if a.reason == "" {
			t.Errorf("allowlist entry %s %s %s has no reason", a.file, a.fn, a.call)
		}
		want[a.file+"|"+a.fn+"|"+a.call] = a.count
	}
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts := strings.SplitN(k, "|", 3)
		if ok, _ := allowedEverywhere(parts[2], parts[1]); ok {
			continue
		}
		if got[k] != want[k] {
			fn := parts[1]
			if fn == "" {
				fn = "package scope"
			}
			t.Errorf("%s, %s: %d call(s) of %s, the allowlist has %d: return an error instead "+
				"(or, for a true programmer error, add an entry with the reason to fatalAllowed)",
				parts[0], fn, got[k], parts[2], want[k])
		}
	}
	for k, n := range want {
		if got[k] == 0 {
			t.Errorf("allowlist entry %s (%d) matches no call any more: remove it", k, n)
		}
	}
}

// TestFatalCallsFindsEachKind checks the scanner itself on a small source.
func TestFatalCallsFindsEachKind(t *testing.T) {
	src := `package p
var re = regexp.MustCompile("x")
func (m *M) Forward(x *ts.Tensor) *ts.Tensor {
	defer x.MustDrop()
	if bad { log.Fatalf("no") }
	if worse { panic("no") }
	x.Copy_(x)
	return x.MustAdd(x, false).MustRelu(true)
}`
	f, err := parser.ParseFile(token.NewFileSet(), "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := fatalCalls(f)
	want := map[string]int{
		"|regexp.MustCompile":  1,
		"M.Forward|MustDrop":   1,
		"M.Forward|log.Fatalf": 1,
		"M.Forward|panic":      1,
		"M.Forward|MustAdd":    1,
		"M.Forward|MustRelu":   1,
		"M.Forward|Copy_":      1,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("found %v, want %v", got, want)
	}
}
