package vgg

// ForwardMACs counts the multiply-accumulates of one forward pass of one
// size x size image through the convolutions and linear layers (pooling,
// ReLU and batch norm are a rounding error beside them). A training step
// costs about three times as much: the forward pass, and the gradients with
// respect to the inputs and to the weights in the backward pass.
func (cfg Config) ForwardMACs(size int64) int64 {
	var macs int64
	in, s := cfg.InChannels, size
	for _, c := range ConfigA {
		if c == Pool {
			s /= 2
			continue
		}
		macs += s * s * c * in * 3 * 3
		in = c
	}
	features := in * s * s
	macs += features*cfg.Hidden + cfg.Hidden*cfg.Hidden + cfg.Hidden*cfg.NumClasses
	return macs
}

// TrainFLOPs is the floating-point operations of one training step per
// image: 2 per multiply-accumulate, times 3 for forward and backward.
func (cfg Config) TrainFLOPs(size int64) int64 { return 2 * 3 * cfg.ForwardMACs(size) }
