package train

import "math/rand"

// EpochOrder is the shuffled order of n training examples in an epoch: a
// function of the seed and the epoch only, so that a resumed run replays
// the order an uninterrupted one would have used.
func EpochOrder(seed int64, epoch, n int) []int {
	return rand.New(rand.NewSource(seed*1_000_003 + int64(epoch))).Perm(n)
}
