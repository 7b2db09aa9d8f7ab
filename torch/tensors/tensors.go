// Package tensors moves data between Go slices and libtorch tensors, and
// names a model's variables, with the checks gotch leaves to the caller.
package tensors

import (
	"fmt"
	"strings"
	"unsafe"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"torchlab/torch/npz"
	"torchlab/torch/torchrt"
)

// ATen's reduction codes (at::Reduction), the reduction argument of gotch's
// loss functions.
const (
	ReductionNone int64 = 0
	ReductionMean int64 = 1
	ReductionSum  int64 = 2
)

// FromFloat32 copies data into a new float32 tensor of the given shape.
// (gotch's OfSlice encodes element by element through reflection; this
// copies the bytes at once.)
func FromFloat32(data []float32, shape ...int64) (*ts.Tensor, error) {
	if n := numel(shape); n != len(data) {
		return nil, fmt.Errorf("shape %v needs %d values, have %d", shape, n, len(data))
	}
	if len(shape) == 0 {
		return scalarOf(FromFloat32(data, 1))
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
	if len(shape) == 0 {
		return scalarOf(FromInt64(data, 1))
	}
	var raw []byte
	if len(data) > 0 {
		raw = unsafe.Slice((*byte)(unsafe.Pointer(&data[0])), 8*len(data))
	}
	return ts.OfDataSize(raw, shape, gotch.Int64)
}

// scalarOf squeezes a one-element tensor to 0 dimensions: gotch cannot make
// a tensor of an empty shape directly (it indexes the shape's first element),
// and BatchNorm's num_batches_tracked is one.
func scalarOf(t *ts.Tensor, err error) (*ts.Tensor, error) {
	if err != nil {
		return nil, err
	}
	return t.Squeeze(true)
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

// Float64s copies a float32 tensor's values out as float64, in C order:
// the precision sums and means over many values want.
func Float64s(t *ts.Tensor) ([]float64, error) {
	f, err := Float32s(t)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(f))
	for i, v := range f {
		out[i] = float64(v)
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
		shape, _ := t.Size() // for the message only: nil if even the size is unreadable
		return 0, fmt.Errorf("want one element, have shape %v", shape)
	}
	return t.Float64Value([]int64{})
}

// Any in a shape given to CheckShape matches every size of that dimension.
const Any int64 = -1

// CheckShape returns an error naming t's shape and the one wanted when they
// differ. Any matches every size; it prints as N in the first dimension
// (the batch) and * elsewhere: "input [8 1 28 28], want [N 1 32 32]".
func CheckShape(t *ts.Tensor, want ...int64) error {
	if t == nil {
		return fmt.Errorf("input is nil, want %s", shapeString(want))
	}
	got, err := t.Size()
	if err != nil {
		return fmt.Errorf("input: %w", err)
	}
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		ok = want[i] == Any || want[i] == got[i]
	}
	if !ok {
		return fmt.Errorf("input %v, want %s", got, shapeString(want))
	}
	return nil
}

func shapeString(shape []int64) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		switch {
		case d != Any:
			parts[i] = fmt.Sprint(d)
		case i == 0:
			parts[i] = "N"
		default:
			parts[i] = "*"
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func numel(shape []int64) int {
	n := 1
	for _, d := range shape {
		n *= int(d)
	}
	return n
}

// ToArray copies a float32 or int64 tensor into an npz array.
func ToArray(x *ts.Tensor) (npz.Array, error) {
	shape, err := x.Size()
	if err != nil {
		return npz.Array{}, err
	}
	dims := make([]int, len(shape))
	for i, d := range shape {
		dims[i] = int(d)
	}
	if v, err := Float32s(x); err == nil {
		return npz.Float32(v, dims...), nil
	}
	v, err := Int64s(x)
	if err != nil {
		return npz.Array{}, fmt.Errorf("tensor of dtype %v: only float32 and int64 are exchanged", x.DType())
	}
	return npz.Int64(v, dims...), nil
}

// ToArrays copies named tensors into npz arrays.
func ToArrays(named map[string]*ts.Tensor) (map[string]npz.Array, error) {
	out := make(map[string]npz.Array, len(named))
	for name, x := range named {
		a, err := ToArray(x)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[name] = a
	}
	return out, nil
}

// FromArray makes a new tensor from an npz array (float64 becomes float32).
func FromArray(a npz.Array) (*ts.Tensor, error) {
	shape := make([]int64, len(a.Shape))
	for i, d := range a.Shape {
		shape[i] = int64(d)
	}
	switch {
	case a.I64 != nil:
		return FromInt64(a.I64, shape...)
	case a.F32 != nil:
		return FromFloat32(a.F32, shape...)
	default:
		f := make([]float32, len(a.F64))
		for i, v := range a.F64 {
			f[i] = float32(v)
		}
		return FromFloat32(f, shape...)
	}
}

// Assign copies a into dst, which must have a's shape, converting a's dtype
// to dst's; gradients are not recorded.
func Assign(dst *ts.Tensor, a npz.Array) error {
	shape, err := dst.Size()
	if err != nil {
		return err
	}
	if fmt.Sprint(shape) != fmt.Sprint(int64sOf(a.Shape)) {
		return fmt.Errorf("shape %v in checkpoint, %v in model", a.Shape, shape)
	}
	src, err := FromArray(a)
	if err != nil {
		return err
	}
	defer src.MustDrop()
	if src.DType() != dst.DType() {
		conv, err := src.Totype(dst.DType(), false)
		if err != nil {
			return err
		}
		defer conv.MustDrop()
		src = conv
	}
	defer torchrt.SetGradEnabled(torchrt.SetGradEnabled(false))
	dst.Copy_(src) // shapes and dtypes match, so this cannot fail
	return nil
}

func int64sOf(v []int) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}
