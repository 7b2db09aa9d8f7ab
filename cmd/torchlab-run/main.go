// Command torchlab-run starts a data-parallel training run on this machine,
// as torchrun --nproc_per_node does: N copies of a training command, each
// with the environment of one rank (MASTER_ADDR, MASTER_PORT, RANK,
// WORLD_SIZE, LOCAL_RANK), the machine's cores shared out among them. It
// forwards Ctrl-C and SIGTERM to every rank (rank 0 saves the checkpoint),
// and exits non-zero, naming the rank, if any rank fails; the other ranks
// then stop at their next collective.
//
// Usage:
//
//	torchlab-run --nproc 2 -- bin/vae-galaxy train --arch conv --out out/conv
//	torchlab-run --nproc 2 --nnodes 2 --node-rank 0 --master-addr 10.0.0.1 --master-port 29500 -- bin/lstm-tweets train
//
// Ranks on one machine are numbered node-rank*nproc .. node-rank*nproc+nproc-1.
// Each rank's output lines are prefixed with "[rank R]".
package main

import (
	"torchlab/internal/cli"
	"torchlab/internal/launch"
)

func main() {
	cli.Main("torchlab-run", launch.Main)
}
