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
epoch:   one epoch end to end the usual PyTorch way (read the IDX files of
         --data-dir, a Dataset that resizes and normalises each image when
         it is fetched, a shuffling DataLoader with --workers processes,
         Adam, then evaluation in eval mode on the test set and on
         --train-eval-size training images); write the phases' seconds to
         --out as JSON (scripts/bench_vgg_epoch.sh). With --preloaded it is
         the best-effort version an expert would write: all images resized
         and normalised once into one tensor, batches taken by indexing a
         shuffled permutation (no Dataset, no DataLoader, no workers).
"""
import gzip
import json
import math
import os
import resource
import time

import numpy as np

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
    p.add_argument("mode", choices=["init", "forward", "steps", "resize", "bench", "epoch"])
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
    p.add_argument("--data-dir", help="epoch: folder with MNIST's four IDX .gz files")
    p.add_argument("--subset", type=float, default=1.0, help="epoch: stratified fraction of the training set")
    p.add_argument("--train-eval-size", type=int, default=10000)
    p.add_argument("--eval-batch-size", type=int, default=500, help="epoch: evaluation batch size")
    p.add_argument("--eval-channels-last", action="store_true",
                   help="epoch: evaluate with model and inputs in torch.channels_last (faster forward in oneDNN)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--preloaded", action="store_true", help="epoch: data as tensors once (best effort), not a DataLoader")
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
    if args.mode == "epoch":
        epoch(args)
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
    """Training throughput on MNIST-shaped random data, as cmd/bench's vgg."""
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


def read_idx(path, magic):
    """The array of an MNIST IDX .gz file (uint8), checking its magic number."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    got = int.from_bytes(data[:4], "big")
    if got != magic:
        raise SystemExit(f"{path}: magic {got:#x}, want {magic:#x}")
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(data[3])]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * len(dims)).reshape(dims)


class MNIST(torch.utils.data.Dataset):
    """MNIST images resized to 32x32 and normalised when fetched, as a
    torchvision transform pipeline (ToTensor, Resize, Normalize) does."""

    def __init__(self, root, split):
        self.images = read_idx(os.path.join(root, f"{split}-images-idx3-ubyte.gz"), 0x803)
        self.labels = torch.from_numpy(read_idx(os.path.join(root, f"{split}-labels-idx1-ubyte.gz"), 0x801).astype(np.int64))

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        x = torch.from_numpy(self.images[i].astype(np.float32) / 255).view(1, 1, 28, 28)
        x = F.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False)[0]
        return (x - 0.1307) / 0.3081, self.labels[i]


def stratified(labels, fraction, count, generator):
    """Indices of a random subset with round(fraction*n) (or, given count,
    about count/classes) examples of every class."""
    keep = []
    for c in range(10):
        idx = torch.nonzero(labels == c).flatten()
        idx = idx[torch.randperm(len(idx), generator=generator)]
        # floor(x + 0.5) rounds halves up, as Go's math.Round does.
        k = math.floor((fraction * len(idx) if count is None else count * len(idx) / len(labels)) + 0.5)
        keep.append(idx[:k])
    return torch.sort(torch.cat(keep)).values.tolist()


def epoch(args):
    """One epoch of training and evaluation, timed phase by phase."""
    start = time.perf_counter()
    g = torch.Generator().manual_seed(args.seed)
    train = MNIST(args.data_dir, "train")
    test = MNIST(args.data_dir, "t10k")
    train_idx = stratified(train.labels, args.subset, None, g)
    sub = torch.utils.data.Subset(train, train_idx)
    labels = train.labels[train_idx]
    eval_idx = [train_idx[i] for i in stratified(labels, 1.0, min(args.train_eval_size, len(train_idx)), g)]
    if args.preloaded:
        # Best effort: every image resized and normalised once, in one
        # tensor; a "loader" is then slicing a permutation of it.
        def tensors(ds, idx):
            imgs = torch.from_numpy(ds.images[idx].astype(np.float32) / 255).unsqueeze(1)
            x = F.interpolate(imgs, size=(32, 32), mode="bilinear", align_corners=False)
            return (x - 0.1307) / 0.3081, ds.labels[idx]
        data = {id(sub): tensors(train, train_idx), id(test): tensors(test, list(range(len(test))))}
        eval_sub = torch.utils.data.Subset(train, eval_idx)
        data[id(eval_sub)] = tensors(train, eval_idx)

        def loader(ds, bs, shuffle):
            x, y = data[id(ds)]
            order = torch.randperm(len(y), generator=g) if shuffle else torch.arange(len(y))
            return ((x[order[i:i + bs]], y[order[i:i + bs]]) for i in range(0, len(y), bs))
    else:
        eval_sub = torch.utils.data.Subset(train, eval_idx)
        loader = lambda ds, bs, shuffle: torch.utils.data.DataLoader(
            ds, batch_size=bs, shuffle=shuffle, num_workers=args.workers, generator=g)
    loaded = time.perf_counter()
    model = VGG(False, args.dropout, args.init)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)

    model.train()
    for x, y in loader(sub, args.batch_size, True):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    trained = time.perf_counter()

    model.eval()
    fmt = torch.channels_last if args.eval_channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    acc = {}
    with torch.no_grad():
        for name, ds in [("test", test), ("train", eval_sub)]:
            correct = n = 0
            for x, y in loader(ds, args.eval_batch_size, False):
                correct += (model(x.contiguous(memory_format=fmt)).argmax(1) == y).sum().item()
                n += len(y)
            acc[name] = correct / n
    done = time.perf_counter()
    with open(args.out, "w") as f:
        json.dump({"load_seconds": loaded - start, "train_seconds": trained - loaded,
                   "eval_seconds": done - trained, "seconds": done - start,
                   "train_images": len(train_idx), "train_eval_images": len(eval_idx),
                   "test_accuracy": acc["test"], "train_accuracy": acc["train"],
                   "threads": torch.get_num_threads(), "workers": args.workers,
                   "eval_batch_size": args.eval_batch_size, "eval_channels_last": args.eval_channels_last,
                   "mode": "best-effort" if args.preloaded else "plain"}, f)


if __name__ == "__main__":
    main()
