package main

import (
	"testing"

	"torchlab/internal/crashtest"
)

// TestBadFlagsExit covers every vae-galaxy subcommand: bad values exit 2
// with a message naming them, before data loading, with no --out created
// (crashtest.BadFlags); the training subcommands on missing data exit 1.
func TestBadFlagsExit(t *testing.T) {
	train := crashtest.TrainArgs
	crashtest.BadFlags(t, []crashtest.BadFlag{
		{Args: nil, Code: 2, Want: "no subcommand: say which (train, plots, iwae, export)"},
		{Args: []string{"iwea"}, Code: 2, Want: `(did you mean iwae?)`},
		{Args: train("--epoch", "1"), Code: 2, Want: "unknown flag --epoch (did you mean --epochs?)"},
		{Args: train("--lr", "-0.001"), Code: 2, Want: "--lr must be > 0 (got -0.001)"},
		{Args: train("--epochs", "0"), Code: 2, Want: "--epochs must be >= 1 (got 0)"},
		{Args: train("--batch-size", "1"), Code: 2, Want: "--batch-size must be >= 2 (got 1)"},
		{Args: train("--arch", "vgg"), Code: 2, Want: `--arch must be one of mlp, conv, resnet, resnet-iaf (got "vgg")`},
		{Args: train("--image-size", "48"), Code: 2, Want: "--image-size must be a positive multiple of 32 for --arch conv, resnet and resnet-iaf (got 48)"},
		{Args: train("--class", "elliptical"), Code: 2, Want: `--class: unknown galaxy class "elliptical"`},
		{Args: train("--val-fraction", "-0.1"), Code: 2, Want: "--val-fraction must be in [0, 1) (got -0.1)"},
		{Args: train("--limit", "-1"), Code: 2, Want: "--data-size must be >= 0 (got -1)"}, // the old spelling
		{Args: []string{"plots", "--class", "spiral"}, Code: 2, Want: "--out is required"},
		{Args: []string{"iwae", "--out", "$OUT", "--from", "newest"}, Code: 2, Want: `--from must be one of best, last (got "newest")`},
		{Args: train(), Code: 1, Want: "no-data"},
	})
}
