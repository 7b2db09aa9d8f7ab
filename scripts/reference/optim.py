"""Reference for torch/optim: torch.optim.SGD and Adam on a least-squares fit.

Inputs: w0 [3, 5], x [8, 5], y [8, 3]. Runs --steps updates of
loss = mean((x @ w.T - y)^2) and writes the loss before each step and the
final weights.
"""
import torch

import common


def main():
    p = common.parser(__doc__)
    p.add_argument("--optimizer", choices=["sgd", "adam"], required=True)
    p.add_argument("--lr", type=float, required=True)
    p.add_argument("--momentum", type=float, default=0.0)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--nesterov", action="store_true")
    p.add_argument("--steps", type=int, default=10)
    args = p.parse_args()
    common.setup(args)
    t = common.load(args.inp)
    w = t["w0"].clone().requires_grad_(True)
    if args.optimizer == "sgd":
        opt = torch.optim.SGD([w], lr=args.lr, momentum=args.momentum,
                              weight_decay=args.weight_decay, nesterov=args.nesterov)
    else:
        opt = torch.optim.Adam([w], lr=args.lr, weight_decay=args.weight_decay)
    losses = []
    for _ in range(args.steps):
        opt.zero_grad()
        loss = ((t["x"] @ w.T - t["y"]) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    common.save(args.out, {"losses": torch.tensor(losses, dtype=torch.float64), "w": w})


if __name__ == "__main__":
    main()
