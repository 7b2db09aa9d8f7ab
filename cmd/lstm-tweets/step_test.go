package main

import (
	"math"
	"testing"
)

// TestDropChars: about the asked share of characters becomes 0, the rest
// are kept, the input is not changed, and the same seed, iteration and
// examples drop the same characters.
func TestDropChars(t *testing.T) {
	seq := make([]uint8, 2000)
	for i := range seq {
		seq[i] = 'a' + uint8(i%26)
	}
	seqs := [][]uint8{seq, seq}
	a := dropChars(seqs, []int{4, 9}, 1, 17, 0.1)
	for k, s := range a {
		zero := 0
		for j, c := range s {
			switch c {
			case 0:
				zero++
			case seq[j]:
			default:
				t.Fatalf("tweet %d char %d became %q", k, j, c)
			}
		}
		if share := float64(zero) / float64(len(s)); math.Abs(share-0.1) > 0.02 {
			t.Errorf("tweet %d: %.3f of the characters dropped, want ~0.1", k, share)
		}
	}
	if string(a[0]) == string(a[1]) {
		t.Error("two examples dropped the same characters")
	}
	if b := dropChars(seqs, []int{4, 9}, 1, 17, 0.1); string(b[0]) != string(a[0]) || string(b[1]) != string(a[1]) {
		t.Error("same seed, iteration and examples dropped different characters")
	}
	for _, c := range seq {
		if c == 0 {
			t.Fatal("dropChars changed its input")
		}
	}
}
