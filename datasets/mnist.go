package datasets

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

// IDX magic numbers: 0x0000 then the type code 0x08 (unsigned byte) and the
// number of dimensions.
const (
	idxImagesMagic = 2051
	idxLabelsMagic = 2049
)

// MNIST normalisation constants used by pytorch/examples and torchvision.
const (
	mnistMean = 0.1307
	mnistStd  = 0.3081
)

// IDXImages is the content of an IDX3 image file.
type IDXImages struct {
	N, Rows, Cols int
	Pixels        []uint8 // N*Rows*Cols, image by image, row-major
}

// MNIST is a loaded, resized and normalised MNIST split.
type MNIST struct {
	N, Size int
	Images  []float32 // N*1*Size*Size, NCHW
	Labels  []int64   // N, each 0..9
}

// maxDeflateRatio bounds how far deflate expands: a stream of N bytes
// decompresses to at most 1032*N (258-byte matches in under 2 bits each).
const maxDeflateRatio = 1032

// idxHeader reads an IDX file's header (the magic and dimensions, already
// in full) and returns how many payload bytes it promises, with a phrase
// naming them for messages; an invalid header is an error naming path.
type idxHeader func(header []byte, path string) (size uint64, what string, err error)

// readIDX reads an IDX file, raw or gzip-compressed (the content decides,
// not the name, so a raw file called .gz, or a gzip file without the
// suffix, still reads correctly): the header of headerLen bytes, then the
// payload it promises, and returns both. The promise is checked before the
// payload is read: against the file's size for a raw file and, for gzip,
// against the most the file can expand to (maxDeflateRatio). At most one
// byte more than promised is decompressed, and the buffer grows with what
// arrives, never to the header's claim first, so neither a header claiming
// more than the file holds nor a small gzip file expanding to gigabytes
// makes the reader allocate more than the file's own content.
func readIDX(path string, headerLen int, parse idxHeader) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	br := bufio.NewReaderSize(f, 1<<16)
	var r io.Reader = br
	most, zipped := uint64(st.Size()), false
	// A Peek error means a file shorter than 2 bytes: not gzip, and the
	// header check reports it.
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		defer zr.Close()
		r, most, zipped = zr, most*maxDeflateRatio, true
	}
	header, err := io.ReadAll(io.LimitReader(r, int64(headerLen)))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(header) < headerLen {
		return header, nil // too short: the parser says so
	}
	size, what, err := parse(header, path)
	if err != nil {
		return nil, err
	}
	room := most - uint64(headerLen)
	if size > room {
		if zipped {
			return nil, fmt.Errorf("read %s: truncated: header says %s = %d bytes, more than a gzip file of %d bytes can hold (%d)",
				path, what, size, st.Size(), room)
		}
		return nil, checkPayload(path, room, size, what)
	}
	if !zipped && size < room {
		return nil, checkPayload(path, room, size, what)
	}
	data := bytes.NewBuffer(header)
	if _, err := data.ReadFrom(io.LimitReader(r, int64(size)+1)); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if uint64(data.Len()-headerLen) > size {
		return nil, fmt.Errorf("read %s: trailing data after %s (%d bytes): the file holds more than its header says", path, what, size)
	}
	return data.Bytes(), nil
}

// checkPayload compares the bytes after the header with what the header
// promises, so truncated downloads and concatenated files are caught early.
func checkPayload(path string, got, want uint64, what string) error {
	switch {
	case got < want:
		return fmt.Errorf("read %s: truncated: header says %s = %d bytes, got %d", path, what, want, got)
	case got > want:
		return fmt.Errorf("read %s: %d bytes of trailing data after %s (%d bytes)", path, got-want, what, want)
	}
	return nil
}

// ReadIDXImages reads an IDX3 unsigned-byte image file, raw or gzip-compressed.
func ReadIDXImages(path string) (*IDXImages, error) {
	data, err := readIDX(path, 16, idxImagesHeader)
	if err != nil {
		return nil, err
	}
	return parseIDXImages(data, path)
}

// idxImagesHeader checks an IDX3 header: magic, and n images of rows x
// cols whose pixels a slice can hold.
func idxImagesHeader(header []byte, path string) (uint64, string, error) {
	if magic := binary.BigEndian.Uint32(header); magic != idxImagesMagic {
		return 0, "", fmt.Errorf("read %s: magic %d, want %d (IDX3 images)", path, magic, idxImagesMagic)
	}
	n := uint64(binary.BigEndian.Uint32(header[4:]))
	rows := uint64(binary.BigEndian.Uint32(header[8:]))
	cols := uint64(binary.BigEndian.Uint32(header[12:]))
	if rows == 0 || cols == 0 {
		return 0, "", fmt.Errorf("read %s: image size %dx%d is empty", path, rows, cols)
	}
	// Each factor fits in 32 bits, so rows*cols cannot overflow; the check
	// keeps n*rows*cols within what a slice can hold.
	if n > math.MaxInt32/(rows*cols) {
		return 0, "", fmt.Errorf("read %s: header says %d images of %dx%d, too large", path, n, rows, cols)
	}
	return n * rows * cols, fmt.Sprintf("%d images of %dx%d", n, rows, cols), nil
}

// parseIDXImages is ReadIDXImages on the file's (decompressed) bytes.
func parseIDXImages(data []byte, path string) (*IDXImages, error) {
	if len(data) < 16 {
		return nil, fmt.Errorf("read %s: %d bytes is too short for an IDX3 header (16 bytes)", path, len(data))
	}
	size, what, err := idxImagesHeader(data[:16], path)
	if err != nil {
		return nil, err
	}
	if err := checkPayload(path, uint64(len(data)-16), size, what); err != nil {
		return nil, err
	}
	return &IDXImages{
		N:    int(binary.BigEndian.Uint32(data[4:])),
		Rows: int(binary.BigEndian.Uint32(data[8:])),
		Cols: int(binary.BigEndian.Uint32(data[12:])), Pixels: data[16:],
	}, nil
}

// ReadIDXLabels reads an IDX1 unsigned-byte label file, raw or gzip-compressed,
// and checks every label is a digit 0..9.
func ReadIDXLabels(path string) ([]uint8, error) {
	data, err := readIDX(path, 8, idxLabelsHeader)
	if err != nil {
		return nil, err
	}
	return parseIDXLabels(data, path)
}

// idxLabelsHeader checks an IDX1 header: magic and the label count.
func idxLabelsHeader(header []byte, path string) (uint64, string, error) {
	if magic := binary.BigEndian.Uint32(header); magic != idxLabelsMagic {
		return 0, "", fmt.Errorf("read %s: magic %d, want %d (IDX1 labels)", path, magic, idxLabelsMagic)
	}
	n := uint64(binary.BigEndian.Uint32(header[4:]))
	return n, fmt.Sprintf("%d labels", n), nil
}

// parseIDXLabels is ReadIDXLabels on the file's (decompressed) bytes.
func parseIDXLabels(data []byte, path string) ([]uint8, error) {
	if len(data) < 8 {
		return nil, fmt.Errorf("read %s: %d bytes is too short for an IDX1 header (8 bytes)", path, len(data))
	}
	size, what, err := idxLabelsHeader(data[:8], path)
	if err != nil {
		return nil, err
	}
	if err := checkPayload(path, uint64(len(data)-8), size, what); err != nil {
		return nil, err
	}
	labels := data[8:]
	for i, l := range labels {
		if l > 9 {
			return nil, fmt.Errorf("read %s: label %d at index %d is not a digit 0..9", path, l, i)
		}
	}
	return labels, nil
}

// findIDX returns dir/name.gz or dir/name, whichever exists (gzip first,
// because that is how the files are distributed).
func findIDX(dir, name string) (string, error) {
	for _, p := range []string{filepath.Join(dir, name+".gz"), filepath.Join(dir, name)} {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("mnist: neither %s.gz nor %s in %s", name, name, dir)
}

// LoadMNIST reads the training (train=true) or test split from dir, resizes
// each image to size x size (bilinear, align_corners=False) on pixels scaled
// to [0,1], and normalises with mean 0.1307 and std 0.3081.
func LoadMNIST(dir string, train bool, size int) (*MNIST, error) {
	if size <= 0 {
		return nil, fmt.Errorf("mnist: size %d must be positive", size)
	}
	prefix := "t10k"
	if train {
		prefix = "train"
	}
	imgPath, err := findIDX(dir, prefix+"-images-idx3-ubyte")
	if err != nil {
		return nil, err
	}
	lblPath, err := findIDX(dir, prefix+"-labels-idx1-ubyte")
	if err != nil {
		return nil, err
	}
	imgs, err := ReadIDXImages(imgPath)
	if err != nil {
		return nil, err
	}
	lbls, err := ReadIDXLabels(lblPath)
	if err != nil {
		return nil, err
	}
	if imgs.N != len(lbls) {
		return nil, fmt.Errorf("mnist: %s has %d images but %s has %d labels", imgPath, imgs.N, lblPath, len(lbls))
	}

	m := &MNIST{
		N:      imgs.N,
		Size:   size,
		Images: make([]float32, imgs.N*size*size),
		Labels: make([]int64, imgs.N),
	}
	for i, l := range lbls {
		m.Labels[i] = int64(l)
	}
	resizeMNIST(m.Images, imgs, size)
	return m, nil
}

// resizeMNIST fills dst with the scaled, resized and normalised images. The
// images are independent, so they are split into one contiguous chunk per
// CPU; each chunk writes only its own part of dst.
func resizeMNIST(dst []float32, imgs *IDXImages, size int) {
	plan := newBilinear(imgs.Rows, imgs.Cols, size, size)
	in, out := imgs.Rows*imgs.Cols, size*size
	workers := min(runtime.NumCPU(), max(imgs.N, 1))
	chunk := (imgs.N + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := 0; lo < imgs.N; lo += chunk {
		hi := min(lo+chunk, imgs.N)
		wg.Add(1)
		go func() {
			defer wg.Done()
			src := make([]float32, in)
			tmp := make([]float32, imgs.Rows*size)
			for i := lo; i < hi; i++ {
				for j, p := range imgs.Pixels[i*in : (i+1)*in] {
					// Same as torchvision's ToTensor: float32 division by 255.
					src[j] = float32(p) / 255
				}
				o := dst[i*out : (i+1)*out]
				plan.resize(o, src, tmp)
				for j, v := range o {
					o[j] = (v - mnistMean) / mnistStd
				}
			}
		}()
	}
	wg.Wait()
}
