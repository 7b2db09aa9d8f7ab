"""One rank of a torch.distributed (gloo) group, for torch/dist's
interoperability test: a Go rank and this Python rank join one group through
the TCPStore that MASTER_ADDR/MASTER_PORT name (init_method "env://", as
torchrun sets it) and exchange tensors.

Each rank r all-reduces (sum) the tensor [r+1, 10*(r+1), 100*(r+1)], then
rank 0 broadcasts [7, 8, 9] to the others; this script prints both results as JSON on
one line and exits non-zero if the sum is not what WORLD_SIZE ranks give.

    MASTER_ADDR=127.0.0.1 MASTER_PORT=29511 RANK=1 WORLD_SIZE=2 \
        python3 scripts/reference/dist_peer.py
"""
import datetime
import json
import os
import sys

import torch
import torch.distributed as dist


def main():
    dist.init_process_group("gloo", init_method="env://", timeout=datetime.timedelta(seconds=60))
    rank, world = dist.get_rank(), dist.get_world_size()
    x = torch.tensor([1.0, 10.0, 100.0]) * (rank + 1)
    dist.all_reduce(x, op=dist.ReduceOp.SUM)
    b = torch.tensor([7.0, 8.0, 9.0]) if rank == 0 else torch.zeros(3)
    dist.broadcast(b, src=0)
    dist.barrier()
    print(json.dumps({"rank": rank, "world": world, "sum": x.tolist(), "broadcast": b.tolist(),
                      "gloo": dist.is_gloo_available(), "torch": torch.__version__}))
    dist.destroy_process_group()
    want = [float(world * (world + 1) // 2 * s) for s in (1, 10, 100)]
    if x.tolist() != want:
        print(f"all-reduce gave {x.tolist()}, want {want}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
