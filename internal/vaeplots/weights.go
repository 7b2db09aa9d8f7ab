package vaeplots

import (
	"fmt"
	"path/filepath"

	"github.com/sugarme/gotch/ts"

	"torchlab/internal/runrec"
	"torchlab/models/vae"
	"torchlab/plots"
	"torchlab/torch/tensors"
)

// DrawWeights draws the first layer's filters (and, for conv, the decoder's
// last layer) as image tiles and weight matrices as heat maps.
func DrawWeights(out string, m *vae.VAE, named map[string]*ts.Tensor) error {
	var filters, matrices []string
	switch m.Config.Arch {
	case "conv":
		filters = []string{"encoder.net.0.weight", "decoder.net.12.weight"}
		matrices = []string{"fc_mu.weight"}
	case "resnet-iaf":
		filters = []string{"encoder.blocks.0.conv1.weight"}
		matrices = []string{"up1.weight", "encoder.blocks.0.skip.weight"}
	case "resnet":
		// The first block's 1x1 skip weights are colour mixes, not
		// pictures, and a grid needs tiles of one size: show them as a matrix.
		filters = []string{"encoder.blocks.0.conv1.weight"}
		matrices = []string{"fc_mu.weight", "encoder.blocks.0.skip.weight"}
	case "mlp":
		filters = []string{"encoder.net.0.weight"}
		matrices = []string{"encoder.net.2.weight", "fc_mu.weight"}
	}
	var rows [][]plots.Image
	var labels []string
	for _, name := range filters {
		w, ok := named[name]
		if !ok {
			return fmt.Errorf("no weight %s", name)
		}
		tiles, err := filterTiles(w, m.Config)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		// Up to 16 tiles per row keeps the grid readable.
		for i := 0; i < len(tiles); i += 16 {
			rows = append(rows, tiles[i:min(i+16, len(tiles))])
			labels = append(labels, fmt.Sprintf("%s %d-%d", name, i, min(i+16, len(tiles))-1))
		}
	}
	if err := plots.ImageGrid(filepath.Join(out, runrec.FigWeightsFilters), m.Config.Arch+": filters of the image-side layers (each tile min-max normalised)", rows, labels); err != nil {
		return err
	}
	for i, name := range matrices {
		w := named[name]
		s, err := w.Size()
		if err != nil {
			return err
		}
		v, err := tensors.Float32s(w)
		if err != nil {
			return err
		}
		vals := make([]float64, len(v))
		for j, x := range v {
			vals[j] = float64(x)
		}
		path := filepath.Join(out, runrec.FigWeightsMatrixN(i+1))
		if err := plots.Heatmap(path, fmt.Sprintf("%s: %s [%d x %d]", m.Config.Arch, name, s[0], s[1]), int(s[0]), int(s[1]),
			vals, "input unit", "output unit"); err != nil {
			return err
		}
	}
	return nil
}

// filterTiles turns a weight into RGB tiles: a conv weight [out, 3, k, k]
// gives one tile per output channel, a transposed conv [in, 3, k, k] one per
// input channel, and an MLP's first layer [H, 3*S*S] one image-sized tile
// per hidden unit (the first 32).
func filterTiles(w *ts.Tensor, cfg vae.Config) ([]plots.Image, error) {
	s, err := w.Size()
	if err != nil {
		return nil, err
	}
	v, err := tensors.Float32s(w)
	if err != nil {
		return nil, err
	}
	var c, h, wd, n int
	switch {
	case len(s) == 4 && s[1] == 3:
		n, c, h, wd = int(s[0]), 3, int(s[2]), int(s[3])
	case len(s) == 4:
		n, c, h, wd = int(s[0]), 1, int(s[2]), int(s[3]) // grey tiles of the first input channel
	case len(s) == 2 && s[1] == cfg.Channels*cfg.ImageSize*cfg.ImageSize:
		n, c, h, wd = min(int(s[0]), 32), int(cfg.Channels), int(cfg.ImageSize), int(cfg.ImageSize)
	default:
		return nil, fmt.Errorf("cannot show a weight of shape %v as image tiles", s)
	}
	stride := int(w.Numel()) / int(s[0])
	out := make([]plots.Image, n)
	for i := range n {
		out[i] = plots.Image{C: c, H: h, W: wd, Pix: plots.NormalizeTile(v[i*stride : i*stride+c*h*wd])}
	}
	return out, nil
}

// toImages copies a [N, C, H, W] tensor in [0,1] into plot tiles.
func toImages(x *ts.Tensor) ([]plots.Image, error) {
	s, err := x.Size()
	if err != nil {
		return nil, err
	}
	v, err := tensors.Float32s(x)
	if err != nil {
		return nil, err
	}
	stride := int(s[1] * s[2] * s[3])
	out := make([]plots.Image, s[0])
	for i := range out {
		out[i] = plots.Image{C: int(s[1]), H: int(s[2]), W: int(s[3]), Pix: v[i*stride : (i+1)*stride]}
	}
	return out, nil
}
