package train

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"os"

	"torchlab/internal/metrics"
	"torchlab/internal/runrec"
	"torchlab/torch/durable"
)

// OpenMetrics opens a run's metrics.csv. A fresh run replaces the file. A
// resumed run keeps the rows up to and including the checkpoint's step
// (column stepColumn) and appends after them: a run killed after writing
// rows but before its next checkpoint wrote rows the resumed run writes
// again, and each must appear once. An older file's header is migrated to
// today's column names first (runrec.MigrateMetricsFile).
func OpenMetrics(path string, header []string, stepColumn string, resume bool, resumeAt int) (*metrics.Writer, error) {
	if !resume {
		return metrics.Create(path, header, false)
	}
	if err := runrec.MigrateMetricsFile(path); err != nil {
		return nil, fmt.Errorf("resume %s: %w", path, err)
	}
	// Create checks the header and drops a row cut short by a crash.
	w, err := metrics.Create(path, header, true)
	if err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	if err := dropRowsAfter(path, stepColumn, resumeAt); err != nil {
		return nil, fmt.Errorf("resume %s: %w", path, err)
	}
	return metrics.Create(path, header, true)
}

// dropRowsAfter rewrites path without the rows whose step is beyond step,
// atomically (durable.WriteFile): a crash leaves the old rows or the kept ones.
func dropRowsAfter(path, stepColumn string, step int) error {
	t, err := metrics.Read(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(t.Header); err != nil {
		return err
	}
	for row, rec := range t.Rows {
		s, err := t.Float(stepColumn, row)
		if err != nil {
			return err
		}
		if int(s) > step {
			continue
		}
		if err := w.Write(rec); err != nil {
			return err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return durable.WriteFile(path, buf.Bytes(), 0o644)
}
