package cnncalc_test

import (
	"fmt"
	"log"

	"torchlab/internal/cnncalc"
)

func ExampleAnalyze() {
	net, err := cnncalc.Parse(cnncalc.DefaultSpec)
	if err != nil {
		log.Fatal(err)
	}
	r, err := cnncalc.Analyze(net)
	if err != nil {
		log.Fatal(err)
	}
	for _, l := range r.Layers {
		fmt.Printf("%s %v %d\n", l.Name, l.Out, l.Params)
	}
	fmt.Println("same padding per conv:", r.SamePadding[0].Pad, r.SamePadding[1].Pad, r.SamePadding[2].Pad)
	fmt.Println("receptive field:", r.ReceptiveField)
	fmt.Println("weights without padding:", r.ParamsNoPadding)
	fmt.Println("weights keeping sizes:", r.ParamsSameSize)
	// Output:
	// conv1 [254 254 100] 2700
	// conv2 [84 84 50] 125000
	// pool1 [42 42 50] 0
	// conv3 [40 40 30] 13500
	// pool2 [20 10 30] 0
	// fc1 [1 1 10] 60000
	// same padding per conv: [1 1] [2 2] [1 1]
	// receptive field: [22 22]
	// weights without padding: 201200
	// weights keeping sizes: 755600
}

func ExampleParse_error() {
	_, err := cnncalc.Parse("in 256x256x3; conv 100 3x3 s1; conv 50 5x5 s0")
	fmt.Println(err)
	// Output:
	// spec layer 2 "conv 50 5x5 s0": token "s0": stride: 0 is not positive
}
