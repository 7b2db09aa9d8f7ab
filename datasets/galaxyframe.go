package datasets

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
)

// GalaxyFrame describes pre-cropped images. Kaggle's images are 424x424 and
// GalaxyOptions.Crop counts pixels of that frame; the bundled sample stores
// only the centre Crop x Crop of each, reduced to Side x Side, so that the
// same --crop and --image-size mean the same galaxies on the full data and
// on the sample.
type GalaxyFrame struct {
	SourceSide int `json:"source_side"` // side of the original images (424)
	Crop       int `json:"crop"`        // centre square of the original that each image holds
	Side       int `json:"side"`        // side of each stored image
}

// readGalaxyFrame reads dir's GalaxyFrameName; without one the images are
// the originals (a zero frame).
func readGalaxyFrame(dir string) (GalaxyFrame, error) {
	var f GalaxyFrame
	path := filepath.Join(dir, GalaxyFrameName)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("read %s: %w", path, err)
	}
	if f.SourceSide <= 0 || f.Crop <= 0 || f.Crop > f.SourceSide || f.Side <= 0 {
		return f, fmt.Errorf("read %s: want 0 < crop <= source_side and side > 0, got %+v", path, f)
	}
	return f, nil
}

// cropPixels converts a crop in original pixels into pixels of the stored
// images. A crop wider than the stored region cannot be honoured: that is
// an error, not a silently smaller crop.
func (f GalaxyFrame) cropPixels(crop int) (int, error) {
	if f.Side == 0 {
		return crop, nil
	}
	if crop > f.Crop {
		return 0, fmt.Errorf("crop %d: these images hold only the centre %d of %d original pixels (%s); use --crop <= %d or the full data",
			crop, f.Crop, f.SourceSide, GalaxyFrameName, f.Crop)
	}
	return int(math.Round(float64(crop) * float64(f.Side) / float64(f.Crop))), nil
}

// PrepareGalaxyImage decodes one original JPEG, centre-crops crop x crop
// pixels and area-resizes them to size x size: 3*size*size values in [0,1],
// channel-major. It is the loader's own preprocessing, exported for the
// script that draws the bundled sample.
func PrepareGalaxyImage(path string, crop, size int) ([]float32, error) {
	if crop <= 0 || size <= 0 {
		return nil, fmt.Errorf("prepare %s: crop %d and size %d must be positive", path, crop, size)
	}
	out := make([]float32, 3*size*size)
	if err := newGalaxyPrep(crop, size).load(out, path); err != nil {
		return nil, err
	}
	return out, nil
}
