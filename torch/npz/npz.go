// Package npz reads and writes NumPy's .npz archives of float32, float64 and
// int64 arrays: the format torchlab's Go tests and its PyTorch reference
// scripts exchange tensors in. (gotch can read .npz but not write it.)
//
// A malformed entry (negative or absurd dimensions, a shape that does not
// match the data's size, an unknown dtype) is an error naming the file and
// the entry, never a panic.
//
// It is written here rather than taken from a library because the one
// candidate cannot write n-dimensional arrays with their shape:
// docs/decisions.md, "npz by hand".
package npz

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"torchlab/torch/durable"
)

// Array is one n-dimensional array in C order. Exactly one of F32, F64 and
// I64 is set.
type Array struct {
	Shape []int
	F32   []float32
	F64   []float64
	I64   []int64
}

// Float32 makes an array of the given shape; data is used as is.
func Float32(data []float32, shape ...int) Array { return Array{Shape: shape, F32: data} }

// Int64 makes an int64 array of the given shape; data is used as is.
func Int64(data []int64, shape ...int) Array { return Array{Shape: shape, I64: data} }

// Len is the number of elements the shape describes.
func (a Array) Len() int {
	n := 1
	for _, d := range a.Shape {
		n *= d
	}
	return n
}

// Floats returns the values as float64, whatever the stored type.
func (a Array) Floats() []float64 {
	switch {
	case a.F64 != nil:
		return a.F64
	case a.F32 != nil:
		out := make([]float64, len(a.F32))
		for i, v := range a.F32 {
			out[i] = float64(v)
		}
		return out
	default:
		out := make([]float64, len(a.I64))
		for i, v := range a.I64 {
			out[i] = float64(v)
		}
		return out
	}
}

// Check says whether a holds exactly one kind of data, as many values as
// its shape needs.
func (a Array) Check() error {
	_, _, err := a.descr()
	return err
}

func (a Array) descr() (string, int, error) {
	set := 0
	descr, n := "", 0
	if a.F32 != nil {
		set, descr, n = set+1, "<f4", len(a.F32)
	}
	if a.F64 != nil {
		set, descr, n = set+1, "<f8", len(a.F64)
	}
	if a.I64 != nil {
		set, descr, n = set+1, "<i8", len(a.I64)
	}
	if set != 1 {
		return "", 0, fmt.Errorf("array must hold exactly one of F32, F64, I64 (has %d)", set)
	}
	if n != a.Len() {
		return "", 0, fmt.Errorf("shape %v needs %d values, have %d", a.Shape, a.Len(), n)
	}
	return descr, n, nil
}

// Write stores arrays in an uncompressed .npz at path, names in sorted
// order, replacing path atomically and durably (durable.Write).
func Write(path string, arrays map[string]Array) error {
	return durable.Write(path, 0o644, func(w io.Writer) error {
		return Encode(w, path, arrays)
	})
}

// Encode writes arrays as an uncompressed .npz to w, names in sorted order;
// path names the file in errors.
func Encode(out io.Writer, path string, arrays map[string]Array) error {
	zw := zip.NewWriter(out)
	names := make([]string, 0, len(arrays))
	for name := range arrays {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name + ".npy", Method: zip.Store})
		if err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		if err := writeNpy(w, arrays[name]); err != nil {
			return fmt.Errorf("write %s: array %q: %w", path, name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func writeNpy(w io.Writer, a Array) error {
	descr, _, err := a.descr()
	if err != nil {
		return err
	}
	dims := make([]string, len(a.Shape))
	for i, d := range a.Shape {
		dims[i] = strconv.Itoa(d)
	}
	shape := strings.Join(dims, ", ")
	if len(a.Shape) == 1 {
		shape += ","
	}
	header := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, shape)
	// Magic (6) + version (2) + length (2) + header + '\n' is padded to 64.
	pad := 64 - (10+len(header)+1)%64
	header += strings.Repeat(" ", pad%64) + "\n"
	var pre bytes.Buffer
	pre.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&pre, binary.LittleEndian, uint16(len(header)))
	pre.WriteString(header)
	if _, err := w.Write(pre.Bytes()); err != nil {
		return err
	}
	switch {
	case a.F32 != nil:
		return binary.Write(w, binary.LittleEndian, a.F32)
	case a.F64 != nil:
		return binary.Write(w, binary.LittleEndian, a.F64)
	default:
		return binary.Write(w, binary.LittleEndian, a.I64)
	}
}

// Read loads every array of the .npz at path.
func Read(path string) (map[string]Array, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return Decode(f, fi.Size(), path)
}

// maxDeflateRatio bounds how many bytes one compressed byte can stand for
// (deflate's own limit is 1032), so that an entry claiming more than its
// compressed bytes can hold is refused before anything is allocated.
const maxDeflateRatio = 1032

// Decode reads every array of the .npz held by r (size bytes); name names
// it in errors. The sizes an entry claims are checked against the file's
// length before any array is allocated.
func Decode(r io.ReaderAt, size int64, name string) (map[string]Array, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	out := map[string]Array{}
	for _, f := range zr.File {
		entry := strings.TrimSuffix(f.Name, ".npy")
		claimed, packed := f.UncompressedSize64, f.CompressedSize64
		switch {
		case packed > uint64(size):
			return nil, fmt.Errorf("read %s: %s claims %d compressed bytes, the file has %d", name, f.Name, packed, size)
		case f.Method == zip.Store && claimed != packed:
			return nil, fmt.Errorf("read %s: %s is stored uncompressed but claims %d bytes for %d", name, f.Name, claimed, packed)
		case claimed > maxDeflateRatio*packed+1024:
			return nil, fmt.Errorf("read %s: %s claims %d bytes from %d compressed, more than compression can give", name, f.Name, claimed, packed)
		case claimed > math.MaxInt64:
			return nil, fmt.Errorf("read %s: %s claims %d bytes", name, f.Name, claimed)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("read %s: %s: %w", name, f.Name, err)
		}
		a, err := readNpy(rc, int64(claimed))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("read %s: %s: %w", name, f.Name, err)
		}
		out[entry] = a
	}
	return out, nil
}

var (
	descrRe   = regexp.MustCompile(`'descr':\s*'([^']+)'`)
	fortranRe = regexp.MustCompile(`'fortran_order':\s*(True|False)`)
	shapeRe   = regexp.MustCompile(`'shape':\s*\(([^)]*)\)`)
)

// maxHeader bounds the header length a file may declare (NumPy's own
// headers are under a few hundred bytes).
const maxHeader = 1 << 16

// itemSize is the bytes per element of each dtype readNpy takes.
var itemSize = map[string]int64{"<f4": 4, "<f8": 8, "<i8": 8, "<i4": 4, "|b1": 1, "|u1": 1}

// readNpy reads one .npy of size bytes.
func readNpy(r io.Reader, size int64) (Array, error) {
	var pre [10]byte
	if _, err := io.ReadFull(r, pre[:8]); err != nil {
		return Array{}, err
	}
	if string(pre[:6]) != "\x93NUMPY" {
		return Array{}, fmt.Errorf("not a .npy file")
	}
	var hlen int
	switch pre[6] {
	case 1:
		var n uint16
		if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
			return Array{}, err
		}
		hlen = int(n)
	case 2, 3:
		var n uint32
		if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
			return Array{}, err
		}
		hlen = int(n)
	default:
		return Array{}, fmt.Errorf("unsupported .npy version %d", pre[6])
	}
	prefix := int64(10)
	if pre[6] != 1 {
		prefix = 12
	}
	if hlen > maxHeader || int64(hlen) > size-prefix {
		return Array{}, fmt.Errorf("header length %d: longer than the entry (%d bytes) or than %d", hlen, size, maxHeader)
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return Array{}, err
	}
	h := string(hdr)
	d, f, s := descrRe.FindStringSubmatch(h), fortranRe.FindStringSubmatch(h), shapeRe.FindStringSubmatch(h)
	if d == nil || f == nil || s == nil {
		return Array{}, fmt.Errorf("malformed header %q", h)
	}
	if f[1] == "True" {
		return Array{}, fmt.Errorf("fortran-order arrays are not supported")
	}
	item, ok := itemSize[d[1]]
	if !ok {
		return Array{}, fmt.Errorf("unsupported dtype %q", d[1])
	}
	// The data must be exactly the shape's elements, which bounds the
	// allocation below by the entry's size.
	data := size - prefix - int64(hlen)
	a := Array{Shape: []int{}}
	elems := int64(1)
	for _, p := range strings.Split(s[1], ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return Array{}, fmt.Errorf("shape (%s): %w", s[1], err)
		}
		if n < 0 || (n > 0 && elems > math.MaxInt64/item/n) {
			return Array{}, fmt.Errorf("shape (%s): dimension %d is negative or too large", s[1], n)
		}
		elems *= n
		a.Shape = append(a.Shape, int(n))
	}
	if elems*item != data {
		return Array{}, fmt.Errorf("shape (%s) of %s needs %d bytes of data, the entry has %d", s[1], d[1], elems*item, data)
	}
	n := int(elems)
	var err error
	switch d[1] {
	case "<f4":
		a.F32 = make([]float32, n)
		err = binary.Read(r, binary.LittleEndian, a.F32)
	case "<f8":
		a.F64 = make([]float64, n)
		err = binary.Read(r, binary.LittleEndian, a.F64)
	case "<i8":
		a.I64 = make([]int64, n)
		err = binary.Read(r, binary.LittleEndian, a.I64)
	case "<i4":
		v := make([]int32, n)
		err = binary.Read(r, binary.LittleEndian, v)
		a.I64 = make([]int64, n)
		for i, x := range v {
			a.I64[i] = int64(x)
		}
	case "|b1", "|u1":
		v := make([]uint8, n)
		_, err = io.ReadFull(r, v)
		a.I64 = make([]int64, n)
		for i, x := range v {
			a.I64[i] = int64(x)
		}
	default:
		return Array{}, fmt.Errorf("unsupported dtype %q", d[1])
	}
	if err != nil {
		return Array{}, fmt.Errorf("data: %w", err)
	}
	if a.F32 == nil && a.F64 == nil && a.I64 == nil {
		a.F32 = []float32{}
	}
	return a, nil
}

// MaxAbsDiff is the largest |a[i]-b[i]|, or +Inf when the lengths differ.
func MaxAbsDiff(a, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	m := 0.0
	for i := range a {
		if d := math.Abs(a[i] - b[i]); d > m || math.IsNaN(d) {
			m = d
			if math.IsNaN(d) {
				return math.NaN()
			}
		}
	}
	return m
}
