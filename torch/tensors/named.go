package tensors

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"
)

// Named returns every variable of vs (parameters and buffers) by its dotted
// name, as the store's own tensors. gotch's VarStore.Variables returns copies
// of the Go structs, and an in-place op on such a copy would replace a handle
// the store still uses, so this looks each one up through its path instead.
func Named(vs *nn.VarStore) (map[string]*ts.Tensor, error) {
	copies := vs.Variables()
	out := make(map[string]*ts.Tensor, len(copies))
	for name := range copies {
		parts := strings.Split(name, nn.SEP)
		p := vs.Root()
		for _, part := range parts[:len(parts)-1] {
			p = p.Sub(part)
		}
		// Entry.OrVar returns the existing variable when the name is taken;
		// the init it is given is never used then, so it makes nothing.
		t, err := p.Entry(parts[len(parts)-1]).OrVar(nil, undefinedInit{})
		if err != nil {
			return nil, fmt.Errorf("variable %s: %w", name, err)
		}
		out[name] = t
	}
	if len(vs.Variables()) != len(copies) {
		return nil, fmt.Errorf("variable store changed while listing its names")
	}
	return out, nil
}

// SortedNames lists the keys of a name->tensor map in order.
func SortedNames(m map[string]*ts.Tensor) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// undefinedInit makes gotch's undefined tensor, which costs nothing to make
// or drop.
type undefinedInit struct{}

func (undefinedInit) InitTensor([]int64, gotch.Device, ...gotch.DType) *ts.Tensor {
	return ts.NewTensor()
}
func (undefinedInit) Set(*ts.Tensor) {}
