package datasets

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// idxFile builds an IDX file: big-endian magic and dims, then the payload.
func idxFile(magic uint32, dims []uint32, payload []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, payload...)
}

func gzipped(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadIDXImages(t *testing.T) {
	pixels := []byte{0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255} // 2 images 3x2
	good := idxFile(2051, []uint32{2, 3, 2}, pixels)
	gz := gzipped(t, good)
	tests := []struct {
		name    string
		file    string
		data    []byte
		wantErr string // "" means success
	}{
		{"raw", "images", good, ""},
		{"gzip", "images.gz", gz, ""},
		// The content decides, not the name.
		{"gzip without suffix", "images", gz, ""},
		{"raw with gz suffix", "images.gz", good, ""},
		{"truncated", "images", good[:len(good)-2], "header says 2 images of 3x2 = 12 bytes, got 10"},
		{"truncated gzip", "images.gz", gz[:len(gz)-10], "unexpected EOF"},
		{"trailing garbage", "images", append(slices.Clone(good), 9, 9, 9), "3 bytes of trailing data"},
		{"wrong magic", "images", idxFile(2049, []uint32{2, 3, 2}, pixels), "magic 2049, want 2051"},
		{"short header", "images", good[:10], "too short"},
		{"empty dims", "images", idxFile(2051, []uint32{2, 0, 2}, nil), "empty"},
		{"huge count", "images", idxFile(2051, []uint32{1 << 31, 28, 28}, nil), "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), tt.file, tt.data)
			got, err := ReadIDXImages(path)
			if wantFileError(t, err, path, tt.wantErr) {
				return
			}
			if got.N != 2 || got.Rows != 3 || got.Cols != 2 || !bytes.Equal(got.Pixels, pixels) {
				t.Errorf("got %d x %dx%d %v, want 2 x 3x2 %v", got.N, got.Rows, got.Cols, got.Pixels, pixels)
			}
		})
	}
}

func TestReadIDXLabels(t *testing.T) {
	labels := []byte{7, 0, 9, 3}
	good := idxFile(2049, []uint32{4}, labels)
	tests := []struct {
		name    string
		file    string
		data    []byte
		wantErr string
	}{
		{"raw", "labels", good, ""},
		{"gzip", "labels.gz", gzipped(t, good), ""},
		{"bad label", "labels", idxFile(2049, []uint32{4}, []byte{7, 0, 10, 3}), "label 10 at index 2"},
		{"wrong magic", "labels", idxFile(2051, []uint32{4}, labels), "magic 2051, want 2049"},
		{"truncated", "labels", good[:len(good)-1], "4 labels = 4 bytes, got 3"},
		{"trailing garbage", "labels", append(slices.Clone(good), 1), "1 bytes of trailing data"},
		{"short header", "labels", good[:5], "too short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), tt.file, tt.data)
			got, err := ReadIDXLabels(path)
			if wantFileError(t, err, path, tt.wantErr) {
				return
			}
			if !bytes.Equal(got, labels) {
				t.Errorf("got %v, want %v", got, labels)
			}
		})
	}
}

// gzipBomb is a gzip file that starts with head and expands to extra bytes
// of zeros after it.
func gzipBomb(t testing.TB, head []byte, extra int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	_, err = zw.Write(head)
	for left := extra; err == nil && left > 0; left -= len(zeros) {
		_, err = zw.Write(zeros[:min(left, len(zeros))])
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestIDXGzipBombs: a small gzip file whose header promises far more than
// the file can expand to, or that expands to far more than its header
// promises, is an error naming the file, and reading it allocates a small
// fraction of the header's claim or of the expansion (measured as the
// bytes the Go heap handed out during the read).
func TestIDXGzipBombs(t *testing.T) {
	const expands = 512 << 20 // zeros after the header
	tests := []struct {
		name    string
		read    func(string) error
		data    []byte
		wantErr string
	}{
		{"images: header claims 1.9 GiB, file holds 12 bytes", func(p string) error { _, err := ReadIDXImages(p); return err },
			gzipped(t, idxFile(2051, []uint32{2600, 28 << 10, 28}, make([]byte, 12))), "more than a gzip file of"},
		{"labels: header claims 4e9 labels, file holds 4", func(p string) error { _, err := ReadIDXLabels(p); return err },
			gzipped(t, idxFile(2049, []uint32{math.MaxUint32}, []byte{1, 2, 3, 4})), "more than a gzip file of"},
		{"images: 2 images of 3x2, expanding to 512 MiB", func(p string) error { _, err := ReadIDXImages(p); return err },
			gzipBomb(t, idxFile(2051, []uint32{2, 3, 2}, nil), expands), "trailing data after 2 images of 3x2"},
		{"labels: 4 labels, expanding to 512 MiB", func(p string) error { _, err := ReadIDXLabels(p); return err },
			gzipBomb(t, idxFile(2049, []uint32{4}, nil), expands), "trailing data after 4 labels"},
		{"labels: header claims 1 MiB within the gzip bound, stream ends early",
			func(p string) error { _, err := ReadIDXLabels(p); return err },
			gzipBomb(t, idxFile(2049, []uint32{1<<20 + 1}, nil), 1<<20), "truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "bomb.gz", tt.data)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err := tt.read(path)
			runtime.ReadMemStats(&after)
			wantFileError(t, err, path, tt.wantErr)
			allocated := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d-byte file: %v; %d KiB allocated", len(tt.data), err, allocated>>10)
			if allocated > 8<<20 {
				t.Errorf("reading allocated %d MiB, want under 8 MiB", allocated>>20)
			}
		})
	}
}

func TestLoadMNIST(t *testing.T) {
	// Two 2x2 images: a ramp and a white square, resized to 4x4.
	pixels := []byte{0, 51, 102, 255, 255, 255, 255, 255}
	images := idxFile(2051, []uint32{2, 2, 2}, pixels)
	labels := idxFile(2049, []uint32{2}, []byte{4, 8})

	ramp := ResizeBilinear([]float32{0, 51.0 / 255, 102.0 / 255, 1}, 2, 2, 4, 4)
	wantImages := make([]float32, 0, 32)
	for _, v := range ramp {
		wantImages = append(wantImages, (v-0.1307)/0.3081)
	}
	for range 16 {
		wantImages = append(wantImages, (1-0.1307)/0.3081)
	}

	tests := []struct {
		name    string
		files   map[string][]byte
		train   bool
		wantErr string
	}{
		{"train gz and raw", map[string][]byte{
			"train-images-idx3-ubyte.gz": gzipped(t, images),
			"train-labels-idx1-ubyte":    labels,
		}, true, ""},
		{"test split", map[string][]byte{
			"t10k-images-idx3-ubyte": images,
			"t10k-labels-idx1-ubyte": labels,
		}, false, ""},
		{"count mismatch", map[string][]byte{
			"train-images-idx3-ubyte": images,
			"train-labels-idx1-ubyte": idxFile(2049, []uint32{3}, []byte{1, 2, 3}),
		}, true, "2 images but"},
		{"missing labels", map[string][]byte{
			"train-images-idx3-ubyte": images,
		}, true, "train-labels-idx1-ubyte"},
		{"wrong split", map[string][]byte{
			"train-images-idx3-ubyte": images,
			"train-labels-idx1-ubyte": labels,
		}, false, "t10k-images-idx3-ubyte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, data := range tt.files {
				writeFile(t, dir, name, data)
			}
			m, err := LoadMNIST(dir, tt.train, 4)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.N != 2 || m.Size != 4 || !slices.Equal(m.Labels, []int64{4, 8}) {
				t.Errorf("got N %d size %d labels %v", m.N, m.Size, m.Labels)
			}
			checkPlane(t, m.Images, wantImages, 1e-6)
		})
	}
	if _, err := LoadMNIST(t.TempDir(), true, 0); err == nil {
		t.Error("size 0: no error")
	}
}

func TestLoadMNISTReal(t *testing.T) {
	dir := dataSet(t, "mnist").Dir
	// Class counts from the data's SOURCES.md.
	tests := []struct {
		train  bool
		counts [10]int
	}{
		{false, [10]int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}},
		{true, [10]int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}},
	}
	for _, tt := range tests {
		start := time.Now()
		m, err := LoadMNIST(dir, tt.train, 32)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("train=%v: %d images at 32x32 in %v", tt.train, m.N, time.Since(start))
		var counts [10]int
		for _, l := range m.Labels {
			counts[l]++
		}
		if counts != tt.counts {
			t.Errorf("train=%v: class counts %v, want %v", tt.train, counts, tt.counts)
		}
		// Normalised black is (0-mean)/std and white (1-mean)/std; bilinear
		// interpolation cannot leave that range.
		lo, hi := float32(-0.1307/0.3081), float32((1-0.1307)/0.3081)
		var sum float64
		for _, v := range m.Images {
			if v < lo-1e-5 || v > hi+1e-5 || math.IsNaN(float64(v)) {
				t.Fatalf("value %v outside [%v, %v]", v, lo, hi)
			}
			sum += float64(v)
		}
		// After normalisation the mean is near 0 (not exactly: the
		// constants were measured at 28x28).
		if avg := sum / float64(len(m.Images)); math.Abs(avg) > 0.1 {
			t.Errorf("train=%v: mean %v, want about 0", tt.train, avg)
		}
	}
}
