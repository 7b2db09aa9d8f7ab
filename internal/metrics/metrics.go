// Package metrics records training metrics as CSV, one row per
// evaluation, and reads them back for plotting. It also writes and reads
// the small JSON files (run configuration, summaries) kept beside them.
//
// Rows are flushed and synced to disk as they are written, so a run killed
// mid-epoch (or a machine losing power) keeps every row it reported, and a
// resumed run appends to the same file.
package metrics

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"torchlab/torch/durable"
)

// ErrHeader reports a header that is empty, has duplicate columns, or does
// not match the file being appended to.
var ErrHeader = errors.New("metrics: bad header")

// Writer appends rows of metrics to a CSV file.
type Writer struct {
	path string
	f    *os.File
	out  *durable.File // f, its writes counted as durable's are
	csv  *csv.Writer
	cols int
}

// Create opens path for writing rows under header. Without appendMode an
// existing file is replaced. With appendMode (resuming a run) rows are
// added to an existing file whose header must equal header; a last row cut
// short by a crash is dropped first, so that it cannot corrupt the next
// one. A missing or empty file is created either way.
func Create(path string, header []string, appendMode bool) (*Writer, error) {
	if err := checkHeader(header); err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	flag := os.O_RDWR | os.O_CREATE
	if !appendMode {
		flag |= os.O_TRUNC
	}
	f, err := os.OpenFile(path, flag, 0o644)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	out := durable.Wrap(f)
	w := &Writer{path: path, f: f, out: out, csv: csv.NewWriter(out), cols: len(header)}
	needHeader := true
	if appendMode {
		if needHeader, err = w.prepareAppend(header); err != nil {
			return nil, errors.Join(err, f.Close())
		}
	}
	if needHeader {
		if err := w.writeRow(header); err != nil {
			return nil, errors.Join(err, f.Close())
		}
		// The file may be new: its folder entry must reach the disk too.
		if err := durable.SyncDir(filepath.Dir(path)); err != nil {
			return nil, errors.Join(err, f.Close())
		}
	}
	return w, nil
}

// prepareAppend checks the header of the existing file, drops a partial
// last line and moves to the end. It reports whether the file is empty and
// still needs a header.
func (w *Writer) prepareAppend(header []string) (needHeader bool, err error) {
	// Metrics files are small (one row per evaluation), so reading the whole
	// file is simpler than seeking for the last newline.
	data, err := io.ReadAll(w.f)
	if err != nil {
		return false, fmt.Errorf("read %s: %w", w.path, err)
	}
	end := len(data)
	if end > 0 && data[end-1] != '\n' {
		end = bytes.LastIndexByte(data, '\n') + 1
	}
	if len(data) > 0 {
		// Even a header without its newline must match: the file may not
		// be ours, and it is about to be truncated.
		got, err := csv.NewReader(bytes.NewReader(data)).Read()
		if err != nil {
			return false, fmt.Errorf("read header of %s: %w", w.path, err)
		}
		if !slices.Equal(got, header) {
			return false, fmt.Errorf("append to %s: file has columns %q, want %q: %w", w.path, got, header, ErrHeader)
		}
	}
	if end < len(data) {
		if err := w.f.Truncate(int64(end)); err != nil {
			return false, fmt.Errorf("drop partial last row of %s: %w", w.path, err)
		}
	}
	if _, err := w.f.Seek(int64(end), io.SeekStart); err != nil {
		return false, fmt.Errorf("seek %s: %w", w.path, err)
	}
	return end == 0, nil
}

// Write appends one row, one value per column. Floats are written in the
// shortest form that parses back to the same value (so NaN is "NaN");
// other values are formatted with fmt. The row is flushed to the file and
// synced to disk before Write returns.
func (w *Writer) Write(values ...any) error {
	if w.f == nil {
		return fmt.Errorf("write %s: writer is closed", w.path)
	}
	if len(values) != w.cols {
		return fmt.Errorf("write %s: %d values for %d columns", w.path, len(values), w.cols)
	}
	row := make([]string, len(values))
	for i, v := range values {
		row[i] = format(v)
	}
	return w.writeRow(row)
}

// format renders one value of a row.
func format(v any) string {
	switch v := v.(type) {
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(v), 'g', -1, 32)
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return fmt.Sprint(v)
}

// writeRow writes and flushes one record.
func (w *Writer) writeRow(row []string) error {
	if err := w.csv.Write(row); err != nil {
		return fmt.Errorf("write %s: %w", w.path, err)
	}
	w.csv.Flush()
	if err := w.csv.Error(); err != nil {
		return fmt.Errorf("write %s: %w", w.path, err)
	}
	if err := w.out.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", w.path, err)
	}
	return nil
}

// Close closes the file. Closing a closed Writer does nothing.
func (w *Writer) Close() error {
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	if err != nil {
		return fmt.Errorf("close %s: %w", w.path, err)
	}
	return nil
}

// checkHeader rejects headers that Table could not look columns up in.
func checkHeader(header []string) error {
	if len(header) == 0 {
		return fmt.Errorf("no columns: %w", ErrHeader)
	}
	seen := make(map[string]bool, len(header))
	for _, h := range header {
		if h == "" {
			return fmt.Errorf("empty column name: %w", ErrHeader)
		}
		if seen[h] {
			return fmt.Errorf("column %q twice: %w", h, ErrHeader)
		}
		seen[h] = true
	}
	return nil
}
