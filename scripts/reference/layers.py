"""Reference for torchlab's PyTorch-faithful layers (torch/layers).

init:    seed, build the layers of LAYERS in order, write their state_dicts.
forward: load weights and inputs from --in, write each layer's output.
"""
import torch
from torch import nn

import common


def build():
    # The same layers, in the same order, as torch/layers' parity test.
    return nn.ModuleDict({
        "linear": nn.Linear(7, 5),
        "linear_nobias": nn.Linear(6, 3, bias=False),
        "conv": nn.Conv2d(3, 4, 3, stride=2, padding=1),
        "convt": nn.ConvTranspose2d(4, 2, 4, stride=2, padding=1),
        "bn": nn.BatchNorm2d(4),
        "lstm": nn.LSTM(6, 5, batch_first=True),
    })


def main():
    p = common.parser(__doc__)
    p.add_argument("mode", choices=["init", "forward"])
    args = p.parse_args()
    common.setup(args)
    layers = build()
    if args.mode == "init":
        common.save(args.out, layers.state_dict())
        return
    t = common.load(args.inp)
    common.load_state(layers, t)
    out = {}
    with torch.no_grad():
        out["linear"] = layers["linear"](t["x_linear"])
        out["linear_nobias"] = layers["linear_nobias"](t["x_linear_nobias"])
        out["conv"] = layers["conv"](t["x_conv"])
        out["convt"] = layers["convt"](t["x_convt"])
        bn = layers["bn"]
        bn.train()
        out["bn_train"] = bn(t["x_bn"])
        out["bn_running_mean"] = bn.running_mean.clone()
        out["bn_running_var"] = bn.running_var.clone()
        bn.eval()
        out["bn_eval"] = bn(t["x_bn"])
        o, (h, c) = layers["lstm"](t["x_lstm"])
        out["lstm_out"], out["lstm_h"], out["lstm_c"] = o, h, c
    common.save(args.out, out)


if __name__ == "__main__":
    main()
