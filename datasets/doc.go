// Package datasets reads torchlab's three data sets (MNIST, tweet sentiment
// and Galaxy Zoo) into plain Go slices, ready to be copied into tensors.
//
// The package is pure Go on purpose: it does not import gotch, so data
// loading can be built and tested without libtorch.
//
// # Layout
//
// Images are float32 in NCHW order (image, channel, row, column). Labels are
// int64 because that is what cross-entropy in libtorch expects.
//
// # MNIST
//
// LoadMNIST reads the IDX files, scales pixels to [0,1], resizes 28x28 to
// size x size with bilinear interpolation (align_corners=False, the same
// arithmetic as torch.nn.functional.interpolate) and normalises with the
// usual MNIST mean 0.1307 and std 0.3081.
//
// # Tweet text encoding
//
// EncodeText turns a tweet into ASCII codes 0..127, one code per step:
//
//  1. HTML entities are unescaped first (html.UnescapeString), because the
//     scraped CSV keeps "&amp;", "&quot;", "&lt;" and the model should see
//     the character, not the entity;
//  2. every rune outside 0..127 becomes 26 (ASCII SUB, "substitute"), one
//     code per rune, so a multi-byte character is one step; an invalid UTF-8
//     byte decodes as U+FFFD and so also becomes one 26;
//  3. an empty result becomes a single space, so every sequence has length
//     at least 1.
//
// # Galaxy Zoo classes
//
// The Kaggle solutions give 37 vote fractions per galaxy. GalaxyClass turns
// them into one of seven classes with the Galaxy Zoo decision tree, and this
// is the only place the rule is defined:
//
//   - star-artifact: Class1.3 (star or artifact) is strictly the largest
//     answer of question 1;
//   - otherwise, if Class1.1 (smooth) >= Class1.2 (features or disk), the
//     galaxy is smooth and the largest answer of question 7 (first wins a
//     tie) picks smooth-round (Class7.1), smooth-inbetween (Class7.2) or
//     smooth-cigar (Class7.3);
//   - otherwise it is a disk: edge-on if Class2.1 > Class2.2; else spiral if
//     Class4.1 > Class4.2; else disk-no-spiral.
//
// Galaxy images are centre-cropped, shrunk with an exact area-averaging
// (box) filter and cached on disk, because decoding thousands of JPEGs takes
// seconds while reading the prepared floats back takes a fraction of that.
package datasets
