// Package ptfile writes and reads PyTorch's .pt files holding a state_dict:
// a flat dictionary from parameter names to tensors, what
// `torch.save(model.state_dict(), path)` writes and `torch.load(path)`
// returns.
//
// Write goes through libtorch's own writer (torch::pickle_save, a small C++
// shim), so the file is the zip archive torch.load expects, made by the
// same code PyTorch links. Reading cannot: libtorch 1.13's unpickler turns
// the collections.OrderedDict that torch.save writes for a state_dict into
// None ("Expected GenericDict but got None"), so Read unpickles in Go with
// github.com/nlpodyssey/gopickle, which knows torch.save's format (both the
// zip archive and the older single-stream one).
//
// Tensors are npz.Arrays: float32, float64 and int64 are read as such,
// float16 and bfloat16 are widened to float32; other dtypes are an error.
// A truncated, foreign or non-state_dict file is an error naming the file,
// never a panic.
package ptfile

// #cgo CXXFLAGS: -std=c++17 -O2 -D_GLIBCXX_USE_CXX11_ABI=1 -w -I/usr/include/torch/csrc/api/include
// #cgo LDFLAGS: -lstdc++ -ltorch_cpu -lc10
// #include <stdlib.h>
// #include "ptfile.h"
import "C"

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"unsafe"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/pytorch"
	"github.com/nlpodyssey/gopickle/types"

	"torchlab/torch/npz"
)

// Write stores tensors at path as a state_dict that torch.load reads as a
// plain dict of tensors.
func Write(path string, tensors map[string]npz.Array) error {
	data, err := Encode(tensors)
	if err == nil {
		err = os.WriteFile(path, data, 0o644)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Encode is the file Write writes, as bytes; names go in sorted order.
func Encode(tensors map[string]npz.Array) ([]byte, error) {
	names := make([]string, 0, len(tensors))
	for name := range tensors {
		names = append(names, name)
	}
	sort.Strings(names)
	dict := C.torchlab_pt_new()
	defer C.torchlab_pt_free(dict)
	for _, name := range names {
		if err := add(dict, name, tensors[name]); err != nil {
			return nil, fmt.Errorf("tensor %q: %w", name, err)
		}
	}
	var out *C.char
	var n C.int64_t
	if err := errOf(C.torchlab_pt_save(dict, &out, &n)); err != nil {
		return nil, fmt.Errorf("torch::pickle_save: %w", err)
	}
	defer C.free(unsafe.Pointer(out))
	return C.GoBytes(unsafe.Pointer(out), C.int(n)), nil
}

func add(dict unsafe.Pointer, name string, a npz.Array) error {
	if err := a.Check(); err != nil {
		return err
	}
	var code C.int
	var data unsafe.Pointer
	switch {
	case a.F32 != nil:
		code = 0
		if len(a.F32) > 0 {
			data = unsafe.Pointer(&a.F32[0])
		}
	case a.F64 != nil:
		code = 1
		if len(a.F64) > 0 {
			data = unsafe.Pointer(&a.F64[0])
		}
	default:
		code = 2
		if len(a.I64) > 0 {
			data = unsafe.Pointer(&a.I64[0])
		}
	}
	shape := make([]C.int64_t, len(a.Shape)+1) // +1: never empty, so &shape[0] exists
	for i, d := range a.Shape {
		shape[i] = C.int64_t(d)
	}
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	err := errOf(C.torchlab_pt_add(dict, cname, code, &shape[0], C.int(len(a.Shape)), data))
	runtime.KeepAlive(a)
	return err
}

func errOf(msg *C.char) error {
	if msg == nil {
		return nil
	}
	defer C.free(unsafe.Pointer(msg))
	return errors.New(C.GoString(msg))
}

// Read loads the state_dict at path: every entry must be a tensor under a
// string name.
func Read(path string) (tensors map[string]npz.Array, err error) {
	if err := checkMagic(path); err != nil {
		return nil, err
	}
	// gopickle trusts the file; a crafted one can make it index out of
	// range. That is a broken file, not a bug here.
	defer func() {
		if r := recover(); r != nil {
			tensors, err = nil, fmt.Errorf("read %s: not a readable .pt file: %v", path, r)
		}
	}()
	obj, err := pytorch.LoadWithUnpickler(path, newUnpickler)
	if err != nil {
		return nil, fmt.Errorf("read %s: not a readable .pt file: %w", path, err)
	}
	out, err := stateDict(obj)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return out, nil
}

// checkMagic tells a truncated or foreign file apart before unpickling: a
// .pt file is a zip archive (torch.save since 1.6) or a pickle stream
// (the legacy format), which starts with the PROTO opcode 0x80.
func checkMagic(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	head := make([]byte, 4)
	if _, err := io.ReadFull(f, head); err != nil {
		return fmt.Errorf("read %s: not a .pt file: only %d bytes", path, fileSize(f))
	}
	if string(head) != "PK\x03\x04" && head[0] != 0x80 {
		return fmt.Errorf("read %s: not a .pt file (starts with % x, neither a zip archive nor a pickle)", path, head)
	}
	return nil
}

func fileSize(f *os.File) int64 {
	st, err := f.Stat()
	if err != nil {
		return 0
	}
	return st.Size()
}

// newUnpickler is gopickle's, knowing one more global: libtorch's writer
// tags typed dictionaries with torch.jit._pickle.restore_type_tag, which
// returns the dictionary unchanged.
func newUnpickler(r io.Reader) pickle.Unpickler {
	u := pickle.NewUnpickler(r)
	u.FindClass = func(module, name string) (any, error) {
		if module == "torch.jit._pickle" && name == "restore_type_tag" {
			return restoreTypeTag{}, nil
		}
		return nil, fmt.Errorf("the file names %s.%s, which a state_dict does not hold", module, name)
	}
	return u
}

type restoreTypeTag struct{}

func (restoreTypeTag) Call(args ...any) (any, error) {
	if len(args) == 0 {
		return nil, errors.New("restore_type_tag without arguments")
	}
	return args[0], nil
}

// stateDict turns the unpickled object into named arrays.
func stateDict(obj any) (map[string]npz.Array, error) {
	out := map[string]npz.Array{}
	put := func(k, v any) error {
		name, ok := k.(string)
		if !ok {
			return fmt.Errorf("a key is %T, not a parameter name", k)
		}
		t, ok := v.(*pytorch.Tensor)
		if !ok {
			switch v.(type) {
			case *types.Dict, *types.OrderedDict:
				return fmt.Errorf("%q holds a dictionary, not a tensor: save model.state_dict() itself", name)
			}
			return fmt.Errorf("%q holds a %T, not a tensor", name, v)
		}
		a, err := toArray(t)
		if err != nil {
			return fmt.Errorf("%q: %w", name, err)
		}
		out[name] = a
		return nil
	}
	switch d := obj.(type) {
	case *types.OrderedDict:
		for e := d.List.Front(); e != nil; e = e.Next() {
			entry := e.Value.(*types.OrderedDictEntry)
			if err := put(entry.Key, entry.Value); err != nil {
				return nil, err
			}
		}
	case *types.Dict:
		for _, entry := range *d {
			if err := put(entry.Key, entry.Value); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("holds a %T, not a state_dict (a dictionary of tensors)", obj)
	}
	return out, nil
}

// toArray copies a (possibly strided) tensor out of its storage in C order.
func toArray(t *pytorch.Tensor) (npz.Array, error) {
	var f32 []float32
	var f64 []float64
	var i64 []int64
	var n int
	kind := 'f' // f: float32, d: float64, l: int64
	switch s := t.Source.(type) {
	case *pytorch.FloatStorage:
		f32, n = s.Data, len(s.Data)
	case *pytorch.HalfStorage:
		f32, n = s.Data, len(s.Data)
	case *pytorch.BFloat16Storage:
		f32, n = s.Data, len(s.Data)
	case *pytorch.DoubleStorage:
		f64, n, kind = s.Data, len(s.Data), 'd'
	case *pytorch.LongStorage:
		i64, n, kind = s.Data, len(s.Data), 'l'
	default:
		return npz.Array{}, fmt.Errorf("storage %T is not supported (float32, float64, int64, float16 and bfloat16 are)", t.Source)
	}
	if len(t.Size) != len(t.Stride) {
		return npz.Array{}, fmt.Errorf("%d sizes but %d strides", len(t.Size), len(t.Stride))
	}
	count, last := 1, t.StorageOffset
	for i, d := range t.Size {
		if d < 0 || t.Stride[i] < 0 {
			return npz.Array{}, fmt.Errorf("size %v, stride %v", t.Size, t.Stride)
		}
		count *= d
		if d > 0 {
			last += (d - 1) * t.Stride[i]
		}
	}
	if count > 0 && (t.StorageOffset < 0 || last >= n) {
		return npz.Array{}, fmt.Errorf("size %v, stride %v at offset %d reach past the storage's %d values", t.Size, t.Stride, t.StorageOffset, n)
	}
	index := make([]int, count)
	idx := make([]int, len(t.Size))
	for k := range index {
		at := t.StorageOffset
		for i, j := range idx {
			at += j * t.Stride[i]
		}
		index[k] = at
		for i := len(idx) - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < t.Size[i] {
				break
			}
			idx[i] = 0
		}
	}
	shape := append([]int{}, t.Size...)
	switch kind {
	case 'f':
		v := make([]float32, count)
		for k, at := range index {
			v[k] = f32[at]
		}
		return npz.Array{Shape: shape, F32: v}, nil
	case 'd':
		v := make([]float64, count)
		for k, at := range index {
			v[k] = f64[at]
		}
		return npz.Array{Shape: shape, F64: v}, nil
	default:
		v := make([]int64, count)
		for k, at := range index {
			v[k] = i64[at]
		}
		return npz.Array{Shape: shape, I64: v}, nil
	}
}
