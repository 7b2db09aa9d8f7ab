package main

import (
	"fmt"
	"path/filepath"
	"testing"

	"torchlab/internal/crashtest"
	"torchlab/internal/runrec"
)

func TestMain(m *testing.M) { crashtest.Main(m, main) }

// TestKillResumeMetricsOnce kills a run with SIGKILL in the middle,
// resumes it, and finds every evaluation's rows exactly once. (This
// command saves at every evaluation, so a kill lands beyond the checkpoint
// only between writing the rows and saving; the rows are checked either way.)
func TestKillResumeMetricsOnce(t *testing.T) {
	dir, common := fixture(t)
	out := filepath.Join(dir, "run")
	args := append([]string{"train", "--out", out, "--iterations", "60", "--eval-every", "4"}, common...)
	var want []string
	for it := 0; it <= 60; it += 4 {
		want = append(want, fmt.Sprintf("%d train", it), fmt.Sprintf("%d val", it), fmt.Sprintf("%d test", it))
	}
	crashtest.Run{Out: out, Args: args, ResumeArgs: append(args, "--resume"), StepColumn: runrec.ColStep, MinRows: 8, Want: want}.Check(t)
}

// TestKilledRankStopsTheRunAndOneProcessResumes runs 2 ranks, kills rank 1
// with SIGKILL after a checkpoint: rank 0 must stop with an error naming
// rank 1 (not hang), and the run then resumes from rank 0's checkpoint as
// one process, with every evaluation's rows once.
func TestKilledRankStopsTheRunAndOneProcessResumes(t *testing.T) {
	dir, common := fixture(t)
	out := filepath.Join(dir, "run")
	args := append([]string{"train", "--out", out, "--iterations", "200", "--eval-every", "4", "--dist-timeout", "20s"}, common...)
	var want []string
	for it := 0; it <= 200; it += 4 {
		want = append(want, fmt.Sprintf("%d train", it), fmt.Sprintf("%d val", it), fmt.Sprintf("%d test", it))
	}
	run := crashtest.Run{Out: out, Args: args, ResumeArgs: append(args, "--resume"), StepColumn: runrec.ColStep, MinRows: 8, Want: want}
	run.CheckRanks(t, 2)
}
