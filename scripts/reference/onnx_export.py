"""A torchlab model as ONNX, through its PyTorch reference model.

  onnx_export.py --model M --file WEIGHTS --onnx OUT.onnx [model flags]

loads WEIGHTS (a .pt or .safetensors state_dict, from `CMD export`) into
the reference model M of statedict.py with strict=True, exports its
eval-mode forward pass with torch.onnx.export and checks the result with
onnx.checker (Debian's python3-onnx). libtorch has no ONNX exporter (it is
Python code in torch.onnx), so this is the route from Go to ONNX.

The inputs: vgg an image batch [N, 1, 32, 32] -> logits; lstm one-hot codes
[N, T] (int64) and lengths [N] -> log-probabilities; a VAE images
[N, C, S, S] -> reconstruction logits from the mean, mean and log-variance.
N and T are dynamic axes.
"""
import argparse
import sys

import onnx
import torch
from torch import nn

import statedict


class VAEMean(nn.Module):
    """A VAE's deterministic path: decode the posterior mean."""

    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, x):
        h = self.vae.encoder(x)
        mu, logvar = self.vae.fc_mu(h), self.vae.fc_logvar(h)
        return self.vae.decoder(mu), mu, logvar


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--file", required=True, help="the state_dict: .pt or .safetensors")
    p.add_argument("--onnx", required=True, help="the .onnx file to write")
    args = statedict.model_arguments(p).parse_args()
    model = statedict.MODELS[args.model](args)
    sd, _ = statedict.read_file(args.file)
    model.load_state_dict(sd, strict=True)
    model.eval()
    if args.model == "vgg":
        inputs, names, outputs = (torch.zeros(2, 1, 32, 32),), ["x"], ["logits"]
        axes = {"x": {0: "batch"}, "logits": {0: "batch"}}
    elif args.model == "lstm":
        inputs = (torch.full((2, 5), 32, dtype=torch.long), torch.tensor([5, 3]))
        names, outputs = ["codes", "lengths"], ["logp"]
        axes = {"codes": {0: "batch", 1: "time"}, "lengths": {0: "batch"}, "logp": {0: "batch"}}
    else:
        model = VAEMean(model)
        inputs, names, outputs = (torch.zeros(2, args.channels, args.size, args.size),), ["x"], ["logits", "mu", "logvar"]
        axes = {n: {0: "batch"} for n in names + outputs}
    torch.onnx.export(model, inputs, args.onnx, input_names=names, output_names=outputs,
                      dynamic_axes=axes, opset_version=13)
    onnx.checker.check_model(onnx.load(args.onnx), full_check=True)
    print(f"wrote {args.onnx}: {args.model}, inputs {names}, outputs {outputs}; onnx.checker passed")


if __name__ == "__main__":
    sys.exit(main())
