// Package tensors moves data between Go slices and libtorch tensors, and
// names a model's variables, with the checks gotch leaves to the caller.
package tensors

import (
	"fmt"
	"unsafe"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// FromFloat32 copies data into a new float32 tensor of the given shape.
// (gotch's OfSlice encodes element by element through reflection; this
// copies the bytes at once.)
func FromFloat32(data []float32, shape ...int64) (*ts.Tensor, error) {
	if n := numel(shape); n != len(data) {
		return nil, fmt.Errorf("shape %v needs %d values, have %d", shape, n, len(data))
	}
	var raw []byte
	if len(data) > 0 {
		raw = unsafe.Slice((*byte)(unsafe.Pointer(&data[0])), 4*len(data))
	}
	return ts.OfDataSize(raw, shape, gotch.Float)
}

// FromInt64 copies data into a new int64 tensor of the given shape.
func FromInt64(data []int64, shape ...int64) (*ts.Tensor, error) {
	if n := numel(shape); n != len(data) {
		return nil, fmt.Errorf("shape %v needs %d values, have %d", shape, n, len(data))
	}
	var raw []byte
	if len(data) > 0 {
		raw = unsafe.Slice((*byte)(unsafe.Pointer(&data[0])), 8*len(data))
	}
	return ts.OfDataSize(raw, shape, gotch.Int64)
}

// Float32s copies a float tensor's values out, in C order.
func Float32s(t *ts.Tensor) ([]float32, error) {
	if t.DType() != gotch.Float {
		return nil, fmt.Errorf("want a float32 tensor, have %v", t.DType())
	}
	c, err := t.Contiguous(false)
	if err != nil {
		return nil, err
	}
	defer c.MustDrop()
	out := make([]float32, c.Numel())
	if err := c.CopyData(out, c.Numel()); err != nil {
		return nil, err
	}
	return out, nil
}

// Int64s copies an int64 tensor's values out, in C order.
func Int64s(t *ts.Tensor) ([]int64, error) {
	if t.DType() != gotch.Int64 {
		return nil, fmt.Errorf("want an int64 tensor, have %v", t.DType())
	}
	c, err := t.Contiguous(false)
	if err != nil {
		return nil, err
	}
	defer c.MustDrop()
	out := make([]int64, c.Numel())
	if err := c.CopyData(out, c.Numel()); err != nil {
		return nil, err
	}
	return out, nil
}

// Scalar reads a one-element float tensor as float64.
func Scalar(t *ts.Tensor) (float64, error) {
	if t.Numel() != 1 {
		return 0, fmt.Errorf("want one element, have shape %v", t.MustSize())
	}
	return t.Float64Value([]int64{})
}

func numel(shape []int64) int {
	n := 1
	for _, d := range shape {
		n *= int(d)
	}
	return n
}
