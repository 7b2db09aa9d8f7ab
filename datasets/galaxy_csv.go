package datasets

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// GalaxyAnswers is the number of vote-fraction columns in the Kaggle CSV.
const GalaxyAnswers = 37

// galaxyQuestionSizes is the number of answers of Galaxy Zoo questions 1..11;
// the CSV columns are Class<q>.<a> in this order.
var galaxyQuestionSizes = [...]int{3, 2, 2, 2, 4, 2, 3, 7, 3, 3, 6}

// galaxyColumns is the expected CSV header.
var galaxyColumns = func() []string {
	cols := []string{"GalaxyID"}
	for q, n := range galaxyQuestionSizes {
		for a := 1; a <= n; a++ {
			cols = append(cols, fmt.Sprintf("Class%d.%d", q+1, a))
		}
	}
	return cols
}()

// GalaxyRow is one row of the solutions CSV.
type GalaxyRow struct {
	ID      int64
	Answers [GalaxyAnswers]float32 // Class1.1 .. Class11.6
}

// ReadGalaxyCSV reads a Kaggle Galaxy Zoo solutions file, checking the
// header, the field count, integer unique IDs and fractions in [0,1].
func ReadGalaxyCSV(path string) ([]GalaxyRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readGalaxyCSV(f, path)
}

// readGalaxyCSV is ReadGalaxyCSV on the content of in; path names it in
// errors.
func readGalaxyCSV(in io.Reader, path string) ([]GalaxyRow, error) {
	r := csv.NewReader(bufio.NewReaderSize(in, 1<<16))
	r.FieldsPerRecord = -1 // checked below, with a better message
	r.ReuseRecord = true

	header, err := r.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("read %s: empty file, want header %s,...", path, galaxyColumns[0])
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if err := checkGalaxyHeader(header); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}

	var rows []GalaxyRow
	seen := map[int64]int{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		line, _ := r.FieldPos(0)
		row, err := parseGalaxyRecord(rec)
		if err != nil {
			return nil, fmt.Errorf("read %s: line %d: %w", path, line, err)
		}
		if prev, ok := seen[row.ID]; ok {
			return nil, fmt.Errorf("read %s: line %d: GalaxyID %d already on line %d", path, line, row.ID, prev)
		}
		seen[row.ID] = line
		rows = append(rows, row)
	}
	return rows, nil
}

// checkGalaxyHeader names the first column that differs from the Kaggle one.
func checkGalaxyHeader(header []string) error {
	for i, want := range galaxyColumns {
		if i >= len(header) {
			return fmt.Errorf("header has %d columns; column %d missing, want %q", len(header), i+1, want)
		}
		if got := strings.TrimPrefix(header[i], "\ufeff"); got != want {
			return fmt.Errorf("header column %d is %q, want %q", i+1, got, want)
		}
	}
	if len(header) > len(galaxyColumns) {
		return fmt.Errorf("header has %d columns, want %d (extra column %q)", len(header), len(galaxyColumns), header[len(galaxyColumns)])
	}
	return nil
}

// parseGalaxyRecord parses one data record.
func parseGalaxyRecord(rec []string) (GalaxyRow, error) {
	var row GalaxyRow
	if len(rec) != len(galaxyColumns) {
		return row, fmt.Errorf("%d fields, want %d", len(rec), len(galaxyColumns))
	}
	id, err := strconv.ParseInt(rec[0], 10, 64)
	if err != nil {
		return row, fmt.Errorf("GalaxyID %q is not an integer", rec[0])
	}
	row.ID = id
	for i, s := range rec[1:] {
		v, err := strconv.ParseFloat(s, 32)
		if err != nil || !(v >= 0 && v <= 1) {
			return row, fmt.Errorf("%s = %q is not a number in [0,1]", galaxyColumns[i+1], s)
		}
		row.Answers[i] = float32(v)
	}
	return row, nil
}
