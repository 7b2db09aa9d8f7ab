package gotchcompat

import (
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

const threeOutputs = `func Lstm(input *Tensor)(retVal0 *Tensor, retVal1 *Tensor, retVal2 *Tensor, err error) { 
  ctensorPtr0 := (*lib.Ctensor)(unsafe.Pointer(C.malloc(0)))
  ctensorPtr1 := (*lib.Ctensor)(unsafe.Pointer(uintptr(unsafe.Pointer(ctensorPtr0)) + unsafe.Sizeof(ctensorPtr0)))
  ctensorPtr2 := (*lib.Ctensor)(unsafe.Pointer(uintptr(unsafe.Pointer(ctensorPtr1)) + unsafe.Sizeof(ctensorPtr0)))
  lib.AtgLstm(ctensorPtr0, input.ctensor)
}
func(ts *Tensor) Add_(other *Tensor)(err error) { 
  ptr := (*lib.Ctensor)(unsafe.Pointer(C.malloc(0)))
  lib.AtgAdd_(ptr, ts.ctensor, other.ctensor)
  ts.ctensor = *ptr
  return err
}`

func TestFixOutputArrays(t *testing.T) {
	out, n := FixOutputArrays(threeOutputs)
	if n != 2 {
		t.Fatalf("fixed %d allocations, want 2", n)
	}
	if strings.Contains(out, "C.malloc(0)") {
		t.Error("malloc(0) left in output")
	}
	for _, want := range []string{
		"ctensorPtr0 := (*lib.Ctensor)(C.malloc(C.size_t(3) * C.size_t(unsafe.Sizeof(uintptr(0)))))",
		"defer C.free(unsafe.Pointer(ctensorPtr0))",
		"ptr := (*lib.Ctensor)(C.malloc(C.size_t(1) * C.size_t(unsafe.Sizeof(uintptr(0)))))",
		"defer C.free(unsafe.Pointer(ptr))",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestFixInPlaceHandles(t *testing.T) {
	out, n := FixInPlaceHandles(threeOutputs)
	if n != 1 {
		t.Fatalf("fixed %d in-place ops, want 1", n)
	}
	free := strings.Index(out, "lib.AtFree(ts.ctensor)")
	swap := strings.Index(out, "ts.ctensor = *ptr")
	if free < 0 || free > swap {
		t.Errorf("old handle must be freed before the swap:\n%s", out)
	}
}

const cgoFile = `package ts

// #include <stdlib.h>
import "C"

import (
	"unsafe"

	lib "github.com/sugarme/gotch/libtch"
)

func (ts *Tensor) Sub(other *Tensor, del bool) (retVal *Tensor, err error) {
	if del {
		defer ts.MustDrop()
	}
	ptr := (*lib.Ctensor)(unsafe.Pointer(C.malloc(0)))
	lib.AtgSub(ptr, ts.ctensor, other.ctensor)
	return newTensor(*ptr), TorchErr()
}

func Cat(tensors []*Tensor, dim int64, s *Scalar, _ *Tensor, n int) {}

func newTensor(c lib.Ctensor) *Tensor { return nil }

func (ts *Tensor) Dim() uint64 { return lib.AtDim(ts.ctensor) }
`

func TestKeepArgumentsAlive(t *testing.T) {
	out, n, err := KeepArgumentsAlive(cgoFile)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("changed %d functions, want 3 (Sub, Cat and the one-line Dim)", n)
	}
	for _, want := range []string{
		"(retVal *Tensor, err error) {\n\t// torchlab: arguments kept alive, see internal/gotchcompat/keepalive.go\n\tdefer runtime.KeepAlive(ts)\n\tdefer runtime.KeepAlive(other)\n\n\tif del {",
		"defer runtime.KeepAlive(other)",
		"defer runtime.KeepAlive(tensors)",
		"defer runtime.KeepAlive(s)",
		"import \"C\"\n\nimport (",
		")\n\nimport \"runtime\"\n\nfunc (ts *Tensor) Sub",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if c := strings.Count(out, "runtime.KeepAlive("); c != 5 {
		t.Errorf("%d KeepAlive calls, want 5 (not for del, dim, n, _ or newTensor's ctensor)", c)
	}
	if _, err := parser.ParseFile(token.NewFileSet(), "", out, 0); err != nil {
		t.Errorf("rewritten file does not parse: %v", err)
	}
	if again, n, err := KeepArgumentsAlive(strings.Replace(out, `import "runtime"`, "", 1)); err != nil || n != 3 || !strings.Contains(again, `import "runtime"`) {
		t.Errorf("second run: n=%d err=%v", n, err)
	}
}
