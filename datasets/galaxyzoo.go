package datasets

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"hash"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Galaxy Zoo file names inside GalaxyOptions.Dir, as in the Kaggle download.
const (
	GalaxyCSVName   = "training_solutions_rev1.csv"
	GalaxyImagesDir = "images_training_rev1"
)

// GalaxyFrameName, when present beside the CSV, says that the images are
// already centre-cropped and reduced (the bundled sample's are), and by how
// much; see GalaxyFrame.
const GalaxyFrameName = "precropped.json"

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

// Indices into GalaxyRow.Answers used by the class rule.
const (
	q1Smooth   = 0  // Class1.1
	q1Features = 1  // Class1.2
	q1Star     = 2  // Class1.3
	q2EdgeOn   = 3  // Class2.1
	q2NotEdge  = 4  // Class2.2
	q4Spiral   = 7  // Class4.1
	q4NoSpiral = 8  // Class4.2
	q7Round    = 15 // Class7.1; 7.2 and 7.3 follow
)

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
	r := csv.NewReader(bufio.NewReaderSize(f, 1<<16))
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

// Class is a galaxy morphology class derived from the vote fractions.
type Class int

// The seven classes; the rule is in the package doc and GalaxyClass.
const (
	SmoothRound Class = iota
	SmoothInBetween
	SmoothCigar
	EdgeOn
	Spiral
	DiskNoSpiral
	StarArtifact
	NumClasses = 7 // number of classes, for output layers and counts
)

var classNames = [NumClasses]string{
	"smooth-round", "smooth-inbetween", "smooth-cigar",
	"edge-on", "spiral", "disk-no-spiral", "star-artifact",
}

// String returns the class name used by ParseClass and in reports.
func (c Class) String() string {
	if c < 0 || c >= NumClasses {
		return fmt.Sprintf("Class(%d)", int(c))
	}
	return classNames[c]
}

// ParseClass returns the class with the given name (case-insensitive).
func ParseClass(name string) (Class, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	for c, s := range classNames {
		if s == n {
			return Class(c), nil
		}
	}
	return 0, fmt.Errorf("unknown galaxy class %q (want one of %s)", name, strings.Join(classNames[:], ", "))
}

// GalaxyClass applies the decision-tree rule of the package doc.
func GalaxyClass(a [GalaxyAnswers]float32) Class {
	switch {
	case a[q1Star] > a[q1Smooth] && a[q1Star] > a[q1Features]:
		return StarArtifact
	case a[q1Smooth] >= a[q1Features]:
		best := 0
		for k := 1; k < 3; k++ {
			if a[q7Round+k] > a[q7Round+best] {
				best = k
			}
		}
		return SmoothRound + Class(best)
	case a[q2EdgeOn] > a[q2NotEdge]:
		return EdgeOn
	case a[q4Spiral] > a[q4NoSpiral]:
		return Spiral
	default:
		return DiskNoSpiral
	}
}

// ClassCounts returns how many of classes fall in each class.
func ClassCounts(classes []Class) [NumClasses]int {
	var n [NumClasses]int
	for _, c := range classes {
		if c >= 0 && c < NumClasses {
			n[c]++
		}
	}
	return n
}

// GalaxyOptions configures LoadGalaxyZoo; zero values mean the defaults.
type GalaxyOptions struct {
	Dir      string // holds the CSV and the images folder
	Crop     int    // centre crop side in source pixels; default 212
	Size     int    // output side; default 64
	Workers  int    // decoding goroutines; default runtime.NumCPU()
	CacheDir string // default os.UserCacheDir()/torchlab/galaxyzoo (Dir is read-only)
	NoCache  bool   // neither read nor write the cache
	SkipBad  bool   // skip missing or undecodable images instead of failing
	Limit    int    // use only the first Limit CSV rows; 0 means all
}

// GalaxySet is a loaded Galaxy Zoo subset.
type GalaxySet struct {
	N, Size      int
	Images       []float32 // N*3*Size*Size, NCHW, values in [0,1]
	IDs          []int64
	Answers      [][GalaxyAnswers]float32
	Classes      []Class
	Skipped      int      // rows whose image was missing or corrupt (SkipBad only)
	SkippedFiles []string // their image paths
	FromCache    bool     // images were read from the cache, not decoded
}

// withDefaults fills zero options and rejects impossible ones.
func (o GalaxyOptions) withDefaults() (GalaxyOptions, error) {
	if o.Dir == "" {
		return o, errors.New("galaxy zoo: no data directory")
	}
	if o.Crop == 0 {
		o.Crop = 212
	}
	if o.Size == 0 {
		o.Size = 64
	}
	if o.Workers == 0 {
		o.Workers = runtime.NumCPU()
	}
	if o.Crop < 0 || o.Size < 0 || o.Workers < 0 || o.Limit < 0 {
		return o, fmt.Errorf("galaxy zoo: negative option (crop %d, size %d, workers %d, limit %d)",
			o.Crop, o.Size, o.Workers, o.Limit)
	}
	if o.CacheDir == "" && !o.NoCache {
		base, err := os.UserCacheDir()
		if err != nil {
			return o, fmt.Errorf("galaxy zoo: no cache directory (set CacheDir or NoCache): %w", err)
		}
		o.CacheDir = filepath.Join(base, "torchlab", "galaxyzoo")
	}
	return o, nil
}

// LoadGalaxyZoo reads the solutions CSV and the matching JPEGs from
// opts.Dir, centre-crops and area-resizes each image, and caches the result
// in opts.CacheDir so the next load with the same inputs skips decoding.
func LoadGalaxyZoo(opts GalaxyOptions) (*GalaxySet, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	csvPath := filepath.Join(o.Dir, GalaxyCSVName)
	rows, err := ReadGalaxyCSV(csvPath)
	if err != nil {
		return nil, err
	}
	if o.Limit > 0 && o.Limit < len(rows) {
		rows = rows[:o.Limit]
	}
	frame, err := readGalaxyFrame(o.Dir)
	if err != nil {
		return nil, err
	}
	cropPx, err := frame.cropPixels(o.Crop)
	if err != nil {
		return nil, fmt.Errorf("galaxy zoo %s: %w", o.Dir, err)
	}

	// Stat every image up front: the sizes and times go into the cache key,
	// and a missing file is reported before any slow decoding starts.
	csvInfo, err := os.Stat(csvPath)
	if err != nil {
		return nil, err
	}
	key := newCacheKey(o, csvInfo)
	fmt.Fprintf(key, "frame %d %d %d\n", frame.SourceSide, frame.Crop, frame.Side)
	paths := make([]string, len(rows))
	missing := make([]bool, len(rows))
	for i, row := range rows {
		paths[i] = filepath.Join(o.Dir, GalaxyImagesDir, strconv.FormatInt(row.ID, 10)+".jpg")
		st, err := os.Stat(paths[i])
		if err == nil && !st.Mode().IsRegular() {
			err = fmt.Errorf("galaxy %d: %s is not a regular file", row.ID, paths[i])
		}
		if err != nil {
			if !o.SkipBad {
				return nil, fmt.Errorf("galaxy %d: %w", row.ID, err)
			}
			missing[i] = true
			fmt.Fprintf(key, "%d missing\n", row.ID)
			continue
		}
		fmt.Fprintf(key, "%d %d %d\n", row.ID, st.Size(), st.ModTime().UnixNano())
	}
	var sum [sha256.Size]byte
	key.Sum(sum[:0])
	cachePath := ""
	if !o.NoCache {
		cachePath = filepath.Join(o.CacheDir, fmt.Sprintf("%x.bin", sum))
		if set := readGalaxyCache(cachePath, sum, o.Size, rows); set != nil {
			set.SkippedFiles = skippedPaths(paths, rows, set.IDs)
			set.Skipped = len(set.SkippedFiles)
			return set, nil
		}
	}

	stride := 3 * o.Size * o.Size
	images := make([]float32, len(rows)*stride)
	bad := decodeGalaxies(images, paths, missing, o, cropPx, frame.Side)
	if !o.SkipBad {
		for _, err := range bad {
			if err != nil {
				return nil, err
			}
		}
	}

	// Move the kept images down over the skipped ones, keeping CSV order.
	set := &GalaxySet{Size: o.Size}
	for i, row := range rows {
		if missing[i] || bad[i] != nil {
			set.SkippedFiles = append(set.SkippedFiles, paths[i])
			continue
		}
		copy(images[set.N*stride:(set.N+1)*stride], images[i*stride:(i+1)*stride])
		set.IDs = append(set.IDs, row.ID)
		set.Answers = append(set.Answers, row.Answers)
		set.Classes = append(set.Classes, GalaxyClass(row.Answers))
		set.N++
	}
	set.Images = images[: set.N*stride : set.N*stride]
	set.Skipped = len(set.SkippedFiles)
	if cachePath != "" {
		if err := writeGalaxyCache(cachePath, sum, set); err != nil {
			return nil, err
		}
	}
	return set, nil
}

// skippedPaths lists the image paths of the rows whose ID is not in kept;
// kept is in row order, as LoadGalaxyZoo builds it.
func skippedPaths(paths []string, rows []GalaxyRow, kept []int64) []string {
	var out []string
	k := 0
	for i, row := range rows {
		if k < len(kept) && kept[k] == row.ID {
			k++
			continue
		}
		out = append(out, paths[i])
	}
	return out
}

// decodeGalaxies decodes and preprocesses every non-missing image into its
// slot of dst on o.Workers goroutines; slots are fixed by index, so the
// result does not depend on scheduling. It returns one error per image (nil
// if fine). Without SkipBad the first failure stops further work, since the
// load fails anyway.
func decodeGalaxies(dst []float32, paths []string, missing []bool, o GalaxyOptions, cropPx, side int) []error {
	errs := make([]error, len(paths))
	stride := 3 * o.Size * o.Size
	next := atomic.Int64{}
	failed := atomic.Bool{}
	var wg sync.WaitGroup
	for range max(o.Workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := newGalaxyPrep(cropPx, o.Size)
			p.side = side
			for {
				i := int(next.Add(1) - 1)
				if i >= len(paths) || (failed.Load() && !o.SkipBad) {
					return
				}
				if missing[i] {
					continue
				}
				if err := p.load(dst[i*stride:(i+1)*stride], paths[i]); err != nil {
					errs[i] = err
					failed.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	return errs
}

// galaxyPrep is one worker's reusable buffers for crop and resize.
type galaxyPrep struct {
	crop, size int
	side       int          // if not 0, every image must be side x side
	planes     [3][]float32 // cropped R, G, B as 0..255
	area       *area
}

func newGalaxyPrep(crop, size int) *galaxyPrep {
	p := &galaxyPrep{crop: crop, size: size, area: newArea(crop, crop, size, size)}
	for c := range p.planes {
		p.planes[c] = make([]float32, crop*crop)
	}
	return p
}

// load decodes path, centre-crops it and writes 3 x size x size values in
// [0,1] into dst.
func (p *galaxyPrep) load(dst []float32, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	img, err := jpeg.Decode(bufio.NewReaderSize(f, 1<<15))
	f.Close()
	if err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	b := img.Bounds()
	if p.side != 0 && (b.Dx() != p.side || b.Dy() != p.side) {
		return fmt.Errorf("decode %s: image is %dx%d, but %s says %dx%d", path, b.Dx(), b.Dy(), GalaxyFrameName, p.side, p.side)
	}
	if b.Dx() < p.crop || b.Dy() < p.crop {
		return fmt.Errorf("decode %s: image is %dx%d, smaller than the %dx%d crop", path, b.Dx(), b.Dy(), p.crop, p.crop)
	}
	// Integer halving puts the extra pixel of an odd margin on the
	// right/bottom; the default 424 -> 212 has even margins, so it is exact.
	x0, y0 := b.Min.X+(b.Dx()-p.crop)/2, b.Min.Y+(b.Dy()-p.crop)/2
	p.cropRGB(img, x0, y0)
	n := p.size * p.size
	for c, plane := range p.planes {
		out := dst[c*n : (c+1)*n]
		p.area.resize(out, plane)
		for i, v := range out {
			out[i] = v / 255
		}
	}
	return nil
}

// cropRGB copies the crop into the three planes. JPEGs decode to YCbCr or
// Gray, which get direct loops; image.At allocates per pixel and would be
// several times slower on 45,000 pixels per image.
func (p *galaxyPrep) cropRGB(img image.Image, x0, y0 int) {
	r, g, bl := p.planes[0], p.planes[1], p.planes[2]
	switch m := img.(type) {
	case *image.YCbCr:
		for y := 0; y < p.crop; y++ {
			for x := 0; x < p.crop; x++ {
				yi, ci := m.YOffset(x0+x, y0+y), m.COffset(x0+x, y0+y)
				cr, cg, cb := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				k := y*p.crop + x
				r[k], g[k], bl[k] = float32(cr), float32(cg), float32(cb)
			}
		}
	case *image.Gray:
		for y := 0; y < p.crop; y++ {
			for x := 0; x < p.crop; x++ {
				v := float32(m.Pix[m.PixOffset(x0+x, y0+y)])
				k := y*p.crop + x
				r[k], g[k], bl[k] = v, v, v
			}
		}
	default:
		for y := 0; y < p.crop; y++ {
			for x := 0; x < p.crop; x++ {
				cr, cg, cb, _ := img.At(x0+x, y0+y).RGBA()
				k := y*p.crop + x
				r[k], g[k], bl[k] = float32(cr>>8), float32(cg>>8), float32(cb>>8)
			}
		}
	}
}

// Cache file layout, all little-endian:
//
//	magic [8]byte, key [32]byte, N, C, H, W uint32,
//	N*C*H*W float32 images, N int64 IDs.
//
// The key is stored as well as used in the name, so a renamed or copied
// file cannot be mistaken for another one.
const (
	galaxyCacheMagic   = "TLGZC\x00\x00\x01"
	galaxyCacheVersion = 1 // bump when preprocessing changes
	galaxyCacheHeader  = 8 + sha256.Size + 4*4
)

// newCacheKey starts the hash of everything the prepared images depend on;
// the caller adds one line per image.
func newCacheKey(o GalaxyOptions, csvInfo os.FileInfo) hash.Hash {
	h := sha256.New()
	fmt.Fprintf(h, "torchlab galaxyzoo cache v%d\ncrop %d\nsize %d\nskipbad %t\ncsv %d %d\n",
		galaxyCacheVersion, o.Crop, o.Size, o.SkipBad, csvInfo.Size(), csvInfo.ModTime().UnixNano())
	return h
}

// readGalaxyCache returns the cached set, or nil if the file is absent,
// short, corrupt or does not match rows; the caller then rebuilds it.
func readGalaxyCache(path string, key [sha256.Size]byte, size int, rows []GalaxyRow) *GalaxySet {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil
	}
	br := bufio.NewReaderSize(f, 1<<20)
	var hdr [galaxyCacheHeader]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil
	}
	if string(hdr[:8]) != galaxyCacheMagic || string(hdr[8:8+sha256.Size]) != string(key[:]) {
		return nil
	}
	dims := hdr[8+sha256.Size:]
	n := int64(binary.LittleEndian.Uint32(dims))
	c := binary.LittleEndian.Uint32(dims[4:])
	h := binary.LittleEndian.Uint32(dims[8:])
	w := binary.LittleEndian.Uint32(dims[12:])
	if c != 3 || h != uint32(size) || w != uint32(size) || n > int64(len(rows)) {
		return nil
	}
	count := n * 3 * int64(size) * int64(size)
	if st.Size() != galaxyCacheHeader+4*count+8*n {
		return nil
	}

	images := make([]float32, count)
	buf := make([]byte, 1<<20)
	for done := 0; done < len(images); {
		k := min(len(buf)/4, len(images)-done)
		if _, err := io.ReadFull(br, buf[:4*k]); err != nil {
			return nil
		}
		for i := range k {
			images[done+i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:]))
		}
		done += k
	}
	set := &GalaxySet{N: int(n), Size: size, Images: images, FromCache: true}
	// The IDs must be the rows' IDs in row order (minus skipped ones); that
	// is also how each image gets its answers back.
	r := 0
	for range n {
		if _, err := io.ReadFull(br, buf[:8]); err != nil {
			return nil
		}
		id := int64(binary.LittleEndian.Uint64(buf))
		for r < len(rows) && rows[r].ID != id {
			r++
		}
		if r == len(rows) {
			return nil
		}
		set.IDs = append(set.IDs, id)
		set.Answers = append(set.Answers, rows[r].Answers)
		set.Classes = append(set.Classes, GalaxyClass(rows[r].Answers))
		r++
	}
	return set
}

// writeGalaxyCache writes set to path through a temporary file and a rename,
// so a crash or a concurrent reader never sees half a file.
func writeGalaxyCache(path string, key [sha256.Size]byte, set *GalaxySet) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("galaxy zoo cache: %w (set CacheDir or NoCache)", err)
	}
	f, err := os.CreateTemp(dir, ".tmp-*.bin")
	if err != nil {
		return fmt.Errorf("galaxy zoo cache: %w (set CacheDir or NoCache)", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	hdr := make([]byte, 0, galaxyCacheHeader)
	hdr = append(hdr, galaxyCacheMagic...)
	hdr = append(hdr, key[:]...)
	for _, d := range []int{set.N, 3, set.Size, set.Size} {
		hdr = binary.LittleEndian.AppendUint32(hdr, uint32(d))
	}
	if _, err := bw.Write(hdr); err != nil {
		return fmt.Errorf("write %s: %w", f.Name(), err)
	}
	buf := make([]byte, 0, 1<<20)
	for i, v := range set.Images {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		if len(buf) == cap(buf) || i == len(set.Images)-1 {
			if _, err := bw.Write(buf); err != nil {
				return fmt.Errorf("write %s: %w", f.Name(), err)
			}
			buf = buf[:0]
		}
	}
	for _, id := range set.IDs {
		buf = binary.LittleEndian.AppendUint64(buf, uint64(id))
	}
	if _, err := bw.Write(buf); err != nil {
		return fmt.Errorf("write %s: %w", f.Name(), err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", f.Name(), err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("galaxy zoo cache: %w", err)
	}
	return nil
}
