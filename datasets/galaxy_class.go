package datasets

import (
	"fmt"
	"strings"
)

// Indices into GalaxyRow.Answers used by the class rule.
const (
	q1Smooth   = 0  // Class1.1
	q1Features = 1  // Class1.2
	q1Star     = 2  // Class1.3
	q2EdgeOn   = 3  // Class2.1
	q2NotEdge  = 4  // Class2.2
	q4Spiral   = 7  // Class4.1
	q4NoSpiral = 8  // Class4.2
	q7Round    = 15 // Class7.1; 7.2 and 7.3 follow
)

// Class is a galaxy morphology class derived from the vote fractions.
type Class int

// The seven classes; the rule is in the package doc and GalaxyClass.
const (
	SmoothRound Class = iota
	SmoothInBetween
	SmoothCigar
	EdgeOn
	Spiral
	DiskNoSpiral
	StarArtifact
	NumClasses = 7 // number of classes, for output layers and counts
)

var classNames = [NumClasses]string{
	"smooth-round", "smooth-inbetween", "smooth-cigar",
	"edge-on", "spiral", "disk-no-spiral", "star-artifact",
}

// String returns the class name used by ParseClass and in reports.
func (c Class) String() string {
	if c < 0 || c >= NumClasses {
		return fmt.Sprintf("Class(%d)", int(c))
	}
	return classNames[c]
}

// ParseClass returns the class with the given name (case-insensitive).
func ParseClass(name string) (Class, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	for c, s := range classNames {
		if s == n {
			return Class(c), nil
		}
	}
	return 0, fmt.Errorf("unknown galaxy class %q (want one of %s)", name, strings.Join(classNames[:], ", "))
}

// GalaxyClass applies the decision-tree rule of the package doc.
func GalaxyClass(a [GalaxyAnswers]float32) Class {
	switch {
	case a[q1Star] > a[q1Smooth] && a[q1Star] > a[q1Features]:
		return StarArtifact
	case a[q1Smooth] >= a[q1Features]:
		best := 0
		for k := 1; k < 3; k++ {
			if a[q7Round+k] > a[q7Round+best] {
				best = k
			}
		}
		return SmoothRound + Class(best)
	case a[q2EdgeOn] > a[q2NotEdge]:
		return EdgeOn
	case a[q4Spiral] > a[q4NoSpiral]:
		return Spiral
	default:
		return DiskNoSpiral
	}
}

// ClassCounts returns how many of classes fall in each class.
func ClassCounts(classes []Class) [NumClasses]int {
	var n [NumClasses]int
	for _, c := range classes {
		if c >= 0 && c < NumClasses {
			n[c]++
		}
	}
	return n
}
