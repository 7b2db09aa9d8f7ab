// Package cnncalc answers the "CNN basics" questions of the assignment for a
// small convolutional network described by a one-line spec: the output shape
// and weight count of every layer, the padding that keeps a conv's output as
// large as its input, the receptive field of a neuron of the last conv layer,
// and the total weight count with no padding and with size-preserving
// padding.
//
// It is pure Go on purpose: the numbers are derived from the arithmetic alone,
// so they can be checked by hand and can later be cross-checked against a
// network built with libtorch from the same [Network] value, whose layer list
// carries every hyperparameter that nn.Conv2D, MaxPool2d and nn.Linear need.
//
// [Parse] turns a spec into a [Network] and [Analyze] computes a [Report].
// [Answers] orders it as the assignment asks: (1) the padding that keeps a
// conv's size, (2) the output sizes without padding, (3) the receptive
// field of the last conv layer, (4) the parameters when every conv keeps
// its input's size, then extra material labelled as such. [Explain] and
// [Markdown] render those answers for people, [Report.JSON] for programs.
//
// # Spec grammar
//
// Layers are separated by ';' and tokens by spaces. The assignment's
// network ([DefaultSpec]) reads
//
//	in 256x256x3; conv 100 3x3 s1; conv 50 5x5 s3; pool 2x2; conv 30 3x3 s1; pool 2x4; fc 10
//
// and the layers are:
//
//   - in HxWxC: the input image, H rows high, W columns wide, C channels.
//     It must come first and only once.
//   - conv N KHxKW [sS] [pP]: N filters KH rows high and KW columns wide, no
//     bias. sS is the stride (default 1), pP the zero padding added on each
//     side (default 0); S and P are one number for both directions or HxW.
//   - pool PHxPW: max-pooling over windows PH rows high and PW columns wide
//     with stride equal to the window, so windows do not overlap and every
//     pixel is in at most one window. Rows and columns that do not fill a
//     window are dropped (out = floor(in/P)), as PyTorch's MaxPool2d does
//     with its default stride.
//   - fc N: fully connected to N outputs, no bias. The first fc flattens its
//     input; no conv or pool may follow an fc.
//
// Every size is height x width, everywhere in this package: "pool 2x4"
// halves the height and quarters the width, and shapes are [height, width,
// channels]. As in the assignment there are no biases and no activations;
// activations would not change any shape or weight count anyway.
//
// Layers are numbered in spec order from 0: the input is layer 0, so the
// first conv is layer 1. Parse errors and [Layer.Index] use this number.
package cnncalc

// DefaultSpec is the assignment's network.
const DefaultSpec = "in 256x256x3; conv 100 3x3 s1; conv 50 5x5 s3; pool 2x2; conv 30 3x3 s1; pool 2x4; fc 10"

// Grammar is the spec grammar as a command's --help prints it.
const Grammar = `Network spec: layers separated by ';', tokens by spaces. All sizes are
height x width (rows x columns); shapes are height x width x channels.
  in HxWxC               input image; first layer, exactly once
  conv N KHxKW [sS] [pP] N filters KH high, KW wide, no bias; stride S
                         (default 1) and zero padding P on each side
                         (default 0), each one number or HxW
  pool PHxPW             max-pool, window PH high, PW wide, stride = window;
                         leftover rows/columns are dropped (floor(in/P))
  fc N                   fully connected to N outputs, no bias; flattens its
                         input; no conv or pool may follow it
Layers are numbered from 0 (the input). The assignment's network:
  ` + DefaultSpec + "\n"
