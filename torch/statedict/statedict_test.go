package statedict

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sugarme/gotch/ts"

	"torchlab/torch/npz"
	"torchlab/torch/tensors"
	"torchlab/torch/testnet"
	"torchlab/torch/torchrt"
)

func net(t *testing.T, seed int64) map[string]*ts.Tensor {
	t.Helper()
	torchrt.Lock()
	_, named, err := testnet.Seeded(seed)
	if err != nil {
		t.Fatal(err)
	}
	return named
}

func arrays(t *testing.T, model map[string]*ts.Tensor) map[string]npz.Array {
	t.Helper()
	a, err := tensors.ToArrays(model)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestLoadCopiesEveryWeight: weights written from one model and loaded
// into another, differently seeded, make the second equal to the first.
func TestLoadCopiesEveryWeight(t *testing.T) {
	for _, name := range []string{"w.pt", "w.safetensors"} {
		t.Run(name, func(t *testing.T) {
			src, dst := net(t, 1), net(t, 2)
			want := arrays(t, src)
			if reflect.DeepEqual(arrays(t, dst), want) {
				t.Fatal("two seeds made the same weights: the test would prove nothing")
			}
			path := filepath.Join(t.TempDir(), name)
			format, err := FormatOf(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := Write(path, format, want, map[string]string{"config": "{}"}); err != nil {
				t.Fatal(err)
			}
			if err := Load(path, dst); err != nil {
				t.Fatal(err)
			}
			if got := arrays(t, dst); !reflect.DeepEqual(got, want) {
				t.Errorf("loaded weights differ from the written ones")
			}
		})
	}
}

// TestMismatchListsEveryKey: a missing, an unexpected and a mis-shaped key
// are all named in one error, and the model is left as it was.
func TestMismatchListsEveryKey(t *testing.T) {
	src, dst := net(t, 1), net(t, 2)
	before := arrays(t, dst)
	w := arrays(t, src)
	delete(w, "fc.bias")
	w["extra.weight"] = npz.Float32([]float32{1}, 1)
	conv := w["conv.weight"]
	conv.Shape = []int{conv.Shape[0], conv.Shape[1], 1, conv.Shape[2] * conv.Shape[3]}
	w["conv.weight"] = conv
	path := filepath.Join(t.TempDir(), "w.safetensors")
	if err := Write(path, SafeTensors, w, nil); err != nil {
		t.Fatal(err)
	}
	err := Load(path, dst)
	var m *Mismatch
	if !errors.As(err, &m) {
		t.Fatalf("error %v, want a *Mismatch", err)
	}
	if fmt.Sprint(m.Missing) != "[fc.bias]" || fmt.Sprint(m.Unexpected) != "[extra.weight]" ||
		len(m.Misshaped) != 1 || !strings.HasPrefix(m.Misshaped[0], "conv.weight: shape [4 1 1 9] in the file, [4 1 3 3] in the model") {
		t.Errorf("mismatch %+v", m)
	}
	for _, s := range []string{path, `"fc.bias"`, `"extra.weight"`, "conv.weight"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name %s", err, s)
		}
	}
	if !reflect.DeepEqual(arrays(t, dst), before) {
		t.Error("a refused file changed the model")
	}
}

func TestFormatOf(t *testing.T) {
	for path, want := range map[string]string{"a.pt": PT, "b.PTH": PT, "pytorch_model.bin": PT, "m.safetensors": SafeTensors, "m.npz": ""} {
		got, err := FormatOf(path)
		if got != want || (err != nil) != (want == "") {
			t.Errorf("FormatOf(%s) = %q, %v; want %q", path, got, err, want)
		}
	}
}
