"""Reference for torchlab's character-level LSTM (models/charlstm), written
the plain PyTorch way: one-hot float input, padded batch, nn.LSTM, the output
at each tweet's last real character, nn.Linear, log-softmax, NLL.

forward: load weights, padded codes [B, T] and lengths [B]; write logp [B, 2].
train:   load weights and S batches (codes [S, B, T], lengths [S, B],
         labels [S, B]); write logp of batch 0, then for each optimizer of
         --optimizer (from the same weights) take S steps and write
         NAME.losses [S] and the final weights NAME.w.<param>.
bench:   train on the real tweets CSV with random batches for --iterations
         and print iterations/s (no --in needed). With --best-effort it is
         what a PyTorch expert would write for speed: the tweets encoded and
         padded into one tensor once, batches of similar length drawn as the
         Go command draws them (pools of --bucket batches sorted by length),
         the one-hot input as a row lookup of an identity matrix, the batch
         cut to its longest tweet. (Packed sequences are slower here:
         libtorch 1.13's packed LSTM backward is quadratic in the length.)
"""
import csv
import html
import random
import resource
import sys
import time

import torch
from torch import nn
import torch.nn.functional as F

import common

VOCAB = 128


class CharLSTM(nn.Module):
    def __init__(self, vocab=VOCAB, hidden=128, classes=2):
        super().__init__()
        # Same creation order as the Go model: lstm, then fc.
        self.lstm = nn.LSTM(vocab, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, classes)
        self.vocab = vocab

    def forward(self, codes, lengths):
        x = F.one_hot(codes, self.vocab).float()           # [B, T, vocab]
        out, _ = self.lstm(x)                               # [B, T, hidden]
        last = out[torch.arange(codes.shape[0]), lengths - 1]  # [B, hidden]
        return F.log_softmax(self.fc(last), dim=1)          # [B, classes]


def make_optimizer(name, params, lr):
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    return torch.optim.SGD(params, lr=lr)


def encode(text, max_len):
    """datasets.EncodeText's rule: unescape HTML entities, non-ASCII -> 26."""
    codes = [ord(c) if ord(c) < 128 else 26 for c in html.unescape(text)]
    if not codes:
        codes = [32]
    return codes[:max_len] if max_len > 0 else codes


def read_tweets(path, max_len):
    seqs, labels = [], []
    with open(path, newline="", encoding="utf-8", errors="surrogateescape") as f:
        r = csv.reader(f)
        for i, row in enumerate(r):
            if i == 0 and row == ["text", "label"]:
                continue
            if len(row) != 2 or row[1].strip() not in ("0", "1"):
                continue
            seqs.append(encode(row[0], max_len))
            labels.append(int(row[1]))
    return seqs, labels


def pad(seqs):
    lengths = torch.tensor([len(s) for s in seqs])
    codes = torch.zeros(len(seqs), int(lengths.max()), dtype=torch.long)
    for i, s in enumerate(seqs):
        codes[i, : len(s)] = torch.tensor(s)
    return codes, lengths


def bucketed_batches(lengths, batch, pool, rng):
    """One epoch of batches as the Go sampler makes them: a permutation cut
    into pools of `pool` batches, each pool sorted by length (longest
    first) and cut into batches, the batches shuffled."""
    perm = list(range(len(lengths)))
    rng.shuffle(perm)
    perm = perm[: len(perm) // batch * batch]
    size = pool * batch
    for start in range(0, len(perm), size):
        perm[start:start + size] = sorted(perm[start:start + size], key=lambda i: -lengths[i])
    batches = [perm[i:i + batch] for i in range(0, len(perm), batch)]
    rng.shuffle(batches)
    return batches


def bench_best_effort(args, seqs, labels, model, opt):
    codes_all, lengths_all = pad(seqs)            # once, not per batch
    labels_all = torch.tensor(labels)
    eye = torch.eye(VOCAB)                        # one-hot as a row lookup
    lengths_list = lengths_all.tolist()
    rng = random.Random(args.seed)
    batches = []

    def step():
        nonlocal batches
        if not batches:
            batches = bucketed_batches(lengths_list, args.batch_size, args.bucket, rng)
        idx = torch.tensor(batches.pop())
        lengths = lengths_all[idx]
        codes = codes_all[idx, : int(lengths.max())]
        x = eye[codes]                            # [B, T, vocab]
        opt.zero_grad()
        out, _ = model.lstm(x)
        last = out[torch.arange(len(idx)), lengths - 1]
        loss = F.nll_loss(F.log_softmax(model.fc(last), dim=1), labels_all[idx])
        loss.backward()
        opt.step()
        return loss.item()
    return step


def bench(args):
    seqs, labels = read_tweets(args.data, args.max_len)
    model = CharLSTM()
    opt = make_optimizer(args.optimizer, model.parameters(), float(args.lr))
    rng = random.Random(args.seed)
    n = len(seqs)

    def plain_step():
        idx = [rng.randrange(n) for _ in range(args.batch_size)]
        codes, lengths = pad([seqs[i] for i in idx])
        y = torch.tensor([labels[i] for i in idx])
        opt.zero_grad()
        loss = F.nll_loss(model(codes, lengths), y)
        loss.backward()
        opt.step()
        return loss.item()

    step = bench_best_effort(args, seqs, labels, model, opt) if args.best_effort else plain_step
    for _ in range(args.warmup):
        step()
    start = time.perf_counter()
    for _ in range(args.iterations):
        step()
    secs = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"pytorch iterations {args.iterations} seconds {secs:.3f} "
          f"it_per_s {args.iterations / secs:.3f} peak_rss_mb {peak_mb:.1f} "
          f"threads {torch.get_num_threads()} mode {'best-effort' if args.best_effort else 'plain'}")


def main():
    p = common.parser(__doc__)
    p.add_argument("mode", choices=["forward", "train", "bench"])
    p.add_argument("--optimizer", default="adam",
                   help="adam or sgd; train: a comma-separated list, each run from the same weights")
    p.add_argument("--lr", default="1e-4", help="learning rate(s), one per optimizer")
    p.add_argument("--data", help="tweets CSV (bench)")
    p.add_argument("--iterations", type=int, default=200)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--max-len", type=int, default=280)
    p.add_argument("--best-effort", action="store_true", help="bench: the fastest PyTorch an expert would write (see above)")
    p.add_argument("--bucket", type=int, default=50, help="bench --best-effort: batches per length-sorted pool (the Go default)")
    args = p.parse_args()
    common.setup(args)
    if args.mode == "bench":
        bench(args)
        return
    t = common.load(args.inp)
    model = CharLSTM()
    common.load_state(model, t)
    out = {}
    with torch.no_grad():
        out["logp"] = model(t["codes"][0] if args.mode == "train" else t["codes"],
                            t["lengths"][0] if args.mode == "train" else t["lengths"])
    if args.mode == "train":
        initial = {k: v.clone() for k, v in model.state_dict().items()}
        for name, lr in zip(args.optimizer.split(","), args.lr.split(",")):
            model.load_state_dict(initial)
            opt = make_optimizer(name, model.parameters(), float(lr))
            losses = []
            for s in range(t["codes"].shape[0]):
                opt.zero_grad()
                loss = F.nll_loss(model(t["codes"][s], t["lengths"][s]), t["labels"][s])
                loss.backward()
                opt.step()
                losses.append(loss.item())
            out[name + ".losses"] = torch.tensor(losses, dtype=torch.float64)
            for k, v in model.state_dict().items():
                out[name + ".w." + k] = v.clone()
    common.save(args.out, out)


if __name__ == "__main__":
    sys.exit(main())
