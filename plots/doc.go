// Package plots draws the figures torchlab reports during and after
// training: loss and accuracy curves, grids of images (samples,
// reconstructions, convolution filters), weight matrices as heat maps and
// latent spaces as scatter plots.
//
// It takes plain Go slices, never tensors, so it can be built and tested
// without libtorch. Every function validates its input and returns an
// error (wrapping one of the Err values below) instead of drawing a
// misleading figure.
//
// The output format follows the file name's extension: .png, .jpg/.jpeg and
// .tif/.tiff are rendered at 150 dpi; .svg, .pdf and .eps are vector files.
// Charts are 6×4 inches (900×600 pixels as PNG).
package plots

import "errors"

// Errors returned (wrapped with context) for invalid input.
var (
	// ErrNoData reports an empty figure, series, group or matrix.
	ErrNoData = errors.New("plots: no data")
	// ErrNaN reports a NaN value.
	ErrNaN = errors.New("plots: NaN value")
	// ErrInf reports an infinite value.
	ErrInf = errors.New("plots: infinite value")
	// ErrLength reports slices whose lengths do not match.
	ErrLength = errors.New("plots: length mismatch")
	// ErrNonPositive reports a zero or negative value on a logarithmic axis.
	ErrNonPositive = errors.New("plots: value not positive on a log axis")
	// ErrShape reports an image or matrix with an invalid shape.
	ErrShape = errors.New("plots: invalid shape")
	// ErrRange reports an invalid axis range.
	ErrRange = errors.New("plots: invalid range")
	// ErrFormat reports a file extension that has no encoder.
	ErrFormat = errors.New("plots: unsupported file format")
)
