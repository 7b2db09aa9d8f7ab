package metrics

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

type config struct {
	Model  string    `json:"model"`
	Epochs int       `json:"epochs"`
	LR     float64   `json:"lr"`
	Hidden []int     `json:"hidden"`
	Extra  *struct{} `json:"extra,omitempty"`
}

func TestJSONRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	in := config{Model: "mlp", Epochs: 10, LR: 1e-3, Hidden: []int{128, 64}}
	// Writing twice checks that the rename replaces an existing file.
	for range 2 {
		if err := WriteJSON(path, in); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "\n  \"epochs\": 10,\n") || !strings.HasSuffix(string(b), "}\n") {
		t.Errorf("not indented JSON ending in a newline:\n%s", b)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, %v; want 0644", fi.Mode(), err)
	}
	var out config
	if err := ReadJSON(path, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("read %+v, wrote %+v", out, in)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Errorf("directory holds %v (%v), want only config.json", entries, err)
	}
}

func TestJSONErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.json")
	if err := WriteJSON(path, map[string]any{"f": func() {}}); err == nil {
		t.Error("encoding a func succeeded")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("failed write left %s (%v)", path, err)
	}
	if err := WriteJSON(filepath.Join(dir, "missing", "c.json"), 1); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing directory: error %v", err)
	}
	if err := os.WriteFile(path, []byte(`{"epochs": "ten"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var c config
	if err := ReadJSON(path, &c); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("bad field: error %v, want one naming %s", err, path)
	}
	if err := ReadJSON(filepath.Join(dir, "none.json"), &c); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: error %v", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Errorf("directory holds %v (%v), want only c.json: temp files must be removed", entries, err)
	}
}
