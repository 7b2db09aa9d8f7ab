package gotchcompat

import (
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
