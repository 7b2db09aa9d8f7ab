"""Reference for torchlab's n-gram baseline (models/ngramlr), written the
plain PyTorch way: each tweet's character n-grams (n from --min-n to
--max-n) hashed into --buckets features (FNV-1a over the n-gram's length
and then its bytes), counted, scaled to unit length, as one dense
[B, buckets] tensor; nn.Linear; log-softmax; NLL.

forward: load codes [B, T] (padded), lengths [B], labels [B] and the
         weights fc.weight [C, buckets], fc.bias [C]; write features
         [B, buckets], logp [B, C], loss [] (the mean NLL) and the
         gradients grad.fc.weight, grad.fc.bias of that loss.
"""
import torch
from torch import nn
import torch.nn.functional as F

import common


def bucket(gram, buckets):
    h = 2166136261
    for b in [len(gram)] + list(gram):
        h ^= b
        h = (h * 16777619) & 0xFFFFFFFF
    return h % buckets


def features(codes, lengths, buckets, min_n, max_n):
    x = torch.zeros(codes.shape[0], buckets)
    for r in range(codes.shape[0]):
        seq = codes[r, : int(lengths[r])].tolist()
        for n in range(min_n, max_n + 1):
            for i in range(len(seq) - n + 1):
                x[r, bucket(seq[i : i + n], buckets)] += 1
        norm = x[r].norm()
        if norm > 0:
            x[r] /= norm
    return x


def main():
    p = common.parser(__doc__)
    p.add_argument("mode", choices=["forward"])
    p.add_argument("--buckets", type=int, required=True)
    p.add_argument("--min-n", type=int, default=1)
    p.add_argument("--max-n", type=int, default=4)
    args = p.parse_args()
    common.setup(args)
    t = common.load(args.inp)
    x = features(t["codes"], t["lengths"], args.buckets, args.min_n, args.max_n)
    fc = nn.Linear(args.buckets, t["fc.bias"].shape[0])
    common.load_state(fc, t, "fc.")
    logp = F.log_softmax(fc(x), dim=1)
    loss = F.nll_loss(logp, t["labels"])
    loss.backward()
    common.save(args.out, {"features": x, "logp": logp, "loss": loss,
                           "grad.fc.weight": fc.weight.grad, "grad.fc.bias": fc.bias.grad})


if __name__ == "__main__":
    main()
