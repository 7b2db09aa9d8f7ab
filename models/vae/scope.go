package vae

import "github.com/sugarme/gotch/ts"

// scope collects the intermediate tensors of a forward pass and frees them
// together when the pass returns, so that a long chain of ops needs one
// deferred drop instead of one per op.
type scope struct{ held []*ts.Tensor }

// add keeps t for drop when err is nil and passes both on:
// a, err := sc.add(x.Mul(y, false)).
func (s *scope) add(t *ts.Tensor, err error) (*ts.Tensor, error) {
	if err == nil && t != nil {
		s.held = append(s.held, t)
	}
	return t, err
}

// drop frees every tensor added.
func (s *scope) drop() {
	for _, t := range s.held {
		t.MustDrop()
	}
	s.held = nil
}
