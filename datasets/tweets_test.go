package datasets

import (
	"bytes"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestReadTweets(t *testing.T) {
	tests := []struct {
		name        string
		csv         string
		skipBad     bool
		wantTexts   []string
		wantLabels  []int64
		wantSkipped []int  // lines of skipped records
		wantErr     string // "" means success; always also names the file
	}{
		{
			name:       "header",
			csv:        "text,label\nhello,1\nbye,0\n",
			wantTexts:  []string{"hello", "bye"},
			wantLabels: []int64{1, 0},
		},
		{
			name:       "no header",
			csv:        "hello,1\nbye,0",
			wantTexts:  []string{"hello", "bye"},
			wantLabels: []int64{1, 0},
		},
		{
			name:       "header case and spaces, BOM",
			csv:        "\ufeff Text , LABEL \nhi,0\n",
			wantTexts:  []string{"hi"},
			wantLabels: []int64{0},
		},
		{
			name:       "quoted comma and quotes, spaces kept",
			csv:        "text,label\n\"hello, world\",1\n\"she said \"\"hi\"\"\",0\n  padded  , 1 \n",
			wantTexts:  []string{"hello, world", `she said "hi"`, "  padded  "},
			wantLabels: []int64{1, 0, 1},
		},
		{
			name:       "empty text",
			csv:        ",0\n",
			wantTexts:  []string{""},
			wantLabels: []int64{0},
		},
		{
			// The quoted newline makes the record span lines 2-3, so the
			// bad row is on line 5, not 4.
			name:    "embedded newline keeps line numbers",
			csv:     "text,label\n\"line one\nline two\",1\nnext,0\nbad,2\n",
			wantErr: "line 5: label \"2\"",
		},
		{
			name:    "bad label",
			csv:     "text,label\nok,1\nnot ok,yes\n",
			wantErr: "line 3: label \"yes\" is not 0 or 1",
		},
		{
			name:    "unquoted comma",
			csv:     "text,label\nhello, world,1\n",
			wantErr: "line 2: 3 fields, want 2",
		},
		{
			name:    "one column",
			csv:     "text,label\nhello\n",
			wantErr: "line 2: 1 fields, want 2",
		},
		{
			name:    "bare quote",
			csv:     "text,label\nok,1\nsay \"hi\",0\n",
			wantErr: "line 3: bare \"",
		},
		{
			// Each kind of bad record is skipped, and the reader goes on
			// with the rows after a quote error.
			name:        "skip bad",
			csv:         "text,label\nok,1\nsay \"hi\",0\n\"a\"b,1\n\"multi\nline\",1\nx,y,1\nbad,3\nlast,0\n",
			skipBad:     true,
			wantTexts:   []string{"ok", "multi\nline", "last"},
			wantLabels:  []int64{1, 1, 0},
			wantSkipped: []int{3, 4, 7, 8},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "tweets.csv", []byte(tt.csv))
			got, err := ReadTweets(path, tt.skipBad)
			if wantFileError(t, err, path, tt.wantErr) {
				return
			}
			if !slices.Equal(got.Texts, tt.wantTexts) || !slices.Equal(got.Labels, tt.wantLabels) {
				t.Errorf("got %q %v, want %q %v", got.Texts, got.Labels, tt.wantTexts, tt.wantLabels)
			}
			if got.Skipped != len(tt.wantSkipped) || !slices.Equal(got.SkippedLines, tt.wantSkipped) {
				t.Errorf("skipped %d at lines %v, want lines %v", got.Skipped, got.SkippedLines, tt.wantSkipped)
			}
		})
	}
	if _, err := ReadTweets(filepath.Join(t.TempDir(), "absent.csv"), true); err == nil {
		t.Error("missing file: no error")
	}
}

func TestEncodeText(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []uint8
	}{
		{"ascii", "Hi 5!", []uint8("Hi 5!")},
		{"control kept", "a\tb", []uint8{'a', 9, 'b'}},
		{"accent", "café", []uint8{'c', 'a', 'f', 26}},
		{"emoji is one step", "a😀b", []uint8{'a', 26, 'b'}},
		{"invalid utf-8 byte", "a\xffb", []uint8{'a', 26, 'b'}},
		{"mojibake", "ï¿½", []uint8{26, 26, 26}},
		{"entities", "&quot;A &amp; B&quot; &lt;3", []uint8(`"A & B" <3`)},
		{"entity to non-ascii", "&eacute;", []uint8{26}},
		{"unescaped once", "&amp;amp;", []uint8("&amp;")},
		{"empty", "", []uint8{' '}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EncodeText(tt.in); !bytes.Equal(got, tt.want) {
				t.Errorf("EncodeText(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestEncodeTexts(t *testing.T) {
	texts := []string{"hello", "", "héllo wörld"}
	tests := []struct {
		maxLen int
		want   [][]uint8
	}{
		{0, [][]uint8{[]uint8("hello"), {' '}, []uint8("h\x1allo w\x1arld")}},
		{-1, [][]uint8{[]uint8("hello"), {' '}, []uint8("h\x1allo w\x1arld")}},
		{3, [][]uint8{[]uint8("hel"), {' '}, []uint8("h\x1al")}},
	}
	for _, tt := range tests {
		got := EncodeTexts(texts, tt.maxLen)
		if !slices.EqualFunc(got, tt.want, bytes.Equal) {
			t.Errorf("maxLen %d: got %q, want %q", tt.maxLen, got, tt.want)
		}
	}
}

// TestReadTweetsFull checks the full files against the counts of their
// SOURCES.md.
func TestReadTweetsFull(t *testing.T) {
	dir := fullDataSet(t, "tweets")
	tests := []struct {
		file         string
		rows, pos    int
		maxLenCodes  int
		wantNonASCII bool
	}{
		{"tweetstrain.csv", 89413, 44843, 359, true},
		{"tweetstest.csv", 9934, 4982, 359, true},
	}
	for _, tt := range tests {
		start := time.Now()
		set, err := ReadTweets(filepath.Join(dir, tt.file), false)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d rows in %v", tt.file, len(set.Texts), time.Since(start))
		pos := 0
		for _, l := range set.Labels {
			pos += int(l)
		}
		if len(set.Texts) != tt.rows || pos != tt.pos || set.Skipped != 0 {
			t.Errorf("%s: %d rows, %d positive, %d skipped; want %d, %d, 0",
				tt.file, len(set.Texts), pos, set.Skipped, tt.rows, tt.pos)
		}
		longest, subs := 0, 0
		for _, codes := range EncodeTexts(set.Texts, 0) {
			longest = max(longest, len(codes))
			for _, c := range codes {
				if c > 127 {
					t.Fatalf("%s: code %d is not ASCII", tt.file, c)
				}
				if c == 26 {
					subs++
				}
			}
		}
		t.Logf("%s: longest encoded text %d, %d substituted runes", tt.file, longest, subs)
		if longest > tt.maxLenCodes {
			t.Errorf("%s: longest encoded text %d, want <= %d (unescaping only shortens)", tt.file, longest, tt.maxLenCodes)
		}
		if (subs > 0) != tt.wantNonASCII {
			t.Errorf("%s: %d substituted runes", tt.file, subs)
		}
	}
}

// TestReadTweetsReal checks the files the commands would read (full data or
// the bundled sample) for properties any such file has.
func TestReadTweetsReal(t *testing.T) {
	dir := dataSet(t, "tweets").Dir
	for _, f := range []string{"tweetstrain.csv", "tweetstest.csv"} {
		set, err := ReadTweets(filepath.Join(dir, f), false)
		if err != nil {
			t.Fatal(err)
		}
		var labels [2]int
		for _, l := range set.Labels {
			labels[l]++
		}
		if labels[0] == 0 || labels[1] == 0 || set.Skipped != 0 {
			t.Errorf("%s: labels %v, %d skipped; want both labels, none skipped", f, labels, set.Skipped)
		}
		for i, codes := range EncodeTexts(set.Texts, 0) {
			if len(codes) == 0 || slices.Max(codes) > 127 {
				t.Fatalf("%s: record %d encodes to %v", f, i+1, codes)
			}
		}
	}
}
