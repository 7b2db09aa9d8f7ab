package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"torchlab/datasets"
)

// FuzzPredictInput: predict's standard input becomes one text per line,
// each encoded as 1..maxLen ASCII codes, whatever the bytes (invalid UTF-8,
// HTML entities, NULs, CR/LF mixes). Seeds: lines of the bundled sample.
func FuzzPredictInput(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("..", "..", "datasets", "sample", "tweets", "tweetstest.csv"))
	if err != nil {
		f.Fatal(err)
	}
	lines := strings.SplitN(string(b), "\n", 12)
	f.Add([]byte(strings.Join(lines[:11], "\n")))
	f.Add([]byte("caf\xe9 &amp;&#x1F600; \x00\r\n\r\n"))
	f.Add([]byte{})
	const maxLen = 140
	f.Fuzz(func(t *testing.T, data []byte) {
		texts, err := readTexts(bytes.NewReader(data), "standard input")
		if err != nil {
			if !strings.Contains(err.Error(), "standard input") {
				t.Errorf("error does not say what it read: %v", err)
			}
			return
		}
		if lines := bytes.Count(data, []byte("\n")); len(texts) > lines+1 {
			t.Errorf("%d texts from %d newlines", len(texts), lines)
		}
		for i, text := range texts {
			if strings.TrimSpace(text) == "" {
				t.Errorf("text %d is blank: blank lines are skipped", i)
			}
		}
		for i, codes := range datasets.EncodeTexts(texts, maxLen) {
			if len(codes) < 1 || len(codes) > maxLen {
				t.Fatalf("text %d: %d codes", i, len(codes))
			}
			for _, c := range codes {
				if c >= 128 {
					t.Fatalf("text %d: code %d is not ASCII", i, c)
				}
			}
		}
	})
}
