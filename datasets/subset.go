package datasets

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
)

// StratifiedSubset returns the sorted indices of a deterministic random
// subset that keeps round(fraction*count) examples of every class.
func StratifiedSubset(labels []int64, fraction float64, seed int64) ([]int, error) {
	if !(fraction > 0 && fraction <= 1) {
		return nil, fmt.Errorf("stratified subset: fraction %v must be in (0, 1]", fraction)
	}
	byClass, classes := groupByClass(labels)

	rng := rand.New(rand.NewSource(seed))
	var keep []int
	for _, c := range classes {
		idx := byClass[c]
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		k := int(math.Round(fraction * float64(len(idx))))
		keep = append(keep, idx[:k]...)
	}
	slices.Sort(keep)
	return keep, nil
}

// SplitTrainTest deterministically splits 0..n-1 into train and test
// indices, round(testFraction*n) of them test; both are returned sorted
// (shuffling for batches is the training loop's job).
func SplitTrainTest(n int, testFraction float64, seed int64) (train, test []int, err error) {
	if n < 0 {
		return nil, nil, fmt.Errorf("split: n %d is negative", n)
	}
	if !(testFraction >= 0 && testFraction < 1) {
		return nil, nil, fmt.Errorf("split: test fraction %v must be in [0, 1)", testFraction)
	}
	perm := rand.New(rand.NewSource(seed)).Perm(n)
	nTest := int(math.Round(testFraction * float64(n)))
	test, train = perm[:nTest:nTest], perm[nTest:]
	slices.Sort(test)
	slices.Sort(train)
	return train, test, nil
}

// ValCount is the size of a validation split of fraction of n examples,
// round(fraction*n).
func ValCount(n int, fraction float64) (int, error) {
	if !(fraction >= 0 && fraction < 1) {
		return 0, fmt.Errorf("validation fraction %v must be in [0, 1)", fraction)
	}
	return int(math.Round(fraction * float64(n))), nil
}

// StratifiedSplit deterministically splits the examples 0..len(labels)-1
// into train and validation indices, exactly valCount of them validation,
// stratified by label: each class gives floor or ceil of its share
// valCount*classSize/len(labels) (the largest remainders get the ceil, ties
// to the smaller label). Both are returned sorted. The same labels, count
// and seed give the same split.
func StratifiedSplit(labels []int64, valCount int, seed int64) (train, val []int, err error) {
	n := len(labels)
	if valCount < 0 || valCount > n {
		return nil, nil, fmt.Errorf("stratified split: %d validation examples of %d", valCount, n)
	}
	byClass, classes := groupByClass(labels)

	// Largest-remainder apportionment of valCount over the classes.
	take := make([]int, len(classes))
	rem := make([]int, len(classes)) // remainders in units of 1/n
	given := 0
	for k, c := range classes {
		share := valCount * len(byClass[c])
		take[k], rem[k] = share/n, share%n
		given += take[k]
	}
	order := make([]int, len(classes))
	for k := range order {
		order[k] = k
	}
	slices.SortStableFunc(order, func(a, b int) int { return rem[b] - rem[a] })
	for _, k := range order[:valCount-given] {
		take[k]++
	}

	rng := rand.New(rand.NewSource(seed))
	for k, c := range classes {
		idx := byClass[c]
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		val = append(val, idx[:take[k]]...)
		train = append(train, idx[take[k]:]...)
	}
	slices.Sort(train)
	slices.Sort(val)
	return train, val, nil
}

// groupByClass returns the indices of each label and the labels in
// ascending order: callers visit classes in that order so the random
// stream, and so the result, does not depend on map iteration order.
func groupByClass(labels []int64) (map[int64][]int, []int64) {
	byClass := map[int64][]int{}
	for i, l := range labels {
		byClass[l] = append(byClass[l], i)
	}
	classes := make([]int64, 0, len(byClass))
	for c := range byClass {
		classes = append(classes, c)
	}
	slices.Sort(classes)
	return byClass, classes
}
