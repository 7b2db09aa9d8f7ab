package main

import (
	"testing"

	"torchlab/torch/tensors"
	"torchlab/torch/torchrt"
)

// TestShiftImages: a single lit pixel moves by at most max in each
// direction, keeps its value, moves differently for different examples and
// steps, and moves the same way again for the same seed, step and example.
func TestShiftImages(t *testing.T) {
	torchrt.Lock()
	const side, max = 32, 2
	pix := make([]float32, 3*side*side)
	for i := range 3 {
		pix[i*side*side+16*side+16] = 1 // (16, 16) lit in each image
	}
	x, err := tensors.FromFloat32(pix, 3, 1, side, side)
	if err != nil {
		t.Fatal(err)
	}
	where := func(example []int64, step int) [][2]int {
		out, err := shiftImages(x, example, 7, step, max)
		if err != nil {
			t.Fatal(err)
		}
		v, err := tensors.Float32s(out)
		out.MustDrop()
		if err != nil {
			t.Fatal(err)
		}
		var pos [][2]int
		for i := range 3 {
			lit := 0
			for p, f := range v[i*side*side : (i+1)*side*side] {
				if f != 0 {
					if f != 1 {
						t.Fatalf("image %d: pixel value %v, want 1", i, f)
					}
					pos = append(pos, [2]int{p/side - 16, p%side - 16})
					lit++
				}
			}
			if lit != 1 {
				t.Fatalf("image %d: %d lit pixels after the shift, want 1", i, lit)
			}
		}
		return pos
	}
	a := where([]int64{10, 11, 12}, 5)
	moved := false
	for _, d := range a {
		if d[0] < -max || d[0] > max || d[1] < -max || d[1] > max {
			t.Errorf("shift %v beyond %d pixels", d, max)
		}
		moved = moved || d != a[0]
	}
	if !moved {
		t.Errorf("three examples all shifted by %v", a[0])
	}
	if b := where([]int64{10, 11, 12}, 5); b[0] != a[0] || b[1] != a[1] || b[2] != a[2] {
		t.Errorf("same seed, step and examples: shifts %v then %v", a, b)
	}
	if c := where([]int64{11, 10, 12}, 5); c[0] != a[1] || c[1] != a[0] {
		t.Errorf("an example's shift depends on its place in the batch: %v against %v", c, a)
	}
}
