package tensors

import (
	"runtime"

	"github.com/sugarme/gotch/ts"
)

// Arithmetic with a Go number. gotch wraps the number in a *ts.Scalar whose
// C memory a finalizer frees, and an inline ts.FloatScalar(v) argument is
// unreachable as soon as gotch's wrapper has read its C pointer: a garbage
// collection during the libtorch call could then free the scalar while
// libtorch still reads it. Each function here keeps its scalar alive until
// the call has returned. (gotch-compat now patches gotch's own wrappers to
// do the same, internal/gotchcompat/keepalive.go; these stay as the
// float64 spelling and a guard that does not depend on that patch.) del
// frees t, as in gotch.

// AddScalar returns t + v.
func AddScalar(t *ts.Tensor, v float64, del bool) (*ts.Tensor, error) {
	return withFloat(v, func(s *ts.Scalar) (*ts.Tensor, error) { return t.AddScalar(s, del) })
}

// MulScalar returns t * v.
func MulScalar(t *ts.Tensor, v float64, del bool) (*ts.Tensor, error) {
	return withFloat(v, func(s *ts.Scalar) (*ts.Tensor, error) { return t.MulScalar(s, del) })
}

// DivScalar returns t / v.
func DivScalar(t *ts.Tensor, v float64, del bool) (*ts.Tensor, error) {
	return withFloat(v, func(s *ts.Scalar) (*ts.Tensor, error) { return t.DivScalar(s, del) })
}

// ClampMin returns max(t, v) elementwise.
func ClampMin(t *ts.Tensor, v float64, del bool) (*ts.Tensor, error) {
	return withFloat(v, func(s *ts.Scalar) (*ts.Tensor, error) { return t.ClampMin(s, del) })
}

func withFloat(v float64, op func(*ts.Scalar) (*ts.Tensor, error)) (*ts.Tensor, error) {
	s := ts.FloatScalar(v)
	out, err := op(s)
	runtime.KeepAlive(s)
	return out, err
}

// Clamp returns min(max(t, lo), hi) elementwise.
func Clamp(t *ts.Tensor, lo, hi float64, del bool) (*ts.Tensor, error) {
	a, b := ts.FloatScalar(lo), ts.FloatScalar(hi)
	out, err := t.Clamp(a, b, del)
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	return out, err
}
