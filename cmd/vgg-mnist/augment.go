package main

import (
	"fmt"
	"math/rand/v2"

	"github.com/sugarme/gotch/ts"
)

// shiftImages moves each image of x [B, 1, S, S] by a random whole number
// of pixels, at most max in each direction (--augment-shift): the digit
// seen a little off-centre, as handwriting is. The shift of an image
// depends only on the seed, the step and the image's index in the training
// split (example), so a resumed or data-parallel run draws the same ones.
// The images are rolled, which equals a shift with zero fill as long as
// max is within the empty border (MNIST centres its digits in a 20x20 box
// of the 28x28 image: four blank pixels each side, 4.6 after resizing to
// 32).
func shiftImages(x *ts.Tensor, example []int64, seed int64, step, max int) (*ts.Tensor, error) {
	parts := make([]*ts.Tensor, len(example))
	defer func() {
		for _, p := range parts {
			if p != nil {
				p.MustDrop()
			}
		}
	}()
	for i, e := range example {
		rng := rand.New(rand.NewPCG(uint64(seed)<<32^uint64(step), uint64(e)))
		dy, dx := int64(rng.IntN(2*max+1)-max), int64(rng.IntN(2*max+1)-max)
		one, err := x.Narrow(0, int64(i), 1, false)
		if err != nil {
			return nil, fmt.Errorf("shift images: %w", err)
		}
		parts[i], err = one.Roll([]int64{dy, dx}, []int64{2, 3}, true)
		if err != nil {
			return nil, fmt.Errorf("shift images: %w", err)
		}
	}
	out, err := ts.Cat(parts, 0)
	if err != nil {
		return nil, fmt.Errorf("shift images: %w", err)
	}
	return out, nil
}
