package metrics

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
)

// Table is a metrics CSV file read into memory.
type Table struct {
	Header []string
	Rows   [][]string

	path  string
	lines []int // file line of each row, for error messages
}

// Read reads the CSV file at path. Every row must have as many fields as
// the header; the error for one that does not names the file and line.
func Read(path string) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	// Field counts are checked here rather than by csv so that the error
	// can say which file and what was expected.
	r.FieldsPerRecord = -1
	t := &Table{path: path}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		line, _ := r.FieldPos(0)
		if t.Header == nil {
			if err := checkHeader(rec); err != nil {
				return nil, fmt.Errorf("%s:%d: %w", path, line, err)
			}
			t.Header = rec
			continue
		}
		if len(rec) != len(t.Header) {
			return nil, fmt.Errorf("%s:%d: %d fields, header has %d", path, line, len(rec), len(t.Header))
		}
		t.Rows = append(t.Rows, rec)
		t.lines = append(t.lines, line)
	}
	if t.Header == nil {
		return nil, fmt.Errorf("read %s: empty file: %w", path, ErrHeader)
	}
	return t, nil
}

// index returns the position of column col.
func (t *Table) index(col string) (int, error) {
	for i, h := range t.Header {
		if h == col {
			return i, nil
		}
	}
	return 0, fmt.Errorf("%s: no column %q (have %q)", t.path, col, t.Header)
}

// Column returns the values of column col, one per row.
func (t *Table) Column(col string) ([]string, error) {
	i, err := t.index(col)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(t.Rows))
	for r, row := range t.Rows {
		out[r] = row[i]
	}
	return out, nil
}

// Float parses the value of column col in row (counted from 0, after the
// header).
func (t *Table) Float(col string, row int) (float64, error) {
	i, err := t.index(col)
	if err != nil {
		return 0, err
	}
	if row < 0 || row >= len(t.Rows) {
		return 0, fmt.Errorf("%s: row %d out of range [0, %d)", t.path, row, len(t.Rows))
	}
	return t.parse(row, i)
}

// parse parses the field at row, column i.
func (t *Table) parse(row, i int) (float64, error) {
	v, err := strconv.ParseFloat(t.Rows[row][i], 64)
	if err != nil {
		return 0, fmt.Errorf("%s:%d: column %q: %w", t.path, t.line(row), t.Header[i], err)
	}
	return v, nil
}

// line returns the file line of row; tables built by hand have none.
func (t *Table) line(row int) int {
	if row < len(t.lines) {
		return t.lines[row]
	}
	return 0
}

// Series returns columns xCol and yCol as numbers, for plotting y against
// x. If filterCol is not empty, only rows whose filterCol equals
// filterValue are used, e.g. Series("epoch", "loss", "split", "test").
// Rows where x or y is empty are skipped, so that a metric logged only
// every few rows can still be plotted.
func (t *Table) Series(xCol, yCol, filterCol, filterValue string) (x, y []float64, err error) {
	xi, err := t.index(xCol)
	if err != nil {
		return nil, nil, err
	}
	yi, err := t.index(yCol)
	if err != nil {
		return nil, nil, err
	}
	fi := -1
	if filterCol != "" {
		if fi, err = t.index(filterCol); err != nil {
			return nil, nil, err
		}
	}
	for r, row := range t.Rows {
		if fi >= 0 && row[fi] != filterValue {
			continue
		}
		if row[xi] == "" || row[yi] == "" {
			continue
		}
		xv, err := t.parse(r, xi)
		if err != nil {
			return nil, nil, err
		}
		yv, err := t.parse(r, yi)
		if err != nil {
			return nil, nil, err
		}
		x = append(x, xv)
		y = append(y, yv)
	}
	return x, y, nil
}
