"""Shared plumbing of torchlab's PyTorch reference scripts.

Every script reads its inputs from --in (an .npz written by the Go side) and
writes its outputs to --out, so Go tests can compare tensors by name. Run with
Debian's /usr/bin/python3, which has python3-torch.
"""
import argparse

import numpy as np
import torch


def parser(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--in", dest="inp", help="input .npz from the Go side")
    p.add_argument("--out", required=True, help="output .npz for the Go side")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    return p


def setup(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)


def load(path):
    """The input .npz as a dict of tensors (float64 becomes float32)."""
    if not path:
        return {}
    with np.load(path) as f:
        out = {}
        for k in f.files:
            a = f[k]
            if a.dtype == np.float64:
                a = a.astype(np.float32)
            out[k] = torch.from_numpy(np.ascontiguousarray(a))
        return out


def save(path, tensors):
    arrays = {}
    for k, v in tensors.items():
        if isinstance(v, torch.Tensor):
            v = v.detach().cpu().numpy()
        arrays[k] = np.asarray(v)
    np.savez(path, **arrays)


def load_state(module, tensors, prefix=""):
    """Loads module's state_dict from tensors named prefix+key; every key must be there."""
    state = {k: tensors[prefix + k] for k in module.state_dict()}
    module.load_state_dict(state, strict=True)
