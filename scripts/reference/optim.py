"""Reference for torch/optim: torch.optim.SGD and Adam on a least-squares fit.

Inputs: w0 [3, 5], x [8, 5], y [8, 3]. Runs --steps updates of
loss = mean((x @ w.T - y)^2) and writes the loss before each step and the
final weights. With --late-bias N a bias b [3] (from zeros) joins the
fit at step N: before it, b has no gradient at all, so torch.optim skips it
and its own step count starts at N (Adam's bias correction counts per
parameter); the final b is written too.
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
    p.add_argument("--late-bias", type=int, default=0)
    args = p.parse_args()
    common.setup(args)
    t = common.load(args.inp)
    w = t["w0"].clone().requires_grad_(True)
    b = torch.zeros(3, requires_grad=True)
    params = [w, b] if args.late_bias > 0 else [w]
    if args.optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=args.lr, momentum=args.momentum,
                              weight_decay=args.weight_decay, nesterov=args.nesterov)
    else:
        opt = torch.optim.Adam(params, lr=args.lr, weight_decay=args.weight_decay)
    losses = []
    for i in range(args.steps):
        opt.zero_grad()
        pred = t["x"] @ w.T
        if 0 < args.late_bias <= i:
            pred = pred + b
        loss = ((pred - t["y"]) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    common.save(args.out, {"losses": torch.tensor(losses, dtype=torch.float64), "w": w, "b": b})


if __name__ == "__main__":
    main()
