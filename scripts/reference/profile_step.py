"""Where one training step's time goes, op by op, in libtorch on this CPU.

Go (gotch) and these PyTorch modules call the same libtorch kernels with the
same shapes (the modules mirror models/ name for name, and the benchmarks
show the two within a few per cent per step), so torch.profiler's table of
PyTorch's step is the profile of Go's step too.

For each model it times STEPS training steps (Adam, random data, batch 64,
the shapes the training commands use) in three ways that change which conv
kernels libtorch picks, and prints the fastest variant's top ops:

  default        NCHW tensors, oneDNN (mkldnn) enabled: what Go runs
  channels-last  model and input in channels_last memory format
  no-oneDNN      torch.backends.mkldnn disabled (libtorch's own im2col+gemm)

  /usr/bin/python3 scripts/reference/profile_step.py --model resnet-vae --threads 2

It prints one JSON line per variant with ms/step and, where the model's
forward FLOPs are given, GFLOP/s (forward + backward counted as 3x forward),
then the top ops of the default variant by self CPU time.

--phase eval times the evaluation instead: eval mode, no grad, forward
only (GFLOP/s counts 1x forward), as the training commands evaluate:

  /usr/bin/python3 scripts/reference/profile_step.py --model vgg --phase eval --batch-size 100
"""
import argparse
import json
import time

import torch
from torch.profiler import ProfilerActivity, profile

import vae_galaxy
import vgg_mnist


def conv_flops(model, x):
    """Forward FLOPs of one image through model's convs and linears, from hooks."""
    total = [0]

    def hook(m, inp, out):
        if isinstance(m, torch.nn.Conv2d):
            k = m.kernel_size[0] * m.kernel_size[1]
            total[0] += 2 * m.in_channels // m.groups * m.out_channels * k * out[0].numel() // m.out_channels
        elif isinstance(m, torch.nn.ConvTranspose2d):
            k = m.kernel_size[0] * m.kernel_size[1]
            # Each input pixel scatters Cout*k*k products.
            total[0] += 2 * m.in_channels * m.out_channels * k * inp[0][0].numel() // m.in_channels
        elif isinstance(m, torch.nn.Linear):
            total[0] += 2 * m.in_features * m.out_features

    hooks = [m.register_forward_hook(hook) for m in model.modules()]
    with torch.no_grad():
        model.eval()
        model(x[:1])
        model.train()
    for h in hooks:
        h.remove()
    return total[0]


def build(name, batch):
    if name == "vgg":
        model = vgg_mnist.VGG()
        x = torch.randn(batch, 1, 32, 32)
        y = torch.randint(0, 10, (batch,))
        loss = lambda: torch.nn.functional.cross_entropy(model(x), y)
    else:
        arch = name.split("-")[0]
        model = vae_galaxy.VAE(arch, 32, 64)
        x = torch.rand(batch, 3, 64, 64)

        def loss():
            logits, mu, logvar = model(x)
            return vae_galaxy.bernoulli_nll(logits, x) + vae_galaxy.kl_divergence(mu, logvar)
    return model, x, loss


def run(name, variant, args):
    torch.manual_seed(0)
    model, x, loss_fn = build(name, args.batch_size)
    flops = conv_flops(model, x)
    if variant == "channels-last":
        model = model.to(memory_format=torch.channels_last)
        x.data = x.data.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step():
        opt.zero_grad()
        loss_fn().backward()
        opt.step()

    passes = 3  # forward + backward, counted as 3x forward
    if args.phase == "eval":
        model.eval()
        passes = 1

        @torch.no_grad()
        def step():
            model(x)

    with torch.backends.mkldnn.flags(enabled=variant != "no-oneDNN"):
        for _ in range(args.warmup):
            step()
        start = time.perf_counter()
        for _ in range(args.steps):
            step()
        secs = (time.perf_counter() - start) / args.steps
        table = None
        if variant == "default":
            with profile(activities=[ProfilerActivity.CPU]) as prof:
                for _ in range(args.profile_steps):
                    step()
            table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.rows)
    gflops = passes * flops * args.batch_size / secs / 1e9
    print(json.dumps({"model": name, "phase": args.phase, "variant": variant, "threads": torch.get_num_threads(),
                      "batch": args.batch_size, "ms_per_step": round(secs * 1e3, 1),
                      "forward_gflop_per_image": round(flops / 1e9, 4),
                      "gflops": round(gflops, 1)}), flush=True)
    return table


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="resnet-vae", choices=["resnet-vae", "conv-vae", "vgg"])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--phase", default="train", choices=["train", "eval"])
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--profile-steps", type=int, default=2)
    p.add_argument("--rows", type=int, default=15)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    table = None
    for variant in ["default", "channels-last", "no-oneDNN"]:
        t = run(args.model, variant, args)
        table = table or t
    print(f"\nTop ops of the default variant ({args.profile_steps} steps, self CPU time):")
    print(table)


if __name__ == "__main__":
    main()
