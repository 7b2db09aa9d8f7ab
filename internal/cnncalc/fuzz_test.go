package cnncalc

import "testing"

// FuzzParse: any spec parses or gives an error, never a panic; a parsed
// network prints as a spec that parses to the same network, and analyses
// (sizes, padding, receptive field, parameter counts) without a panic.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		DefaultSpec,
		"in 5x6x2; conv 4 3x5 p1x2 s2x1",
		"  IN 8x8X1 ;; CONV 2  3X3   S1 P0 ; POOL 2x2; FC 3;",
		"in 2x2x1; conv 1 4x4 p1",
		"in 65535x65535x65535; conv 65535 9x9; fc 4294967295",
		"in 256x256x3; conv 100 3x3 s1; conv 50 5x5 s0",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		net, err := Parse(spec)
		if err != nil {
			return
		}
		again, err := Parse(net.String())
		if err != nil || again.String() != net.String() {
			t.Fatalf("%q printed as %q, which parses to %v, %v", spec, net.String(), again, err)
		}
		r, err := Analyze(net)
		if err != nil {
			return
		}
		Explain(r, nil)
		if _, err := r.JSON(); err != nil {
			t.Errorf("JSON of %q: %v", spec, err)
		}
	})
}
