package datasets

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// answers returns a row of vote fractions with the given columns set, e.g.
// answers("Class1.2", 0.9); all other columns are 0.
func answers(kv ...any) [GalaxyAnswers]float32 {
	var a [GalaxyAnswers]float32
	for i := 0; i < len(kv); i += 2 {
		col := slices.Index(galaxyColumns, kv[i].(string)) - 1
		a[col] = float32(kv[i+1].(float64))
	}
	return a
}

// galaxyCSV renders a solutions file with the Kaggle header.
func galaxyCSV(rows []GalaxyRow) []byte {
	var b bytes.Buffer
	b.WriteString(strings.Join(galaxyColumns, ",") + "\n")
	for _, r := range rows {
		b.WriteString(strconv.FormatInt(r.ID, 10))
		for _, v := range r.Answers {
			b.WriteString("," + strconv.FormatFloat(float64(v), 'g', -1, 32))
		}
		b.WriteString("\n")
	}
	return b.Bytes()
}

func TestGalaxyColumns(t *testing.T) {
	if len(galaxyColumns) != 1+GalaxyAnswers {
		t.Fatalf("%d columns, want %d", len(galaxyColumns), 1+GalaxyAnswers)
	}
	// The named indices used by the class rule must point at their columns.
	for idx, name := range map[int]string{
		q1Smooth: "Class1.1", q1Features: "Class1.2", q1Star: "Class1.3",
		q2EdgeOn: "Class2.1", q2NotEdge: "Class2.2", q4Spiral: "Class4.1",
		q4NoSpiral: "Class4.2", q7Round: "Class7.1",
	} {
		if got := galaxyColumns[idx+1]; got != name {
			t.Errorf("answer %d is %s, want %s", idx, got, name)
		}
	}
}

func TestReadGalaxyCSV(t *testing.T) {
	rows := []GalaxyRow{
		{ID: 100008, Answers: answers("Class1.1", 0.4, "Class1.2", 0.5, "Class1.3", 0.1, "Class11.6", 1.0)},
		{ID: 100023, Answers: answers("Class1.1", 1.0, "Class7.3", 2.91e-06)},
	}
	good := string(galaxyCSV(rows))
	header, body, _ := strings.Cut(good, "\n")
	row1, _, _ := strings.Cut(body, "\n")
	tests := []struct {
		name    string
		csv     string
		wantErr string
	}{
		{"good", good, ""},
		{"empty", "", "empty file"},
		{"renamed column", strings.Replace(good, "Class1.2,", "Class1.X,", 1), `column 3 is "Class1.X", want "Class1.2"`},
		{"missing column", strings.Replace(good, ",Class11.6", "", 1), `column 38 missing, want "Class11.6"`},
		{"extra column", strings.Replace(good, "Class11.6", "Class11.6,Extra", 1), `extra column "Extra"`},
		{"short row", header + "\n1,0.5\n", "line 2: 2 fields, want 38"},
		{"bad id", header + "\n" + strings.Replace(row1, "100008", "1e5", 1) + "\n", `line 2: GalaxyID "1e5"`},
		{"out of range", header + "\n" + strings.Replace(row1, "0.4", "1.5", 1) + "\n", `line 2: Class1.1 = "1.5"`},
		{"not a number", header + "\n" + strings.Replace(row1, "0.4", "NaN", 1) + "\n", `Class1.1 = "NaN"`},
		{"negative", header + "\n" + strings.Replace(row1, "0.5", "-0.5", 1) + "\n", `Class1.2 = "-0.5"`},
		{"duplicate id", good + row1 + "\n", "line 4: GalaxyID 100008 already on line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "solutions.csv", []byte(tt.csv))
			got, err := ReadGalaxyCSV(path)
			if wantFileError(t, err, path, tt.wantErr) {
				return
			}
			if !slices.Equal(got, rows) {
				t.Errorf("got %v, want %v", got, rows)
			}
		})
	}
}

func TestGalaxyClass(t *testing.T) {
	tests := []struct {
		name string
		a    [GalaxyAnswers]float32
		want Class
	}{
		{"star", answers("Class1.1", 0.2, "Class1.2", 0.3, "Class1.3", 0.5), StarArtifact},
		{"star tie is not star", answers("Class1.1", 0.4, "Class1.3", 0.4, "Class7.1", 0.4), SmoothRound},
		{"smooth round", answers("Class1.1", 0.7, "Class1.2", 0.3, "Class7.1", 0.5, "Class7.2", 0.2), SmoothRound},
		{"smooth in-between", answers("Class1.1", 0.7, "Class1.2", 0.3, "Class7.1", 0.1, "Class7.2", 0.5, "Class7.3", 0.1), SmoothInBetween},
		{"smooth cigar", answers("Class1.1", 0.7, "Class1.2", 0.3, "Class7.2", 0.2, "Class7.3", 0.5), SmoothCigar},
		{"smooth tie with disk", answers("Class1.1", 0.5, "Class1.2", 0.5, "Class7.2", 0.5, "Class2.1", 0.5), SmoothInBetween},
		{"q7 tie goes to the first", answers("Class1.1", 1.0, "Class7.2", 0.5, "Class7.3", 0.5), SmoothInBetween},
		{"edge-on", answers("Class1.2", 0.8, "Class2.1", 0.5, "Class2.2", 0.3, "Class4.1", 0.3), EdgeOn},
		{"spiral", answers("Class1.2", 0.8, "Class2.1", 0.1, "Class2.2", 0.7, "Class4.1", 0.6, "Class4.2", 0.1), Spiral},
		{"disk no spiral", answers("Class1.2", 0.8, "Class2.2", 0.8, "Class4.1", 0.3, "Class4.2", 0.5), DiskNoSpiral},
		{"spiral tie is not spiral", answers("Class1.2", 0.8, "Class2.2", 0.8, "Class4.1", 0.4, "Class4.2", 0.4), DiskNoSpiral},
	}
	for _, tt := range tests {
		if got := GalaxyClass(tt.a); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestParseClass(t *testing.T) {
	for c := range Class(NumClasses) {
		for _, name := range []string{c.String(), " " + strings.ToUpper(c.String()) + " "} {
			got, err := ParseClass(name)
			if err != nil || got != c {
				t.Errorf("ParseClass(%q) = %v, %v; want %v", name, got, err, c)
			}
		}
	}
	if _, err := ParseClass("elliptical"); err == nil || !strings.Contains(err.Error(), "smooth-round") {
		t.Errorf("unknown name: err = %v, want the list of names", err)
	}
	if s := Class(9).String(); s != "Class(9)" {
		t.Errorf("Class(9).String() = %q", s)
	}
	if got := ClassCounts([]Class{Spiral, Spiral, EdgeOn, Class(-1)}); got != [NumClasses]int{EdgeOn: 1, Spiral: 2} {
		t.Errorf("ClassCounts = %v", got)
	}
}

// The test galaxies: 48x48 JPEGs whose centre 16x16 (aligned to JPEG's
// 16x16 blocks, so compression does not mix in the border) is one colour
// and whose border is another, so a wrong crop shows.
var testGalaxies = []struct {
	id     int64
	centre color.RGBA
}{
	{100008, color.RGBA{200, 30, 60, 255}},
	{100023, color.RGBA{20, 180, 90, 255}},
	{100053, color.RGBA{90, 90, 240, 255}},
}

func encodeTestJPEG(t *testing.T, size, lo, hi int, centre color.RGBA) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	for y := range size {
		for x := range size {
			c := color.RGBA{255, 255, 255, 255}
			if x >= lo && x < hi && y >= lo && y < hi {
				c = centre
			}
			img.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeGalaxyDir writes a data directory with the test galaxies and
// returns it and the image paths by ID.
func writeGalaxyDir(t *testing.T) (string, map[int64]string) {
	t.Helper()
	dir := t.TempDir()
	var rows []GalaxyRow
	paths := map[int64]string{}
	for i, g := range testGalaxies {
		// Cycle through smooth-round, spiral and star-artifact.
		a := [][GalaxyAnswers]float32{
			answers("Class1.1", 0.9, "Class1.2", 0.1, "Class7.1", 0.9),
			answers("Class1.2", 0.9, "Class2.2", 0.9, "Class4.1", 0.8),
			answers("Class1.3", 0.9),
		}[i%3]
		rows = append(rows, GalaxyRow{ID: g.id, Answers: a})
		name := filepath.Join(GalaxyImagesDir, fmt.Sprintf("%d.jpg", g.id))
		paths[g.id] = writeFile(t, dir, name, encodeTestJPEG(t, 48, 16, 32, g.centre))
	}
	writeFile(t, dir, GalaxyCSVName, galaxyCSV(rows))
	return dir, paths
}

func testGalaxyOptions(dir string, t *testing.T) GalaxyOptions {
	return GalaxyOptions{Dir: dir, Crop: 16, Size: 8, Workers: 2, CacheDir: t.TempDir()}
}

func TestLoadGalaxyZoo(t *testing.T) {
	dir, _ := writeGalaxyDir(t)
	opts := testGalaxyOptions(dir, t)
	set, err := LoadGalaxyZoo(opts)
	if err != nil {
		t.Fatal(err)
	}
	if set.N != 3 || set.Size != 8 || len(set.Images) != 3*3*8*8 || set.FromCache || set.Skipped != 0 {
		t.Fatalf("N %d size %d len %d fromCache %v skipped %d", set.N, set.Size, len(set.Images), set.FromCache, set.Skipped)
	}
	if !slices.Equal(set.Classes, []Class{SmoothRound, Spiral, StarArtifact}) {
		t.Errorf("classes %v", set.Classes)
	}
	for i, g := range testGalaxies {
		if set.IDs[i] != g.id {
			t.Errorf("IDs[%d] = %d, want %d", i, set.IDs[i], g.id)
		}
		// Each channel plane must be the centre colour: JPEG allows a few
		// levels of error, a crop that caught the white border would not.
		want := []uint8{g.centre.R, g.centre.G, g.centre.B}
		for c := range 3 {
			plane := set.Images[(i*3+c)*64 : (i*3+c+1)*64]
			for _, v := range plane {
				if math.Abs(float64(v)-float64(want[c])/255) > 6.0/255 {
					t.Fatalf("galaxy %d channel %d: %v, want %v/255", g.id, c, v*255, want[c])
				}
			}
		}
	}

	// The same settings come from the cache, bit for bit.
	again, err := LoadGalaxyZoo(opts)
	if err != nil {
		t.Fatal(err)
	}
	if !again.FromCache {
		t.Error("second load did not use the cache")
	}
	if !slices.Equal(again.Images, set.Images) || !slices.Equal(again.IDs, set.IDs) ||
		!slices.Equal(again.Answers, set.Answers) || !slices.Equal(again.Classes, set.Classes) {
		t.Error("cached set differs from the decoded one")
	}

	// A different size, a limit, or a touched image must miss the cache;
	// workers only change speed, never the result.
	tests := []struct {
		name   string
		change func(o *GalaxyOptions)
		wantN  int
	}{
		{"size", func(o *GalaxyOptions) { o.Size = 4 }, 3},
		{"limit", func(o *GalaxyOptions) { o.Limit = 2 }, 2},
		{"touched image", func(o *GalaxyOptions) {
			p := filepath.Join(dir, GalaxyImagesDir, "100023.jpg")
			later := time.Now().Add(time.Hour)
			if err := os.Chtimes(p, later, later); err != nil {
				t.Fatal(err)
			}
		}, 3},
		{"one worker, no cache", func(o *GalaxyOptions) { o.Workers = 1; o.NoCache = true }, 3},
	}
	for _, tt := range tests {
		o := opts
		tt.change(&o)
		got, err := LoadGalaxyZoo(o)
		if err != nil {
			t.Fatal(err)
		}
		if got.FromCache || got.N != tt.wantN {
			t.Errorf("%s: fromCache %v N %d, want false %d", tt.name, got.FromCache, got.N, tt.wantN)
		}
		if o.Size == opts.Size && !slices.Equal(got.Images, set.Images[:len(got.Images)]) {
			t.Errorf("%s: images differ from the first load", tt.name)
		}
	}
}

func TestLoadGalaxyZooBadImages(t *testing.T) {
	junk := make([]byte, 500)
	rand.New(rand.NewSource(1)).Read(junk)
	good := encodeTestJPEG(t, 48, 16, 32, color.RGBA{1, 2, 3, 255})
	tests := []struct {
		name    string
		breakIt func(t *testing.T, path string)
		wantErr string
	}{
		{"missing", func(t *testing.T, p string) { must(t, os.Remove(p)) }, "no such file"},
		{"random bytes", func(t *testing.T, p string) { must(t, os.WriteFile(p, junk, 0o644)) }, "decode"},
		{"truncated", func(t *testing.T, p string) { must(t, os.WriteFile(p, good[:len(good)/2], 0o644)) }, "decode"},
		{"too small", func(t *testing.T, p string) {
			must(t, os.WriteFile(p, encodeTestJPEG(t, 8, 0, 0, color.RGBA{}), 0o644))
		}, "smaller than the 16x16 crop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, paths := writeGalaxyDir(t)
			bad := paths[100023]
			tt.breakIt(t, bad)
			opts := testGalaxyOptions(dir, t)
			_, err := LoadGalaxyZoo(opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), bad) {
				t.Fatalf("err = %v, want it to name %s and contain %q", err, bad, tt.wantErr)
			}

			// With SkipBad the other two load, and the cached copy reports
			// the same skipped file.
			opts.SkipBad = true
			for _, fromCache := range []bool{false, true} {
				set, err := LoadGalaxyZoo(opts)
				if err != nil {
					t.Fatal(err)
				}
				if set.FromCache != fromCache || set.N != 2 || set.Skipped != 1 ||
					!slices.Equal(set.SkippedFiles, []string{bad}) || !slices.Equal(set.IDs, []int64{100008, 100053}) {
					t.Errorf("fromCache %v N %d skipped %d %v IDs %v", set.FromCache, set.N, set.Skipped, set.SkippedFiles, set.IDs)
				}
				if set.Classes[1] != StarArtifact || set.Answers[1] != answers("Class1.3", 0.9) {
					t.Errorf("answers not moved with the skipped image: %v", set.Classes)
				}
			}
		})
	}
}

func TestGalaxyCacheCorrupt(t *testing.T) {
	dir, _ := writeGalaxyDir(t)
	opts := testGalaxyOptions(dir, t)
	first, err := LoadGalaxyZoo(opts)
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(opts.CacheDir, "*.bin"))
	if err != nil || len(files) != 1 {
		t.Fatalf("cache files %v, want one", files)
	}
	full, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"short", full[:len(full)-5]},
		{"long", append(slices.Clone(full), 0)},
		{"bad magic", append([]byte("XXXX"), full[4:]...)},
		{"wrong id", append(slices.Clone(full[:len(full)-8]), 1, 2, 3, 4, 5, 6, 7, 8)},
	}
	for _, tt := range tests {
		if err := os.WriteFile(files[0], tt.data, 0o644); err != nil {
			t.Fatal(err)
		}
		set, err := LoadGalaxyZoo(opts)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if set.FromCache || !slices.Equal(set.Images, first.Images) {
			t.Errorf("%s: fromCache %v, or data changed", tt.name, set.FromCache)
		}
		// The rebuild overwrote the bad file.
		if got, err := os.ReadFile(files[0]); err != nil || !bytes.Equal(got, full) {
			t.Errorf("%s: cache file not rewritten", tt.name)
		}
	}
}

func TestLoadGalaxyZooOptions(t *testing.T) {
	dir, _ := writeGalaxyDir(t)
	tests := []struct {
		name    string
		opts    GalaxyOptions
		wantErr string
	}{
		{"no dir", GalaxyOptions{}, "no data directory"},
		{"negative crop", GalaxyOptions{Dir: dir, Crop: -1, NoCache: true}, "negative"},
		{"negative limit", GalaxyOptions{Dir: dir, Limit: -3, NoCache: true}, "negative"},
		{"crop larger than images", GalaxyOptions{Dir: dir, NoCache: true}, "smaller than the 212x212 crop"},
		{"missing csv", GalaxyOptions{Dir: t.TempDir(), NoCache: true}, GalaxyCSVName},
	}
	for _, tt := range tests {
		_, err := LoadGalaxyZoo(tt.opts)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}

// TestReadGalaxyCSVReal reads the data the commands would use (the full
// data or the bundled sample) and checks properties that hold for any
// Kaggle-format folder: rows parse, every class of the rule occurs, every
// row has its image.
func TestReadGalaxyCSVReal(t *testing.T) {
	dir := dataSet(t, "galaxyzoo").Dir
	rows, err := ReadGalaxyCSV(filepath.Join(dir, GalaxyCSVName))
	if err != nil {
		t.Fatal(err)
	}
	classes := make([]Class, len(rows))
	for i, r := range rows {
		classes[i] = GalaxyClass(r.Answers)
		if _, err := os.Stat(filepath.Join(dir, GalaxyImagesDir, fmt.Sprintf("%d.jpg", r.ID))); err != nil {
			t.Fatalf("row %d: %v", i+2, err)
		}
	}
	n := ClassCounts(classes)
	t.Logf("%d rows; classes %v", len(rows), classCountString(n))
	for c, k := range n {
		if k == 0 {
			t.Errorf("no galaxy of class %v", Class(c))
		}
	}
}

func TestLoadGalaxyZooReal(t *testing.T) {
	dir := dataSet(t, "galaxyzoo").Dir
	start := time.Now()
	set, err := LoadGalaxyZoo(GalaxyOptions{Dir: dir, Limit: 64, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("64 galaxies at 64x64 in %v; classes %v", time.Since(start), classCountString(ClassCounts(set.Classes)))
	if set.N != 64 || len(set.Images) != 64*3*64*64 || !slices.IsSorted(set.IDs) {
		t.Fatalf("N %d len %d, IDs sorted %v", set.N, len(set.Images), slices.IsSorted(set.IDs))
	}
	var sum float64
	for _, v := range set.Images {
		if !(v >= 0 && v <= 1) {
			t.Fatalf("value %v outside [0,1]", v)
		}
		sum += float64(v)
	}
	// Galaxies are small bright objects on a dark sky.
	if mean := sum / float64(len(set.Images)); mean < 0.01 || mean > 0.5 {
		t.Errorf("mean pixel %v, want a dark sky (0.01..0.5)", mean)
	}
}

// TestBundledSample checks the committed sample itself: small, every class
// and both labels present, images as precropped.json says.
func TestBundledSample(t *testing.T) {
	root, err := SampleDir()
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			st, err := d.Info()
			if err != nil {
				return err
			}
			total += st.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if total > 8<<20 {
		t.Errorf("bundled sample is %d bytes, want at most 8 MiB", total)
	}
	for _, f := range []string{"tweetstrain.csv", "tweetstest.csv"} {
		set, err := ReadTweets(filepath.Join(root, "tweets", f), false)
		if err != nil {
			t.Fatal(err)
		}
		var pos int
		for _, l := range set.Labels {
			pos += int(l)
		}
		if len(set.Texts) < 500 || pos < len(set.Texts)/3 || pos > 2*len(set.Texts)/3 {
			t.Errorf("%s: %d tweets, %d positive; want hundreds, roughly balanced", f, len(set.Texts), pos)
		}
	}
	dir := filepath.Join(root, "galaxyzoo")
	frame, err := readGalaxyFrame(dir)
	if err != nil || frame.Side == 0 {
		t.Fatalf("frame %+v, %v: the sample's images must be described", frame, err)
	}
	set, err := LoadGalaxyZoo(GalaxyOptions{Dir: dir, Size: 32, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for c, k := range ClassCounts(set.Classes) {
		if k == 0 {
			t.Errorf("sample has no galaxy of class %v", Class(c))
		}
	}
	if _, err := LoadGalaxyZoo(GalaxyOptions{Dir: dir, Crop: frame.Crop + 1, NoCache: true, Limit: 1}); err == nil ||
		!strings.Contains(err.Error(), GalaxyFrameName) {
		t.Errorf("a crop wider than the sample holds: err = %v, want one naming %s", err, GalaxyFrameName)
	}
}

// TestSampleMatchesFullData checks that --crop and --image-size mean the
// same galaxies on the pre-cropped sample as on the original images.
func TestSampleMatchesFullData(t *testing.T) {
	full := fullDataSet(t, "galaxyzoo")
	root, err := SampleDir()
	if err != nil {
		t.Fatal(err)
	}
	const size = 32
	set, err := LoadGalaxyZoo(GalaxyOptions{Dir: filepath.Join(root, "galaxyzoo"), Size: size, Limit: 8, NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	stride := 3 * size * size
	for i, id := range set.IDs {
		want, err := PrepareGalaxyImage(filepath.Join(full, GalaxyImagesDir, fmt.Sprintf("%d.jpg", id)), 212, size)
		if err != nil {
			t.Fatal(err)
		}
		var diff float64
		for k, v := range want {
			diff += math.Abs(float64(v - set.Images[i*stride+k]))
		}
		// JPEG re-encoding of the sample costs about 1/255 per pixel.
		if diff /= float64(stride); diff > 0.01 {
			t.Errorf("galaxy %d: mean |sample - full| = %.4f, want < 0.01", id, diff)
		}
	}
}

// TestLoadGalaxyZooFull times a full cold load and a cached load of the
// real data; it takes tens of CPU-seconds, so it runs only on request.
func TestLoadGalaxyZooFull(t *testing.T) {
	if os.Getenv("TORCHLAB_SLOW") == "" {
		t.Skip("slow: set TORCHLAB_SLOW=1 to time a full Galaxy Zoo load")
	}
	dir := fullDataSet(t, "galaxyzoo")
	opts := GalaxyOptions{Dir: dir, Crop: 212, Size: 64, Workers: 2, CacheDir: t.TempDir()}
	var sets [2]*GalaxySet
	for i := range sets {
		start := time.Now()
		set, err := LoadGalaxyZoo(opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("load %d: %d galaxies, fromCache %v, %v", i+1, set.N, set.FromCache, time.Since(start))
		sets[i] = set
	}
	if sets[0].N < 1000 || sets[0].FromCache || !sets[1].FromCache || !slices.Equal(sets[0].Images, sets[1].Images) {
		t.Error("full load: wrong count, cache not used, or cached data differs")
	}
	t.Logf("classes %v", classCountString(ClassCounts(sets[0].Classes)))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func classCountString(n [NumClasses]int) string {
	var parts []string
	for c, k := range n {
		parts = append(parts, fmt.Sprintf("%v=%d", Class(c), k))
	}
	return strings.Join(parts, " ")
}
