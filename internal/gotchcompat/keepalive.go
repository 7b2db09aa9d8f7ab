package gotchcompat

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"sort"
	"strings"
)

// KeepArgumentsAlive makes every function of gotch's package ts keep its
// tensor and scalar arguments alive until it returns.
//
// Why: gotch frees a *Tensor's (and a *Scalar's) C object in a Go
// finalizer. A wrapper such as Sub(other, del) reads other.ctensor and then
// calls libtorch; from that moment Go's liveness analysis counts other as
// dead, so when the caller holds no later use of it (an inline temporary
// such as a.MustSub(b.MustMulScalar(s, false), true), or a tensor whose
// last use is that call) a garbage collection during the C call can free
// the tensor while libtorch still reads it: garbage numbers, +Inf, or a
// corrupted heap. One `defer runtime.KeepAlive(x)` at the top of each
// function, for its receiver and every *Tensor, *Scalar or []*Tensor
// parameter, closes that window at every call site at once, for the cost
// of a deferred no-op.
//
// It returns the rewritten source and how many functions it changed.
func KeepArgumentsAlive(src string) (string, int, error) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "", src, parser.ParseComments)
	if err != nil {
		return "", 0, err
	}
	type insertion struct {
		offset int
		text   string
	}
	var ins []insertion
	for _, decl := range file.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Body == nil {
			continue
		}
		var names []string
		if fn.Recv != nil {
			names = append(names, finalizedNames(fn.Recv)...)
		}
		names = append(names, finalizedNames(fn.Type.Params)...)
		if len(names) == 0 {
			continue
		}
		var b strings.Builder
		b.WriteString("\n\t// torchlab: arguments kept alive, see internal/gotchcompat/keepalive.go")
		for _, name := range names {
			if name == "runtime" {
				return "", 0, fmt.Errorf("%s: a parameter named runtime hides the package", fn.Name.Name)
			}
			fmt.Fprintf(&b, "\n\tdefer runtime.KeepAlive(%s)", name)
		}
		// The closing newline keeps a one-line body's statements off the
		// last defer's line.
		b.WriteString("\n")
		ins = append(ins, insertion{fset.Position(fn.Body.Lbrace).Offset + 1, b.String()})
	}
	funcs := len(ins)
	if funcs == 0 {
		return src, 0, nil
	}
	if !importsRuntime(file) {
		at := fset.Position(file.Name.End()).Offset
		if len(file.Imports) > 0 {
			// After the last import declaration: `import "C"` must stay
			// right below its cgo preamble.
			for _, d := range file.Decls {
				if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.IMPORT {
					at = fset.Position(g.End()).Offset
				}
			}
		}
		ins = append(ins, insertion{at, "\n\nimport \"runtime\""})
	}
	sort.Slice(ins, func(i, j int) bool { return ins[i].offset > ins[j].offset })
	out := src
	for _, in := range ins {
		out = out[:in.offset] + in.text + out[in.offset:]
	}
	return out, funcs, nil
}

// finalizedNames lists the fields of a receiver or parameter list whose
// values carry gotch's finalizer: *Tensor, *Scalar, and slices of *Tensor
// (keeping the slice alive keeps its elements reachable).
func finalizedNames(fields *ast.FieldList) []string {
	var names []string
	for _, f := range fields.List {
		if !carriesFinalizer(f.Type) {
			continue
		}
		for _, n := range f.Names {
			if n.Name != "_" {
				names = append(names, n.Name)
			}
		}
	}
	return names
}

func carriesFinalizer(t ast.Expr) bool {
	switch t := t.(type) {
	case *ast.StarExpr:
		id, ok := t.X.(*ast.Ident)
		return ok && (id.Name == "Tensor" || id.Name == "Scalar")
	case *ast.ArrayType:
		return t.Len == nil && isTensorPointer(t.Elt)
	case *ast.Ellipsis:
		return isTensorPointer(t.Elt)
	}
	return false
}

func isTensorPointer(t ast.Expr) bool {
	s, ok := t.(*ast.StarExpr)
	if !ok {
		return false
	}
	id, ok := s.X.(*ast.Ident)
	return ok && id.Name == "Tensor"
}

func importsRuntime(file *ast.File) bool {
	for _, imp := range file.Imports {
		if imp.Path.Value == `"runtime"` && (imp.Name == nil || imp.Name.Name == "runtime") {
			return true
		}
	}
	return false
}
