package runrec

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"strings"

	"torchlab/internal/metrics"
	"torchlab/torch/durable"
)

// renamedResults maps result keys of older summaries to today's: the same
// quantity under another name.
var renamedResults = map[string]string{
	"epoch":                       Epochs,           // vgg-mnist: epochs done
	"epoch_seconds":               LastEpochSeconds, // vgg-mnist
	"iterations":                  Steps,            // lstm-tweets: the last iteration, the steps done
	"train_iterations_per_second": StepsPerSecond,   // lstm-tweets
}

// megabyteResults are memory keys of older summaries in megabytes (10^6
// bytes), now in MiB under an rss_mib name.
var megabyteResults = map[string]string{
	"peak_rss_mb":       PeakRSSMiB,
	"rss_mb_first_eval": RSSFirstEval,
	"rss_mb_last_eval":  RSSLastEval,
}

// megabyteEpochPrefix is the prefix of the per-epoch memory of older
// vgg-mnist summaries, in megabytes (RSSAfterEpoch today).
const megabyteEpochPrefix = "rss_mb_epoch_"

// Migrate rewrites the results of a summary written by an older version
// with today's keys (a value already under today's key wins) and units.
// It is the only place that knows the old names.
func Migrate(s *Summary) {
	if s == nil || s.Results == nil {
		return
	}
	r := s.Results
	move := func(old, key string, scale float64) {
		v, ok := r[old]
		if !ok {
			return
		}
		delete(r, old)
		if _, taken := r[key]; !taken {
			r[key] = v * scale
		}
	}
	for old, key := range renamedResults {
		move(old, key, 1)
	}
	const mbToMiB = 1e6 / (1 << 20)
	for old, key := range megabyteResults {
		move(old, key, mbToMiB)
	}
	for old := range r {
		if n, ok := strings.CutPrefix(old, megabyteEpochPrefix); ok {
			move(old, rssAfterEpoch+n, mbToMiB)
		}
	}
}

// renamedColumns maps metrics.csv columns of older runs to today's.
var renamedColumns = map[string]string{
	"iteration": ColStep, // lstm-tweets
}

// MigrateHeader returns a metrics.csv header with today's column names,
// and whether any was renamed.
func MigrateHeader(header []string) ([]string, bool) {
	out := append([]string(nil), header...)
	changed := false
	for i, c := range out {
		if n, ok := renamedColumns[c]; ok {
			out[i], changed = n, true
		}
	}
	return out, changed
}

// ReadMetrics reads a run's metrics.csv with today's column names.
func ReadMetrics(path string) (*metrics.Table, error) {
	t, err := metrics.Read(path)
	if err != nil {
		return nil, err
	}
	t.Header, _ = MigrateHeader(t.Header)
	return t, nil
}

// MigrateMetricsFile renames the old columns in the header of the
// metrics.csv at path, in place and atomically, so that a resumed run
// appends under today's header. The rows are kept byte for byte (a row cut
// short by a crash included: the writer drops it). A missing file or a
// current header is left alone.
func MigrateMetricsFile(path string) error {
	raw, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	first, rest, found := bytes.Cut(raw, []byte("\n"))
	header, err := csv.NewReader(bytes.NewReader(first)).Read()
	if err != nil {
		return fmt.Errorf("%s: header: %w", path, err)
	}
	header, changed := MigrateHeader(header)
	if !changed {
		return nil
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(header); err != nil {
		return err
	}
	w.Flush()
	if !found {
		buf.Truncate(buf.Len() - 1) // the old file had no newline after its header
	}
	buf.Write(rest)
	return durable.WriteFile(path, buf.Bytes(), 0o644)
}
