package analysis

// ActiveThreshold is Burda et al. (2016)'s: a latent dimension is active
// when its encoder mean varies over the images with a variance above it.
const ActiveThreshold = 0.01

// ActiveUnits counts the dimensions of the n encoder means mu ([n, z],
// row-major) whose variance over the images exceeds threshold: the units
// the model uses (an inactive one has collapsed to the prior).
func ActiveUnits(mu []float32, n, z int, threshold float64) int {
	if n < 2 {
		return 0
	}
	count := 0
	for j := range z {
		var sum, sq float64
		for i := range n {
			v := float64(mu[i*z+j])
			sum += v
			sq += v * v
		}
		mean := sum / float64(n)
		if sq/float64(n)-mean*mean > threshold {
			count++
		}
	}
	return count
}
