"""PyTorch reference for torchlab's VGG11 on MNIST (models/vgg, cmd/vgg-mnist).

The module tree mirrors torchvision's VGG (features.N, classifier.N) so that
state_dict names equal the Go model's parameter names.

init:    seed, build the model, write its state_dict (initialisation parity).
forward: load weights and x from --in; write logits (eval mode) and, with
         batch norm, logits_train (train mode, dropout off).
steps:   load weights, run SGD on batches xs[i], ys[i] with dropout off and
         write the loss before each step.
resize:  resize images [N, H, W] in [0, 1] to --size with
         F.interpolate(mode="bilinear", align_corners=False).
bench:   time training steps on random data of MNIST's shape and a large
         matmul; write images/s, peak RSS and GFLOP/s to --out as JSON.
"""
import json
import resource
import time

import torch
import torch.nn.functional as F
from torch import nn

import common

CONFIG_A = [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]


class VGG(nn.Module):
    def __init__(self, batch_norm=False, dropout=0.5, init="torchvision",
                 in_channels=1, classes=10, hidden=4096):
        super().__init__()
        mods, c = [], in_channels
        for v in CONFIG_A:
            if v == "M":
                mods.append(nn.MaxPool2d(2, 2))
                continue
            mods.append(nn.Conv2d(c, v, 3, padding=1))
            if batch_norm:
                mods.append(nn.BatchNorm2d(v))
            mods.append(nn.ReLU(inplace=True))
            c = v
        self.features = nn.Sequential(*mods)
        self.classifier = nn.Sequential(
            nn.Linear(c, hidden), nn.ReLU(True), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.ReLU(True), nn.Dropout(dropout),
            nn.Linear(hidden, classes))
        if init == "torchvision":
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x):
        h = self.features(x)            # [N, 512, 1, 1]
        return self.classifier(torch.flatten(h, 1))  # [N, classes]


def main():
    p = common.parser(__doc__)
    p.add_argument("mode", choices=["init", "forward", "steps", "resize", "bench"])
    p.add_argument("--batch-norm", action="store_true")
    p.add_argument("--dropout", type=float, default=0.5)
    p.add_argument("--init", default="torchvision")
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    args = p.parse_args()
    common.setup(args)
    if args.mode == "resize":
        t = common.load(args.inp)
        x = t["images"].unsqueeze(1)    # [N, 1, H, W]
        y = F.interpolate(x, size=(args.size, args.size), mode="bilinear", align_corners=False)
        common.save(args.out, {"resized": y.squeeze(1)})
        return
    if args.mode == "bench":
        bench(args)
        return
    model = VGG(args.batch_norm, args.dropout, args.init)
    if args.mode == "init":
        common.save(args.out, model.state_dict())
        return
    t = common.load(args.inp)
    common.load_state(model, t)
    out = {}
    if args.mode == "forward":
        with torch.no_grad():
            model.eval()
            out["logits"] = model(t["x"])
            if args.batch_norm:
                model.train()
                out["logits_train"] = model(t["x"])
                for k, v in model.state_dict().items():
                    if "running" in k:
                        out[k] = v
    else:  # steps
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum,
                              weight_decay=args.weight_decay)
        losses = []
        for x, y in zip(t["xs"], t["ys"]):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        out["losses"] = torch.tensor(losses, dtype=torch.float64)
    common.save(args.out, out)


def bench(args):
    """Training throughput on MNIST-shaped random data, as cmd/vgg-mnist's bench."""
    model = VGG(args.batch_norm, args.dropout, args.init)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    x = torch.randn(args.batch_size, 1, 32, 32)
    y = torch.randint(0, 10, (args.batch_size,))

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    model.train()
    for _ in range(args.warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        step()
    secs = time.perf_counter() - t0
    # ru_maxrss is in kB on Linux.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    with open(args.out, "w") as f:
        json.dump({"images_per_second": args.steps * args.batch_size / secs,
                   "seconds": secs, "steps": args.steps, "batch_size": args.batch_size,
                   "threads": torch.get_num_threads(), "peak_rss_bytes": peak,
                   "torch": torch.__version__}, f)


if __name__ == "__main__":
    main()
