package safetensors

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"torchlab/torch/npz"
)

func sample() map[string]npz.Array {
	return map[string]npz.Array{
		"fc.weight": npz.Float32([]float32{1, -2.5, 3, 4e-7, -5, 6}, 2, 3),
		"fc.bias":   npz.Float32([]float32{0.5, -0.25}, 2),
		"bn.count":  npz.Int64([]int64{-7}),
		"scale":     {Shape: []int{1}, F64: []float64{3.141592653589793}},
		"empty":     npz.Float32([]float32{}, 0, 4),
	}
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.safetensors")
	meta := map[string]string{"format": "pt", "config": `{"hidden":128}`}
	if err := Write(path, sample(), meta); err != nil {
		t.Fatal(err)
	}
	got, gotMeta, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotMeta, meta) {
		t.Errorf("metadata %v, want %v", gotMeta, meta)
	}
	want := sample()
	if len(got) != len(want) {
		t.Fatalf("%d tensors, want %d", len(got), len(want))
	}
	for name, w := range want {
		g := got[name]
		if fmt.Sprint(g.Shape) != fmt.Sprint(w.Shape) || !reflect.DeepEqual(g.Floats(), w.Floats()) {
			t.Errorf("%s: got %v %v, want %v %v", name, g.Shape, g.Floats(), w.Shape, w.Floats())
		}
		if (g.I64 != nil) != (w.I64 != nil) || (g.F64 != nil) != (w.F64 != nil) {
			t.Errorf("%s: dtype changed", name)
		}
	}
}

// TestLayout pins the bytes against the specification by hand: header
// length, a JSON header padded to 8 bytes, little-endian data in name order.
func TestLayout(t *testing.T) {
	data, err := Encode(map[string]npz.Array{
		"b": npz.Int64([]int64{2}, 1),
		"a": npz.Float32([]float32{1.5}, 1),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(data)
	if n%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", n)
	}
	js := strings.TrimRight(string(data[8:8+n]), " ")
	want := `{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"I64","shape":[1],"data_offsets":[4,12]}}`
	if js != want {
		t.Errorf("header\n%s\nwant\n%s", js, want)
	}
	body := data[8+n:]
	if len(body) != 12 || binary.LittleEndian.Uint32(body) != 0x3fc00000 || binary.LittleEndian.Uint64(body[4:]) != 2 {
		t.Errorf("data bytes % x", body)
	}
}

// TestBrokenFiles: every cut of a valid file, foreign files and headers
// that lie are errors that name the file.
func TestBrokenFiles(t *testing.T) {
	good, err := Encode(sample(), map[string]string{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(good)
	header := func(js string) []byte {
		b := make([]byte, 8)
		binary.LittleEndian.PutUint64(b, uint64(len(js)))
		return append(b, js...)
	}
	cases := map[string][]byte{
		"empty":            {},
		"npz":              []byte("PK\x03\x04 a zip file, not safetensors"),
		"huge header":      append(binary.LittleEndian.AppendUint64(nil, 1<<40), '{'),
		"not json":         header("{nope"),
		"array header":     header("[1,2]"),
		"unknown dtype":    append(header(`{"x":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}`), 0, 0),
		"negative shape":   header(`{"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}`),
		"range past end":   append(header(`{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`), 0, 0, 0, 0),
		"size mismatch":    append(header(`{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`), 0, 0, 0, 0),
		"overlap":          append(header(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"y":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`), 0, 0, 0, 0),
		"hole":             append(header(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`), 0, 0, 0, 0, 0, 0, 0, 0),
		"extra field":      append(header(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"z":1}}`), 0, 0, 0, 0),
		"header cut":       good[:8+n/2],
		"data cut":         good[:len(good)-3],
		"one byte too few": good[:len(good)-1],
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.safetensors")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, _, err := Read(path)
			if err == nil {
				t.Fatal("read a broken file without error")
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error does not name the file: %v", err)
			}
		})
	}
	// Every prefix of a good file fails cleanly (none panics).
	for cut := 0; cut < len(good); cut++ {
		if _, _, err := Decode(good[:cut]); err == nil {
			t.Fatalf("a file cut to %d of %d bytes decoded", cut, len(good))
		}
	}
}

func TestWriteRefusesBadArrays(t *testing.T) {
	dir := t.TempDir()
	for name, arrays := range map[string]map[string]npz.Array{
		"short data":    {"x": npz.Float32([]float32{1}, 2)},
		"metadata name": {"__metadata__": npz.Float32([]float32{1}, 1)},
	} {
		if err := Write(filepath.Join(dir, "x.safetensors"), arrays, nil); err == nil {
			t.Errorf("%s: written without error", name)
		}
	}
}
