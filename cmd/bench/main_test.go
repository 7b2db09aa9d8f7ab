package main

import (
	"bytes"
	"encoding/json"
	"testing"

	"torchlab/internal/crashtest"
)

func TestMain(m *testing.M) { crashtest.Main(m, main) }

// TestBadFlagsExit: a bad bench command line exits 2 naming the nearest
// subcommand or flag.
func TestBadFlagsExit(t *testing.T) {
	crashtest.BadFlags(t, []crashtest.BadFlag{
		{Args: nil, Code: 2, Want: "no subcommand: say which (vgg)"},
		{Args: []string{"vgh"}, Code: 2, Want: "did you mean vgg?"},
		{Args: []string{"vgg", "--stepz", "3"}, Code: 2, Want: "did you mean --steps?"},
	})
}

// TestVGGPrintsOneJSONLine times one tiny step and evaluation: the line
// carries the speeds and the peaks the scripts read.
func TestVGGPrintsOneJSONLine(t *testing.T) {
	var out bytes.Buffer
	args := []string{"vgg", "--threads", "1", "--steps", "1", "--warmup", "0", "--batch-size", "2",
		"--eval-images", "4", "--eval-batch-size", "2", "--matmul-size", "64", "--matmul-reps", "1"}
	if err := run(args, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	var r benchResult
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v: %s", err, out.Bytes())
	}
	if r.ImagesPerSecond <= 0 || r.EvalImagesPerSecond <= 0 || r.MatmulGFLOPS <= 0 || r.Steps != 1 || r.BatchSize != 2 {
		t.Errorf("bench vgg: %s", out.Bytes())
	}
}
