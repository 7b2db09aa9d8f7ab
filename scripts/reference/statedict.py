"""State_dicts between torchlab and PyTorch's own files (.pt, .safetensors).

  statedict.py read --file F --out OUT.npz
      torch.load(F) (it must be a plain dict of tensors) or, for a
      .safetensors file, the format read by its specification with numpy;
      the tensors go to OUT.npz.
  statedict.py write --in IN.npz --file F --out OUT.npz [--strided]
      IN's tensors as an OrderedDict state_dict: torch.save for .pt, the
      specification for .safetensors. --strided saves every 2-D tensor as a
      transposed view of its transpose (same values, Fortran strides);
      OUT.npz gets the same tensors back.
  statedict.py forward --model M --file F --in X.npz --out OUT.npz
      the reference model M (see MODELS) loads F with strict=True and runs
      its eval-mode forward pass on X's inputs.
  statedict.py init --model M --file F --in X.npz --out OUT.npz
      builds M from --seed, saves its state_dict to F, and runs the forward
      pass as above: weights made in PyTorch, for Go's --init-from.

The safetensors package is not in Debian; its format is short enough to
read and write here (8-byte little-endian header length, JSON header,
little-endian data).
"""
import collections
import json
import os
import sys

import numpy as np
import torch

import common

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64}
NAMES = {np.dtype(v): k for k, v in DTYPES.items()}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    body = data[8 + n:]
    out = collections.OrderedDict()
    for k, v in header.items():
        b, e = v["data_offsets"]
        a = np.frombuffer(body[b:e], dtype=DTYPES[v["dtype"]]).reshape(v["shape"])
        out[k] = torch.from_numpy(a.copy())
    return out, meta


def write_safetensors(path, tensors, meta=None):
    header, chunks, at = {}, [], 0
    for k in sorted(tensors):
        a = tensors[k].detach().cpu().contiguous().numpy()
        raw = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[k] = {"dtype": NAMES[a.dtype], "shape": list(a.shape), "data_offsets": [at, at + len(raw)]}
        chunks.append(raw)
        at += len(raw)
    if meta:
        header["__metadata__"] = meta
    js = json.dumps(header).encode()
    js += b" " * (-len(js) % 8)
    with open(path, "wb") as f:
        f.write(len(js).to_bytes(8, "little") + js + b"".join(chunks))


def read_file(path):
    if path.endswith(".safetensors"):
        return read_safetensors(path)
    sd = torch.load(path)
    if not isinstance(sd, dict) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise SystemExit(f"{path}: not a plain dict of tensors: {type(sd)}")
    return sd, {}


def write_file(path, tensors):
    if path.endswith(".safetensors"):
        write_safetensors(path, tensors, {"format": "pt"})
    else:
        torch.save(tensors, path)


def vgg(args):
    import vgg_mnist
    return vgg_mnist.VGG(args.batch_norm, 0.5, "torchvision", hidden=args.vgg_hidden)


def lstm(args):
    import lstm_tweets
    return lstm_tweets.CharLSTM(hidden=args.hidden)


def vae(arch):
    def build(args):
        import vae_galaxy
        return vae_galaxy.VAE(arch, args.latent, args.size, args.channels, args.vae_hidden)
    return build


MODELS = {"vgg": vgg, "lstm": lstm, "vae-mlp": vae("mlp"), "vae-conv": vae("conv"), "vae-resnet": vae("resnet")}


def forward(name, model, x):
    """The outputs a Go test compares, in eval mode, without randomness."""
    model.eval()
    with torch.no_grad():
        if name == "vgg":
            return {"logits": model(x["x"])}
        if name == "lstm":
            return {"logp": model(x["codes"], x["lengths"])}
        logits, mu, logvar = model(x["x"], eps=torch.zeros(x["x"].shape[0], args_latent(model)))
        return {"logits": logits, "mu": mu, "logvar": logvar}


def args_latent(model):
    return model.fc_mu.out_features


def load_exact(path):
    """The .npz's arrays as tensors of their own dtype."""
    with np.load(path) as f:
        return {k: torch.from_numpy(np.array(f[k], order="C")) for k in f.files}


def model_arguments(p):
    """Adds the flags that choose and shape a reference model."""
    p.add_argument("--model", choices=sorted(MODELS))
    p.add_argument("--batch-norm", action="store_true", help="vgg: the batch-norm variant")
    p.add_argument("--vgg-hidden", type=int, default=4096, help="vgg: width of the classifier's hidden layers")
    p.add_argument("--hidden", type=int, default=128, help="lstm: hidden width")
    p.add_argument("--vae-hidden", type=int, default=512, help="vae mlp: hidden width")
    p.add_argument("--channels", type=int, default=3, help="vae: image channels")
    p.add_argument("--size", type=int, default=32, help="vae: image size")
    p.add_argument("--latent", type=int, default=32, help="vae: latent size")
    return p


def main():
    p = common.parser(__doc__)
    p.add_argument("mode", choices=["read", "write", "forward", "init"])
    p.add_argument("--file", required=True)
    p.add_argument("--strided", action="store_true")
    model_arguments(p)
    args = p.parse_args()
    common.setup(args)
    if args.mode == "read":
        sd, _ = read_file(args.file)
        common.save(args.out, sd)
        return
    if args.mode == "write":
        t = collections.OrderedDict(sorted(load_exact(args.inp).items()))
        if args.strided:
            t = collections.OrderedDict((k, v.t().contiguous().t() if v.dim() == 2 else v) for k, v in t.items())
        write_file(args.file, t)
        common.save(args.out, {k: v.contiguous() for k, v in t.items()})
        return
    model = MODELS[args.model](args)
    if args.mode == "init":
        write_file(args.file, model.state_dict())
    else:
        sd, _ = read_file(args.file)
        model.load_state_dict(sd, strict=True)
    x = common.load(args.inp)
    common.save(args.out, forward(args.model, model, x) if x else {})


if __name__ == "__main__":
    sys.exit(main())
