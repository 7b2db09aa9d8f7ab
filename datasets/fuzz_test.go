package datasets

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sampleFile reads a file of the bundled sample, cut to its first lines
// (whole file when lines is 0), as a fuzz seed.
func sampleFile(f *testing.F, rel string, lines int) []byte {
	f.Helper()
	b, err := os.ReadFile(filepath.Join("sample", rel))
	if err != nil {
		f.Fatal(err)
	}
	if lines > 0 {
		var out bytes.Buffer
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<20)
		for i := 0; i < lines && sc.Scan(); i++ {
			out.Write(sc.Bytes())
			out.WriteByte('\n')
		}
		b = out.Bytes()
	}
	return b
}

// idx builds an IDX file: magic, dims, then payload.
func idx(magic uint32, dims []uint32, payload []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, magic)
	binary.Write(&b, binary.BigEndian, dims)
	b.Write(payload)
	return b.Bytes()
}

// FuzzIDXImages: an IDX3 file gives images whose pixels the header counts
// exactly, or an error; a header claiming more than the file holds is an
// error, not an allocation.
func FuzzIDXImages(f *testing.F) {
	f.Add(idx(idxImagesMagic, []uint32{2, 3, 3}, bytes.Repeat([]byte{7}, 18)))
	f.Add(idx(idxImagesMagic, []uint32{1 << 30, 1 << 15, 1 << 15}, nil))
	f.Add(idx(idxLabelsMagic, []uint32{2}, []byte{1, 2}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		imgs, err := parseIDXImages(data, "fuzz-idx3")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz-idx3") {
				t.Errorf("error does not name the file: %v", err)
			}
			return
		}
		if len(imgs.Pixels) != imgs.N*imgs.Rows*imgs.Cols {
			t.Errorf("%d pixels for %d images of %dx%d", len(imgs.Pixels), imgs.N, imgs.Rows, imgs.Cols)
		}
	})
}

// FuzzIDXLabels: labels are digits and as many as the header says, or an
// error; gzip input goes through the same path as on disk.
func FuzzIDXLabels(f *testing.F) {
	plain := idx(idxLabelsMagic, []uint32{3}, []byte{0, 9, 4})
	f.Add(plain)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(plain)
	zw.Close()
	f.Add(gz.Bytes())
	f.Add(idx(idxLabelsMagic, []uint32{4}, []byte{0, 10}))
	// Gzip bombs: 3 labels promised, 1 MiB of zeros after them; and
	// 4294967295 labels promised by a file of a few dozen bytes.
	f.Add(gzipBomb(f, idx(idxLabelsMagic, []uint32{3}, []byte{0, 9, 4}), 1<<20))
	f.Add(gzipBomb(f, idx(idxLabelsMagic, []uint32{1<<32 - 1}, nil), 16))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "labels")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		labels, err := ReadIDXLabels(path)
		if err != nil {
			return
		}
		for i, l := range labels {
			if l > 9 {
				t.Fatalf("label %d at %d", l, i)
			}
		}
	})
}

// FuzzTweets: every record kept has a 0/1 label, texts and labels pair up,
// and a bad record is an error naming the file (or, skipped, counted).
func FuzzTweets(f *testing.F) {
	f.Add(sampleFile(f, "tweets/tweetstest.csv", 20))
	f.Add([]byte("text,label\n\"unclosed,1\nfine,0\n"))
	f.Add([]byte("\ufefftext,label\na,b,c\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, skip := range []bool{false, true} {
			set, err := readTweets(bytes.NewReader(data), "fuzz.csv", skip)
			if err != nil {
				if skip || !strings.Contains(err.Error(), "fuzz.csv") {
					t.Errorf("skipBad %v: %v", skip, err)
				}
				continue
			}
			if len(set.Texts) != len(set.Labels) || len(set.SkippedLines) != set.Skipped {
				t.Errorf("%d texts, %d labels, %d skipped with %d lines", len(set.Texts), len(set.Labels), set.Skipped, len(set.SkippedLines))
			}
			for _, l := range set.Labels {
				if l != 0 && l != 1 {
					t.Errorf("label %d", l)
				}
			}
		}
	})
}

// FuzzGalaxyCSV: rows have fractions in [0,1] and unique IDs, or an error
// naming the file.
func FuzzGalaxyCSV(f *testing.F) {
	f.Add(sampleFile(f, "galaxyzoo/training_solutions_rev1.csv", 5))
	f.Add(sampleFile(f, "galaxyzoo/training_solutions_rev1.csv", 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := readGalaxyCSV(bytes.NewReader(data), "fuzz.csv")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.csv") {
				t.Errorf("error does not name the file: %v", err)
			}
			return
		}
		seen := map[int64]bool{}
		for _, r := range rows {
			if seen[r.ID] {
				t.Errorf("ID %d twice", r.ID)
			}
			seen[r.ID] = true
			for _, v := range r.Answers {
				if !(v >= 0 && v <= 1) {
					t.Errorf("ID %d: fraction %v", r.ID, v)
				}
			}
		}
	})
}

// FuzzGalaxyImage: a JPEG decodes, crops and resizes into values in [0,1],
// or gives an error; a header claiming a huge image is refused before the
// decoder allocates it.
func FuzzGalaxyImage(f *testing.F) {
	entries, err := os.ReadDir(filepath.Join("sample", "galaxyzoo", "images_training_rev1"))
	if err != nil || len(entries) == 0 {
		f.Fatalf("sample galaxy images: %v", err)
	}
	jpg := sampleFile(f, filepath.Join("galaxyzoo", "images_training_rev1", entries[0].Name()), 0)
	f.Add(jpg)
	f.Add(jpg[:len(jpg)/2])
	// The same JPEG with its frame header claiming 65535x65535.
	if i := bytes.Index(jpg, []byte{0xff, 0xc0}); i >= 0 && i+9 <= len(jpg) {
		huge := bytes.Clone(jpg)
		copy(huge[i+5:], []byte{0xff, 0xff, 0xff, 0xff})
		f.Add(huge)
	}
	const crop, size = 16, 8
	f.Fuzz(func(t *testing.T, data []byte) {
		p := newGalaxyPrep(crop, size)
		// Small images keep the fuzzer fast; the size check is the same.
		p.maxPixels = 512 * 512
		dst := make([]float32, 3*size*size)
		if err := p.decode(dst, bytes.NewReader(data), "fuzz.jpg"); err != nil {
			return
		}
		for i, v := range dst {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("value %v at %d", v, i)
			}
		}
	})
}
