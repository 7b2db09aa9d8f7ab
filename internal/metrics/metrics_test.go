package metrics

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestWriterRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metrics.csv")
	w, err := Create(path, []string{"epoch", "split", "loss", "acc", "note"}, false)
	if err != nil {
		t.Fatal(err)
	}
	a, b := 0.1, 0.2 // variables: constant 0.1 + 0.2 would be exactly 0.3
	rows := [][]any{
		{1, "train", a + b, float32(0.9), "a, \"quoted\" note"},
		{1, "test", math.NaN(), 1e-12, ""},
		{int64(2), "train", 0.25, 1.0, true},
	}
	for _, r := range rows {
		if err := w.Write(r...); err != nil {
			t.Fatal(err)
		}
	}
	// Each row is on disk before Close: a crash loses nothing.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "epoch,split,loss,acc,note\n" +
		"1,train,0.30000000000000004,0.9,\"a, \"\"quoted\"\" note\"\n" +
		"1,test,NaN,1e-12,\n" +
		"2,train,0.25,1,true\n"
	if string(data) != want {
		t.Errorf("file before Close:\n%s\nwant:\n%s", data, want)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := w.Write(3, "x", 1, 1, ""); err == nil {
		t.Error("Write after Close succeeded")
	}

	tab, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := tab.Float("loss", 0); err != nil || v != a+b {
		t.Errorf("Float(loss, 0) = %v, %v; want exact round trip of 0.1+0.2", v, err)
	}
	if v, err := tab.Float("loss", 1); err != nil || !math.IsNaN(v) {
		t.Errorf("Float(loss, 1) = %v, %v; want NaN", v, err)
	}
	if notes, err := tab.Column("note"); err != nil || notes[0] != `a, "quoted" note` {
		t.Errorf("Column(note) = %q, %v", notes, err)
	}
}

func TestWriteErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		header []string
		want   error
	}{
		{"no columns", nil, ErrHeader},
		{"empty name", []string{"epoch", ""}, ErrHeader},
		{"duplicate", []string{"loss", "loss"}, ErrHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Create(filepath.Join(dir, tt.name+".csv"), tt.header, false)
			if !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
		})
	}
	w, err := Create(filepath.Join(dir, "ok.csv"), []string{"a", "b"}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Write(1); err == nil || !strings.Contains(err.Error(), "1 values for 2 columns") {
		t.Errorf("short row: error %v", err)
	}
	if _, err := Create(filepath.Join(dir, "missing", "m.csv"), []string{"a"}, false); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing directory: error %v", err)
	}
}

func TestAppend(t *testing.T) {
	header := []string{"step", "loss"}
	tests := []struct {
		name     string
		existing *string // nil: no file
		header   []string
		want     string // file after appending "3,0.5"
		wantErr  error
	}{
		{"no file", nil, header, "step,loss\n3,0.5\n", nil},
		{"empty file", ptr(""), header, "step,loss\n3,0.5\n", nil},
		{"resume", ptr("step,loss\n1,0.9\n2,0.7\n"), header, "step,loss\n1,0.9\n2,0.7\n3,0.5\n", nil},
		{"partial last row", ptr("step,loss\n1,0.9\n2,0."), header, "step,loss\n1,0.9\n3,0.5\n", nil},
		{"partial header", ptr("step,lo"), header, "", ErrHeader},
		{"header without newline", ptr("step,loss"), header, "step,loss\n3,0.5\n", nil},
		{"other header", ptr("epoch,loss\n1,0.9\n"), header, "", ErrHeader},
		{"extra column", ptr("step,loss,acc\n"), header, "", ErrHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "m.csv")
			if tt.existing != nil {
				if err := os.WriteFile(path, []byte(*tt.existing), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			w, err := Create(path, tt.header, true)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				// A refused append must leave the file as it was.
				if b, _ := os.ReadFile(path); string(b) != *tt.existing {
					t.Errorf("file changed to %q", b)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(3, 0.5); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(path); string(b) != tt.want {
				t.Errorf("file %q, want %q", b, tt.want)
			}
		})
	}
}

func TestCreateTruncates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.csv")
	if err := os.WriteFile(path, []byte("old,header\n1,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := Create(path, []string{"a"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "a\n" {
		t.Errorf("file %q, want only the new header", b)
	}
}

func ptr(s string) *string { return &s }

// writeFile writes content to a new file in a temporary directory.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "metrics.csv")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    string // substring of the error after the file name
	}{
		{"empty", "", "empty file"},
		{"short row", "a,b\n1,2\n3\n", ":3: 1 fields, header has 2"},
		{"long row", "a,b\n1,2,3\n", ":2: 3 fields, header has 2"},
		{"duplicate column", "a,a\n", ":1: column \"a\" twice"},
		{"bad quote", "a,b\n1,\"x\n", "extraneous or missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.content)
			_, err := Read(path)
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one naming %s and containing %q", err, path, tt.want)
			}
		})
	}
	if _, err := Read(filepath.Join(t.TempDir(), "none.csv")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: error %v", err)
	}
}

const sample = `epoch,split,loss,acc
1,train,0.9,0.7
1,test,0.8,
2,train,0.5,0.85
2,test,0.55,0.83
3,train,oops,0.9
`

func TestSeries(t *testing.T) {
	path := writeFile(t, sample)
	tab, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name           string
		x, y, col, val string
		wantX, wantY   []float64
		wantErr        string
	}{
		{"test loss", "epoch", "loss", "split", "test", []float64{1, 2}, []float64{0.8, 0.55}, ""},
		{"test acc skips empty", "epoch", "acc", "split", "test", []float64{2}, []float64{0.83}, ""},
		{"all acc", "epoch", "acc", "", "", []float64{1, 2, 2, 3}, []float64{0.7, 0.85, 0.83, 0.9}, ""},
		{"no match", "epoch", "loss", "split", "val", nil, nil, ""},
		{"bad number", "epoch", "loss", "split", "train", nil, nil, ":6: column \"loss\": strconv.ParseFloat: parsing \"oops\""},
		{"unknown column", "epoch", "lr", "", "", nil, nil, `no column "lr"`},
		{"unknown filter", "epoch", "loss", "phase", "test", nil, nil, `no column "phase"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, y, err := tab.Series(tt.x, tt.y, tt.col, tt.val)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %v, want one naming %s and containing %q", err, path, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(x, tt.wantX) || !slices.Equal(y, tt.wantY) {
				t.Errorf("Series = %v, %v; want %v, %v", x, y, tt.wantX, tt.wantY)
			}
		})
	}
}

func TestFloat(t *testing.T) {
	path := writeFile(t, sample)
	tab, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		col     string
		row     int
		want    float64
		wantErr string
	}{
		{"loss", 0, 0.9, ""},
		{"acc", 3, 0.83, ""},
		{"acc", 1, 0, `:3: column "acc"`},
		{"loss", 4, 0, `:6: column "loss"`},
		{"loss", 5, 0, "row 5 out of range"},
		{"loss", -1, 0, "row -1 out of range"},
		{"lr", 0, 0, `no column "lr"`},
	}
	for _, tt := range tests {
		got, err := tab.Float(tt.col, tt.row)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Float(%q, %d): error %v, want %q", tt.col, tt.row, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Float(%q, %d) = %v, %v; want %v", tt.col, tt.row, got, err, tt.want)
		}
	}
	col, err := tab.Column("split")
	if err != nil || !slices.Equal(col, []string{"train", "test", "train", "test", "train"}) {
		t.Errorf("Column(split) = %q, %v", col, err)
	}
	if _, err := tab.Column("nope"); err == nil {
		t.Error("Column(nope) succeeded")
	}
}
