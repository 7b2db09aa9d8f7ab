package gotchcompat

import (
	"fmt"
	"regexp"
	"strings"
)

// outputArray matches the line where a generated op allocates the array the
// C side writes its output handles into: gotch asks for malloc(0) and never
// frees it. That leaks one small chunk per call and is undefined behaviour
// for an op with more outputs than the chunk happens to hold.
var outputArray = regexp.MustCompile(`^(\s*)([A-Za-z0-9_]+) := \(\*lib\.Ctensor\)\(unsafe\.Pointer\(C\.malloc\(0\)\)\)\s*$`)

// nextSlot matches the lines that address the following output slots:
// "ctensorPtr1 := (*lib.Ctensor)(unsafe.Pointer(uintptr(unsafe.Pointer(ctensorPtr0)) + ...".
var nextSlot = regexp.MustCompile(`^\s*[A-Za-z0-9_]+ := \(\*lib\.Ctensor\)\(unsafe\.Pointer\(uintptr\(`)

// FixOutputArrays sizes every output array for the number of handles the op
// returns and frees it when the Go function returns. It reports how many
// allocations it rewrote.
func FixOutputArrays(src string) (string, int) {
	lines := strings.Split(src, "\n")
	fixed := 0
	out := make([]string, 0, len(lines)+4096)
	for i, line := range lines {
		m := outputArray.FindStringSubmatch(line)
		if m == nil {
			out = append(out, line)
			continue
		}
		slots := 1
		for j := i + 1; j < len(lines) && nextSlot.MatchString(lines[j]); j++ {
			slots++
		}
		indent, name := m[1], m[2]
		out = append(out,
			fmt.Sprintf("%s%s := (*lib.Ctensor)(C.malloc(C.size_t(%d) * C.size_t(unsafe.Sizeof(uintptr(0))))) // torchlab: sized and freed", indent, name, slots),
			fmt.Sprintf("%sdefer C.free(unsafe.Pointer(%s))", indent, name))
		fixed++
	}
	return strings.Join(out, "\n"), fixed
}

// inPlaceSwap is the line where an in-place op points the receiver at the
// handle the C side returned, dropping the old handle without freeing it.
const inPlaceSwap = "  ts.ctensor = *ptr"

// FixInPlaceHandles frees the receiver's old C handle before an in-place op
// replaces it. Both handles refer to the same tensor, so freeing the old one
// only releases the handle (a reference count), never the data.
func FixInPlaceHandles(src string) (string, int) {
	lines := strings.Split(src, "\n")
	fixed := 0
	out := make([]string, 0, len(lines)+512)
	for _, line := range lines {
		if line == inPlaceSwap {
			out = append(out, "  lib.AtFree(ts.ctensor) // torchlab: release the replaced handle")
			fixed++
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n"), fixed
}
