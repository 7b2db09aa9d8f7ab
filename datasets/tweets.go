package datasets

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"html"
	"io"
	"os"
	"strings"
)

// substitute is ASCII SUB, the code every non-ASCII rune becomes.
const substitute = 26

// TweetSet is a labelled tweet file.
type TweetSet struct {
	Texts        []string
	Labels       []int64 // 0 negative, 1 positive
	Skipped      int     // malformed records skipped (skipBad only)
	SkippedLines []int   // line where each skipped record starts
}

// ReadTweets reads a text,label CSV (RFC 4180 quoting, optional header
// "text,label"); a malformed record is an error naming the file and line, or,
// with skipBad, is skipped and counted.
//
// A stray opening quote makes the CSV parser read on to the next quote,
// possibly several lines later; those lines then count as one skipped record,
// which is why the skipped lines are recorded for inspection.
func ReadTweets(path string, skipBad bool) (*TweetSet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readTweets(f, path, skipBad)
}

// readTweets is ReadTweets on the content of in; path names it in errors.
func readTweets(in io.Reader, path string, skipBad bool) (*TweetSet, error) {
	r := csv.NewReader(bufio.NewReaderSize(in, 1<<16))
	// Field counts are checked below, so the message can name the line and
	// say what was expected; strict quotes catch broken rows.
	r.FieldsPerRecord = -1
	r.LazyQuotes = false
	r.ReuseRecord = false

	set := &TweetSet{}
	for first := true; ; first = false {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			// The reader has consumed the bad record's lines and can go on.
			if !skipBad {
				return nil, fmt.Errorf("read %s: line %d: %w", path, pe.StartLine, pe.Err)
			}
			set.Skipped++
			set.SkippedLines = append(set.SkippedLines, pe.StartLine)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		line, _ := r.FieldPos(0)
		if first && isTweetHeader(rec) {
			continue
		}
		label, err := parseTweetRecord(rec)
		if err != nil {
			if !skipBad {
				return nil, fmt.Errorf("read %s: line %d: %w", path, line, err)
			}
			set.Skipped++
			set.SkippedLines = append(set.SkippedLines, line)
			continue
		}
		set.Texts = append(set.Texts, rec[0])
		set.Labels = append(set.Labels, label)
	}
	return set, nil
}

// isTweetHeader reports whether the first record is the text,label header.
// A UTF-8 byte-order mark is ignored, as spreadsheet exports add one.
func isTweetHeader(rec []string) bool {
	return len(rec) == 2 &&
		strings.EqualFold(strings.TrimSpace(strings.TrimPrefix(rec[0], "\ufeff")), "text") &&
		strings.EqualFold(strings.TrimSpace(rec[1]), "label")
}

// parseTweetRecord checks one data record and returns its label.
func parseTweetRecord(rec []string) (int64, error) {
	if len(rec) != 2 {
		return 0, fmt.Errorf("%d fields, want 2 (text,label; quote a text that holds a comma)", len(rec))
	}
	switch l := strings.TrimSpace(rec[1]); l {
	case "0":
		return 0, nil
	case "1":
		return 1, nil
	default:
		return 0, fmt.Errorf("label %q is not 0 or 1", l)
	}
}

// EncodeText maps a text to ASCII codes: HTML entities unescaped, each rune
// outside 0..127 (and each invalid UTF-8 byte) to 26 (SUB), and an empty
// result to a single space (see the package doc).
func EncodeText(text string) []uint8 {
	s := html.UnescapeString(text)
	codes := make([]uint8, 0, len(s))
	for _, r := range s {
		if r < 128 {
			codes = append(codes, uint8(r))
		} else {
			codes = append(codes, substitute)
		}
	}
	if len(codes) == 0 {
		codes = append(codes, ' ')
	}
	return codes
}

// EncodeTexts encodes each text with EncodeText and keeps at most the first
// maxLen codes (maxLen <= 0 means no limit).
func EncodeTexts(texts []string, maxLen int) [][]uint8 {
	out := make([][]uint8, len(texts))
	for i, t := range texts {
		c := EncodeText(t)
		if maxLen > 0 && len(c) > maxLen {
			c = c[:maxLen:maxLen]
		}
		out[i] = c
	}
	return out
}
