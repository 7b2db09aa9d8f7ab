"""What torchrun's agent does for its default static rendezvous, in a page.

  torchrun_agent.py --nproc N [--master-port P] [--threads T] -- COMMAND [ARGS...]

Hosts a torch.distributed.TCPStore on 127.0.0.1 (port P, or a free one),
as torchrun's agent does, and starts N copies of COMMAND with the
environment torchrun gives its workers: MASTER_ADDR, MASTER_PORT, RANK,
LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, GROUP_RANK, ROLE_RANK,
ROLE_WORLD_SIZE, OMP_NUM_THREADS, TORCHELASTIC_USE_AGENT_STORE=True (the
store is the agent's: every rank, rank 0 included, joins it as a client),
TORCHELASTIC_RESTART_COUNT=0, TORCHELASTIC_MAX_RESTARTS=0 and
TORCHELASTIC_RUN_ID. It exits 0 when every rank does, else with the first
failing rank's status, naming it.

It exists because Debian's /usr/bin/torchrun (python3-torch 1.13 on Python
3.11) fails before it starts any worker (AttributeError: 'NoneType' object
has no attribute 'get', in elastic/multiprocessing/api.py to_map), so the Go
ranks' side of torchrun's contract is tested with this stand-in.
"""
import argparse
import os
import subprocess
import sys
from datetime import timedelta

import torch.distributed as dist


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nproc", type=int, default=2)
    p.add_argument("--master-port", type=int, default=0, help="0: a free port")
    p.add_argument("--threads", type=int, default=1, help="OMP_NUM_THREADS of each rank")
    p.add_argument("--timeout", type=float, default=120, help="seconds the store waits for a key")
    p.add_argument("command", nargs=argparse.REMAINDER)
    args = p.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        p.error("no command")
    store = dist.TCPStore("127.0.0.1", args.master_port, is_master=True,
                          timeout=timedelta(seconds=args.timeout), wait_for_workers=False)
    base = dict(os.environ,
                MASTER_ADDR="127.0.0.1", MASTER_PORT=str(store.port),
                WORLD_SIZE=str(args.nproc), LOCAL_WORLD_SIZE=str(args.nproc),
                ROLE_WORLD_SIZE=str(args.nproc), GROUP_RANK="0", ROLE_NAME="default",
                OMP_NUM_THREADS=str(args.threads),
                TORCHELASTIC_USE_AGENT_STORE="True", TORCHELASTIC_RESTART_COUNT="0",
                TORCHELASTIC_MAX_RESTARTS="0", TORCHELASTIC_RUN_ID="torchlab-test")
    ranks = []
    for r in range(args.nproc):
        env = dict(base, RANK=str(r), LOCAL_RANK=str(r), ROLE_RANK=str(r))
        ranks.append(subprocess.Popen(command, env=env))
    status = 0
    for r, proc in enumerate(ranks):
        code = proc.wait()
        if code != 0 and status == 0:
            print(f"torchrun_agent: rank {r} exited with status {code}", file=sys.stderr)
            status = code if code > 0 else 1
    del store
    return status


if __name__ == "__main__":
    sys.exit(main())
