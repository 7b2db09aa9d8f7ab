package datasets

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
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
