package main

import (
	"bytes"
	"io"
	"log"
	"slices"
	"testing"

	"torchlab/torch/torchrt"
)

// TestSplitSeedKeepsTheSplit: --seed changes the initialisation and the
// batch order, not which training tweets validate; --split-seed does.
func TestSplitSeedKeepsTheSplit(t *testing.T) {
	torchrt.Lock()
	_, common := fixture(t)
	valTweets := func(extra ...string) []string {
		t.Helper()
		args := append(append([]string{"--out", t.TempDir(), "--val-fraction", "0.25"}, common...), extra...)
		cfg, err := parseTrain(args, &bytes.Buffer{}, &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		s, _, err := newTask(&cfg, log.New(io.Discard, "", 0))
		if err != nil {
			t.Fatal(err)
		}
		var tweets []string
		for _, seq := range s.valSet.Seqs {
			tweets = append(tweets, string(seq))
		}
		if len(tweets) == 0 {
			t.Fatal("no validation tweets")
		}
		return tweets
	}
	base := valTweets("--seed", "1")
	if !slices.Equal(valTweets("--seed", "2"), base) {
		t.Error("--seed 2 changed the validation split")
	}
	if slices.Equal(valTweets("--seed", "1", "--split-seed", "2"), base) {
		t.Error("--split-seed 2 kept the validation split of --split-seed 1")
	}
}
