// Package safetensors reads and writes the safetensors format (Hugging
// Face's weights file, readable by the Python package `safetensors` and,
// since the layout is plain, by numpy alone): an 8-byte little-endian
// header length N, N bytes of JSON naming each tensor's dtype, shape and
// byte range, then the tensors' bytes, little-endian and in C order. The
// JSON's "__metadata__" object holds free string pairs; torchlab puts a
// run's configuration there.
//
// Tensors are npz.Arrays (float32, float64, int64: the dtypes torchlab's
// models and checkpoints hold). A file with another dtype, a header that
// does not parse, a range outside the file, ranges that overlap or leave
// holes, or a truncated file is an error naming the file, never a panic.
//
// Written in Go from the format's specification rather than taken from a
// module: what torchlab needs (three dtypes, whole-file reads of small
// models) is this file, and the reader's checks are the part that matters.
package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"

	"torchlab/torch/npz"
)

// MaxHeader is the largest header accepted, as in the reference reader:
// a larger length is taken for a foreign file rather than allocated.
const MaxHeader = 100 << 20

const metadataKey = "__metadata__"

// entry is one tensor's line in the header.
type entry struct {
	DType   string   `json:"dtype"`
	Shape   []int    `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

// Write stores tensors with metadata (nil for none) at path, in name
// order.
func Write(path string, tensors map[string]npz.Array, metadata map[string]string) error {
	data, err := Encode(tensors, metadata)
	if err == nil {
		err = os.WriteFile(path, data, 0o644)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Encode is the file Write writes, as bytes.
func Encode(tensors map[string]npz.Array, metadata map[string]string) ([]byte, error) {
	names := make([]string, 0, len(tensors))
	for name := range tensors {
		if name == metadataKey || name == "" {
			return nil, fmt.Errorf("tensor name %q is not allowed", name)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	header := map[string]any{}
	if len(metadata) > 0 {
		header[metadataKey] = metadata
	}
	var body bytes.Buffer
	for _, name := range names {
		a := tensors[name]
		if err := a.Check(); err != nil {
			return nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		begin := int64(body.Len())
		var dtype string
		var err error
		switch {
		case a.F32 != nil:
			dtype, err = "F32", binary.Write(&body, binary.LittleEndian, a.F32)
		case a.F64 != nil:
			dtype, err = "F64", binary.Write(&body, binary.LittleEndian, a.F64)
		default:
			dtype, err = "I64", binary.Write(&body, binary.LittleEndian, a.I64)
		}
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		shape := a.Shape
		if shape == nil {
			shape = []int{}
		}
		header[name] = entry{DType: dtype, Shape: shape, Offsets: [2]int64{begin, int64(body.Len())}}
	}
	js, err := json.Marshal(header)
	if err != nil {
		return nil, err
	}
	// Pad the header with spaces so the data starts 8-byte aligned, as the
	// reference writer does.
	for len(js)%8 != 0 {
		js = append(js, ' ')
	}
	out := make([]byte, 8, 8+len(js)+body.Len())
	binary.LittleEndian.PutUint64(out, uint64(len(js)))
	out = append(out, js...)
	return append(out, body.Bytes()...), nil
}

// Read loads every tensor of the file at path and its metadata (nil when
// it has none).
func Read(path string) (map[string]npz.Array, map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	tensors, meta, err := Decode(data)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: not a readable safetensors file: %w", path, err)
	}
	return tensors, meta, nil
}

type header struct {
	meta    map[string]string
	entries map[string]entry
}

func parseHeader(js []byte) (*header, error) {
	if len(js) == 0 || js[0] != '{' {
		return nil, errors.New("header is not a JSON object")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(js, &raw); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	h := &header{entries: map[string]entry{}}
	for name, msg := range raw {
		if name == metadataKey {
			if err := json.Unmarshal(msg, &h.meta); err != nil {
				return nil, fmt.Errorf("header: %s: %w", metadataKey, err)
			}
			continue
		}
		var e entry
		dec := json.NewDecoder(bytes.NewReader(msg))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("header: tensor %q: %w", name, err)
		}
		h.entries[name] = e
	}
	return h, nil
}

// Decode parses a whole safetensors file held in data.
func Decode(data []byte) (map[string]npz.Array, map[string]string, error) {
	if len(data) < 8 {
		return nil, nil, fmt.Errorf("%d bytes, shorter than the 8-byte header length", len(data))
	}
	n := binary.LittleEndian.Uint64(data)
	if n > MaxHeader || n > uint64(len(data)-8) {
		return nil, nil, fmt.Errorf("header length %d does not fit in the file's %d bytes (truncated, or another format)", n, len(data))
	}
	h, err := parseHeader(data[8 : 8+n])
	if err != nil {
		return nil, nil, err
	}
	body := data[8+n:]
	type span struct {
		name       string
		begin, end int64
	}
	spans := make([]span, 0, len(h.entries))
	out := make(map[string]npz.Array, len(h.entries))
	for name, e := range h.entries {
		a, err := decodeTensor(e, body)
		if err != nil {
			return nil, nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		out[name] = a
		spans = append(spans, span{name, e.Offsets[0], e.Offsets[1]})
	}
	// The byte buffer must be covered exactly: no overlaps, no holes.
	// An empty tensor spans no bytes: it sorts before the tensor that
	// starts where it does, whatever order the header's map gave.
	sort.Slice(spans, func(i, j int) bool {
		if spans[i].begin != spans[j].begin {
			return spans[i].begin < spans[j].begin
		}
		return spans[i].end < spans[j].end
	})
	var at int64
	for _, s := range spans {
		if s.begin != at {
			return nil, nil, fmt.Errorf("tensor %q starts at byte %d of the data, expected %d (overlap or hole)", s.name, s.begin, at)
		}
		at = s.end
	}
	if at != int64(len(body)) {
		return nil, nil, fmt.Errorf("tensors cover %d bytes of the data, the file has %d (truncated or padded)", at, len(body))
	}
	return out, h.meta, nil
}

func decodeTensor(e entry, body []byte) (npz.Array, error) {
	size := map[string]int64{"F32": 4, "F64": 8, "I64": 8}[e.DType]
	if size == 0 {
		return npz.Array{}, fmt.Errorf("dtype %q is not supported (F32, F64 and I64 are)", e.DType)
	}
	count := int64(1)
	for _, d := range e.Shape {
		if d < 0 || (d > 0 && count > math.MaxInt32/int64(d)) {
			return npz.Array{}, fmt.Errorf("shape %v is not a valid shape", e.Shape)
		}
		count *= int64(d)
	}
	begin, end := e.Offsets[0], e.Offsets[1]
	if begin < 0 || end < begin || end > int64(len(body)) {
		return npz.Array{}, fmt.Errorf("byte range [%d, %d) lies outside the data's %d bytes (truncated file?)", begin, end, len(body))
	}
	if end-begin != count*size {
		return npz.Array{}, fmt.Errorf("byte range [%d, %d) holds %d bytes, shape %v of %s needs %d", begin, end, end-begin, e.Shape, e.DType, count*size)
	}
	raw := body[begin:end]
	shape := append([]int{}, e.Shape...)
	switch e.DType {
	case "F32":
		v := make([]float32, count)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		return npz.Float32(v, shape...), nil
	case "F64":
		v := make([]float64, count)
		for i := range v {
			v[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
		}
		return npz.Array{Shape: shape, F64: v}, nil
	default:
		v := make([]int64, count)
		for i := range v {
			v[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
		}
		return npz.Int64(v, shape...), nil
	}
}
