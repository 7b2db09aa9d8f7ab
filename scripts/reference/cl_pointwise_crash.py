"""Reproduces a libtorch 1.13 heap corruption with stock PyTorch (Debian's
python3-torch, the libtorch torchlab links).

A 1x1 convolution with stride 2 whose weight is laid out channels-last
writes outside its buffers in backward once the batch size changes
between calls. The resnet VAE's skips are such convolutions, and an
epoch's short last batch changes the size: `vae-galaxy train --arch
resnet --channels-last` aborted at step 2 with "corrupted double-linked
list" or "free(): invalid size" until torchlab ran these skips as a
stride-1 convolution of every second pixel (fused.Conv2dPointwiseStrided),
which this script's "slice" mode shows is safe.

glibc's checking allocator turns the corruption into a crash at once:

    LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libc_malloc_debug.so.0 MALLOC_CHECK_=3 \\
        /usr/bin/python3 scripts/reference/cl_pointwise_crash.py MODE

MODE:
  vary    channels-last, batches of 64 and 53 in turn: crashes
  nchw    the same with the default layout: runs
  fixed   channels-last, always 64: runs
  slice   channels-last, batches vary, x[:, :, ::2, ::2] at stride 1: runs
Prints "ok" when the loop finishes.
"""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=["vary", "nchw", "fixed", "slice"])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 32, 1, 2, bias=False)
    if args.mode != "nchw":
        conv = conv.to(memory_format=torch.channels_last)
    for step in range(args.steps):
        n = 64 if args.mode == "fixed" else [64, 53][step % 2]
        x = torch.rand(n, 3, 64, 64)  # no gradient, as the model's input
        if args.mode != "nchw":
            x = x.contiguous(memory_format=torch.channels_last)
        if args.mode == "slice":
            y = F.conv2d(x[:, :, ::2, ::2], conv.weight)
        else:
            y = conv(x)
        y.square().sum().backward()
    print("ok", flush=True)


if __name__ == "__main__":
    main()
