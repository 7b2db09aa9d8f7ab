"""PyTorch reference for torchlab's Galaxy Zoo VAE (models/vae, cmd/vae-galaxy).

bce:     --in logits, x -> nll = binary_cross_entropy(sigmoid(logits), x, sum) / N
logistic: --in params [N, 2C, H, W], x [N, C, H, W] -> logp [N] (the discretised
         logistic log-likelihood of the 8-bit images round(255 x), computed in
         float64 straight from the logistic's CDF) and grad, d sum(logp) / d params.
forward: --in weights (state_dict names), x, eps [, cond] -> logits, mu, logvar,
         kl, nll, loss, in training mode (batch statistics) and in eval mode;
         --likelihood logistic gives the decoder 2C output channels.
steps:   --in weights, xs [S, N, C, H, W], eps [S, N, z] -> losses [S]: S steps of
         --optimizer (adam, or sgd with --momentum) at --lr in training mode,
         one batch and its noise per step; with --perturb P also
         losses_perturbed, the same run from weights multiplied by
         (1 + P * N(0, 1)): how far rounding-sized changes carry by each step.
bench:   train for --epochs on the Galaxy Zoo JPEGs read the usual PyTorch way
         (PIL decode, centre crop, resize in a Dataset, DataLoader with
         --workers processes) and print seconds per epoch as JSON.
--arch resnet-iaf (forward and steps): the hierarchical ResNet VAE with IAF
         posteriors (HierVAE); eps is [N, z + (S/8)^2 * --spatial-z], z1's noise
         then z2's laid out [S/8, S/8, spatial-z]; forward also returns klrows,
         the sample estimate of log q - log p per example and latent channel,
         and the loss floors each channel's batch mean at --free-bits (klterm: that floored KL); with cond, the
         class goes into up1 and FiLMs every decoder stage.
iaf:     --in weights (names 0.made_in.weight, ...), z [.., D], h [.., C] ->
         z (after --iaf-steps steps of inverse autoregressive flow) and
         logdet [.., D], the summed log sigma of every step per dimension.
flops:   print as JSON the multiply-adds of one image's forward pass through
         the convolutions, transposed convolutions and linear layers, and
         the training FLOPs per image by the usual count: 2 FLOPs a
         multiply-add, the backward pass twice the forward (6 x MACs).

The modules mirror models/vae name for name, so a state_dict and the Go
model's variables are interchangeable.
"""
import csv
import json
import os
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import common

WIDTHS = [32, 64, 128, 256, 512]


class MLPEncoder(nn.Module):
    def __init__(self, c, size, hidden):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(c * size * size, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.features = hidden

    def forward(self, x):
        return self.net(x.flatten(1))


class MLPDecoder(nn.Module):
    def __init__(self, c, size, hidden, zin):
        super().__init__()
        self.shape = (c, size, size)
        self.net = nn.Sequential(nn.Linear(zin, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, c * size * size))

    def forward(self, z):
        return self.net(z).view(-1, *self.shape)


class ConvEncoder(nn.Module):
    def __init__(self, c, size):
        super().__init__()
        mods, cin = [], c
        for w in WIDTHS:
            mods += [nn.Conv2d(cin, w, 4, 2, 1), nn.BatchNorm2d(w), nn.LeakyReLU(0.2)]
            cin = w
        self.net = nn.Sequential(*mods)
        self.features = cin * (size // 32) ** 2

    def forward(self, x):
        return self.net(x).flatten(1)


class ConvDecoder(nn.Module):
    def __init__(self, c, size, zin):
        super().__init__()
        self.side = size // 32
        self.fc = nn.Linear(zin, WIDTHS[-1] * self.side ** 2)
        mods, cin = [], WIDTHS[-1]
        for w in reversed(WIDTHS[:-1]):
            mods += [nn.ConvTranspose2d(cin, w, 4, 2, 1), nn.BatchNorm2d(w), nn.LeakyReLU(0.2)]
            cin = w
        mods.append(nn.ConvTranspose2d(cin, c, 4, 2, 1))
        self.net = nn.Sequential(*mods)

    def forward(self, z):
        return self.net(self.fc(z).view(-1, WIDTHS[-1], self.side, self.side))


class ResBlock(nn.Module):
    def __init__(self, cin, cout, up):
        super().__init__()
        if up:
            self.conv1 = nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False)
        else:
            self.conv1 = nn.Conv2d(cin, cout, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        if up:
            self.skip = nn.ConvTranspose2d(cin, cout, 2, 2, bias=False)
        else:
            self.skip = nn.Conv2d(cin, cout, 1, 2, bias=False)
        self.skip_bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(h)) + self.skip_bn(self.skip_forward(x)))

    def skip_forward(self, x):
        # libtorch 1.13's channels-last 1x1 stride-2 convolution corrupts the
        # heap in backward when the batch size changes
        # (cl_pointwise_crash.py), and an epoch ends with a short batch. In
        # channels-last the down skip therefore runs as a stride-1 convolution
        # of every second pixel, the same sums; torchlab's Go layer does the
        # same (fused.Conv2dPointwiseStrided). Contiguous inputs, as in the
        # parity runs, keep nn.Conv2d.
        if isinstance(self.skip, nn.Conv2d) and not x.is_contiguous() \
                and x.is_contiguous(memory_format=torch.channels_last):
            return F.conv2d(x[:, :, ::2, ::2], self.skip.weight)
        return self.skip(x)


class ResEncoder(nn.Module):
    def __init__(self, c, size):
        super().__init__()
        ins = [c] + WIDTHS[:-1]
        self.blocks = nn.Sequential(*[ResBlock(i, o, False) for i, o in zip(ins, WIDTHS)])
        self.features = WIDTHS[-1] * (size // 32) ** 2

    def forward(self, x):
        return self.blocks(x).flatten(1)


class ResDecoder(nn.Module):
    def __init__(self, c, size, zin):
        super().__init__()
        self.side = size // 32
        self.fc = nn.Linear(zin, WIDTHS[-1] * self.side ** 2)
        outs = [256, 128, 64, 32, 32]
        ins = [WIDTHS[-1]] + outs[:-1]
        self.blocks = nn.Sequential(*[ResBlock(i, o, True) for i, o in zip(ins, outs)])
        self.out = nn.Conv2d(outs[-1], c, 3, 1, 1)

    def forward(self, z):
        return self.out(self.blocks(self.fc(z).view(-1, WIDTHS[-1], self.side, self.side)))


IAF_FORGET_BIAS = 2.0


class MaskedLinear(nn.Linear):
    """nn.Linear whose weight is multiplied by a fixed 0/1 mask (MADE); the
    mask is a non-persistent buffer, not part of the state_dict."""

    def __init__(self, mask):
        super().__init__(mask.shape[1], mask.shape[0])
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, x):
        return F.linear(x, self.weight * self.mask, self.bias)


class IAFStep(nn.Module):
    """z' = sigma z + (1 - sigma) m, sigma = sigmoid(s + 2); (m, s) from a
    one-hidden-layer MADE of z plus a linear map of the context h. Inputs
    have degrees 1..d (d..1 reversed); hidden unit k has degree 1 + k mod
    (d - 1); a hidden unit sees inputs of degree <= its own, an output sees
    hidden units of degree < its own."""

    def __init__(self, d, hidden, ctx, reverse):
        super().__init__()
        deg_in = torch.arange(d, 0, -1) if reverse else torch.arange(1, d + 1)
        deg_h = torch.arange(hidden) % max(d - 1, 1) + 1
        in_mask = (deg_h[:, None] >= deg_in[None, :]).float()
        out_mask = (deg_in[:, None] > deg_h[None, :]).float()
        self.made_in = MaskedLinear(in_mask)
        self.ctx = nn.Linear(ctx, hidden, bias=False)
        self.made_m = MaskedLinear(out_mask)
        self.made_s = MaskedLinear(out_mask)

    def forward(self, z, h):
        a = F.elu(self.made_in(z) + self.ctx(h))
        m, s = self.made_m(a), self.made_s(a) + IAF_FORGET_BIAS
        sigma = torch.sigmoid(s)
        return sigma * z + (1 - sigma) * m, F.logsigmoid(s)


class IAF(nn.ModuleList):
    """Steps whose orderings alternate; a ModuleList, so its parameters are
    named 0.made_in.weight, ... as the Go model's."""

    def __init__(self, steps, d, hidden, ctx):
        super().__init__([IAFStep(d, hidden, ctx, i % 2 == 1) for i in range(steps)])

    def forward(self, z, h):
        logdet = torch.zeros_like(z)
        for s in self:
            z, ls = s(z, h)
            logdet = logdet + ls
        return z, logdet


class VAE(nn.Module):
    def __init__(self, arch, z_dim=32, size=64, c=3, hidden=512, classes=0, likelihood="bernoulli"):
        super().__init__()
        self.classes = classes
        self.likelihood = likelihood
        cout = 2 * c if likelihood == "logistic" else c
        zin = z_dim + classes
        if arch == "mlp":
            self.encoder = MLPEncoder(c, size, hidden)
        elif arch == "conv":
            self.encoder = ConvEncoder(c, size)
        else:
            self.encoder = ResEncoder(c, size)
        feat = self.encoder.features + classes
        self.fc_mu = nn.Linear(feat, z_dim)
        self.fc_logvar = nn.Linear(feat, z_dim)
        if arch == "mlp":
            self.decoder = MLPDecoder(cout, size, hidden, zin)
        elif arch == "conv":
            self.decoder = ConvDecoder(cout, size, zin)
        else:
            self.decoder = ResDecoder(cout, size, zin)

    def nll(self, decoded, x):
        if self.likelihood == "logistic":
            return -logistic_logp(decoded, x).mean()
        return bernoulli_nll(decoded, x)

    def forward(self, x, cond=None, eps=None):
        h = self.encoder(x)
        if cond is not None:
            h = torch.cat([h, cond], 1)
        mu, logvar = self.fc_mu(h), self.fc_logvar(h)
        std = torch.exp(0.5 * logvar)
        if eps is None:
            eps = torch.randn_like(std)
        z = mu + std * eps
        if cond is not None:
            z = torch.cat([z, cond], 1)
        return self.decoder(z), mu, logvar


IAF_HIDDEN1, IAF_CTX1, IAF_HIDDEN2, IAF_CTX2, IAF_MID = 64, 32, 32, 16, 128


def sample_group(flow, mu, logvar, ctx, eps, prior_mu=None, prior_logvar=None):
    """z = flow(mu + exp(logvar/2) eps; ctx) and log q(z|x) - log p(z) per
    element, from torch.distributions' densities: q(z) = N(z0; mu, std) /
    prod sigma."""
    std = torch.exp(0.5 * logvar)
    z0 = mu + std * eps
    z, logdet = flow(z0, ctx)
    logq = torch.distributions.Normal(mu, std).log_prob(z0) - logdet
    if prior_mu is None:
        prior = torch.distributions.Normal(torch.zeros_like(z), torch.ones_like(z))
    else:
        prior = torch.distributions.Normal(prior_mu, torch.exp(0.5 * prior_logvar))
    return z, logq - prior.log_prob(z)


class HierDecoder(nn.Module):
    def __init__(self, cout, size, z_dim, spatial_z, classes=0):
        super().__init__()
        self.side = size // 32
        self.fc = nn.Linear(z_dim, WIDTHS[-1] * self.side ** 2)
        outs = [256, IAF_MID, 64, 32, 32]
        ins = [WIDTHS[-1]] + outs[:-1]
        self.blocks = nn.Sequential(*[ResBlock(i, o, True) for i, o in zip(ins, outs)])
        self.merge = nn.Conv2d(IAF_MID + spatial_z, IAF_MID, 3, 1, 1)
        self.out = nn.Conv2d(outs[-1], cout, 3, 1, 1)
        if classes:
            # FiLM after fc, blocks 0-1, merge, blocks 2-4 (the order h passes them).
            stages = [WIDTHS[-1], 256, IAF_MID, IAF_MID, 64, 32, 32]
            self.film = nn.ModuleList([nn.Linear(classes, 2 * c) for c in stages])

    def modulate(self, i, h, cond):
        if cond is None:
            return h
        gamma, beta = self.film[i](cond)[:, :, None, None].chunk(2, 1)
        return h * (1 + gamma) + beta


class HierVAE(nn.Module):
    """resnet-iaf: a global latent z1 (prior N(0, I)) and a spatial z2 at
    S/8 whose prior comes from the top-down path and whose posterior sums a
    bottom-up and a top-down part; IAF in both posteriors."""

    def __init__(self, z_dim=32, size=64, c=3, spatial_z=4, steps=2, likelihood="bernoulli", classes=0):
        super().__init__()
        self.likelihood, self.z, self.c2, self.size = likelihood, z_dim, spatial_z, size
        cout = 2 * c if likelihood == "logistic" else c
        self.encoder = ResEncoder(c, size)
        self.up1 = nn.Linear(self.encoder.features + classes, 2 * z_dim + IAF_CTX1)
        self.up2 = nn.Conv2d(WIDTHS[2], 2 * spatial_z + IAF_CTX2, 3, 1, 1)
        self.iaf1 = IAF(steps, z_dim, IAF_HIDDEN1, IAF_CTX1)
        self.iaf2 = IAF(steps, spatial_z, IAF_HIDDEN2, IAF_CTX2)
        self.decoder = HierDecoder(cout, size, z_dim, spatial_z, classes)
        self.down2 = nn.Conv2d(IAF_MID, 4 * spatial_z + IAF_CTX2, 3, 1, 1)

    nll = VAE.nll

    def forward(self, x, eps, cond=None):
        n, z, c2, side = x.shape[0], self.z, self.c2, self.size // 8
        h = x
        for i, b in enumerate(self.encoder.blocks):
            h = b(h)
            if i == 2:
                e2 = h
        h = h.flatten(1)
        if cond is not None:
            h = torch.cat([h, cond], 1)
        mu1, lv1, ctx1 = self.up1(h).split([z, z, IAF_CTX1], 1)
        z1, kl1 = sample_group(self.iaf1, mu1, lv1, ctx1, eps[:, :z])
        d = self.decoder
        h = d.modulate(0, d.fc(z1).view(-1, WIDTHS[-1], d.side, d.side), cond)
        h = d.modulate(1, d.blocks[0](h), cond)
        h = d.modulate(2, d.blocks[1](h), cond)
        bm, blv, bctx = self.up2(e2).permute(0, 2, 3, 1).split([c2, c2, IAF_CTX2], 3)
        pm, plv, tm, tlv, tctx = self.down2(h).permute(0, 2, 3, 1).split([c2, c2, c2, c2, IAF_CTX2], 3)
        eps2 = eps[:, z:].reshape(n, side, side, c2)
        z2, kl2 = sample_group(self.iaf2, bm + tm, blv + tlv, bctx + tctx, eps2, pm, plv)
        h = d.modulate(3, F.relu(d.merge(torch.cat([h, z2.permute(0, 3, 1, 2)], 1))), cond)
        for i, b in enumerate(d.blocks[2:]):
            h = d.modulate(4 + i, b(h), cond)
        return d.out(h), mu1, lv1, torch.cat([kl1, kl2.sum((1, 2))], 1)


def hier_loss(model, x, eps, beta, free_bits, cond=None):
    """logits, mu, logvar, klrows, kl, klterm (kl with free bits), nll, loss
    of resnet-iaf."""
    logits, mu, logvar, klrows = model(x, eps, cond)
    per = klrows.mean(0)
    kl = per.sum()
    term = per.clamp(min=free_bits).sum() if free_bits > 0 else kl
    nll = model.nll(logits, x)
    return logits, mu, logvar, klrows, kl, term, nll, nll + beta * term


def kl_divergence(mu, logvar):
    return (-0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=1)).mean()


def bernoulli_nll(logits, x):
    return F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]


def logistic_logp(params, x):
    """log P(round(255 x)) per image under one logistic per pixel and channel
    (locations params[:, :C], log-scales params[:, C:] floored at -7, on
    images scaled to [-1, 1]); value 0 takes the lower tail, 255 the upper.
    Written from the CDF, sigmoid(upper) - sigmoid(lower), on the side of the
    location where the two do not both round to 1 (exact in float64 while
    the standardised edges stay within a few hundred)."""
    c = x.shape[1]
    v = torch.round(x * 255)
    xs = v / 127.5 - 1
    loc, log_s = params[:, :c], params[:, c:].clamp(min=-7)
    inv_s = torch.exp(-log_s)
    a = inv_s * (xs + 1 / 255 - loc)
    b = inv_s * (xs - 1 / 255 - loc)
    right = xs > loc  # sigmoid(a) - sigmoid(b) == sigmoid(-b) - sigmoid(-a)
    hi, lo = torch.where(right, -b, a), torch.where(right, -a, b)
    mid = torch.log(torch.sigmoid(hi) - torch.sigmoid(lo))
    logp = torch.where(v < 0.5, F.logsigmoid(a), torch.where(v > 254.5, F.logsigmoid(-b), mid))
    return logp.sum(dim=(1, 2, 3))


def mode_logistic(args):
    t = common.load(args.inp)
    params = t["params"].double().requires_grad_(True)
    logp = logistic_logp(params, t["x"].double())
    logp.sum().backward()
    common.save(args.out, {"logp": logp.detach(), "grad": params.grad})


def mode_bce(args):
    t = common.load(args.inp)
    logits, x = t["logits"], t["x"]
    nll = F.binary_cross_entropy(torch.sigmoid(logits), x, reduction="sum") / x.shape[0]
    common.save(args.out, {"nll": nll.reshape(1)})


def mode_forward_hier(args, t):
    cond = t.get("cond")
    model = HierVAE(args.z_dim, args.image_size, spatial_z=args.spatial_z, steps=args.iaf_steps,
                    likelihood=args.likelihood, classes=cond.shape[1] if cond is not None else 0)
    common.load_state(model, t)
    out = {}
    with torch.no_grad():
        for mode in ["train", "eval"]:
            model.train(mode == "train")
            terms = hier_loss(model, t["x"], t["eps"], args.beta, args.free_bits, cond)
            for name, v in zip(["logits", "mu", "logvar", "klrows", "kl", "klterm", "nll", "loss"], terms):
                out[f"{mode}_{name}"] = v.reshape(1) if v.dim() == 0 else v
    common.save(args.out, out)


def mode_forward(args):
    t = common.load(args.inp)
    if args.arch == "resnet-iaf":
        return mode_forward_hier(args, t)
    cond = t.get("cond")
    classes = cond.shape[1] if cond is not None else 0
    model = VAE(args.arch, args.z_dim, args.image_size, classes=classes, likelihood=args.likelihood)
    common.load_state(model, t)
    out = {}
    with torch.no_grad():
        for mode in ["train", "eval"]:
            model.train(mode == "train")
            logits, mu, logvar = model(t["x"], cond, t["eps"])
            kl, nll = kl_divergence(mu, logvar), model.nll(logits, t["x"])
            out.update({f"{mode}_logits": logits, f"{mode}_mu": mu, f"{mode}_logvar": logvar,
                        f"{mode}_kl": kl.reshape(1), f"{mode}_nll": nll.reshape(1),
                        f"{mode}_loss": (nll + args.beta * kl).reshape(1)})
    common.save(args.out, out)


def mode_iaf(args):
    t = common.load(args.inp)
    w = t["0.made_in.weight"]
    hidden, d = w.shape
    ctx = t["0.ctx.weight"].shape[1]
    flow = IAF(args.iaf_steps, d, hidden, ctx)
    common.load_state(flow, t)
    with torch.no_grad():
        z, logdet = flow(t["z"], t["h"])
    common.save(args.out, {"z": z, "logdet": logdet})


def mode_flops(args):
    model = VAE(args.arch, args.z_dim, args.image_size, likelihood=args.likelihood).eval()
    macs = 0

    def count(m, inp, out):
        nonlocal macs
        k = m.kernel_size[0] * m.kernel_size[1] if hasattr(m, "kernel_size") else 1
        if isinstance(m, nn.Conv2d):  # each output value sums in_channels x k inputs
            macs += out[0].numel() * m.in_channels // m.groups * k
        elif isinstance(m, nn.ConvTranspose2d):  # each input value spreads to out_channels x k outputs
            macs += inp[0][0].numel() * m.out_channels // m.groups * k
        else:
            macs += m.in_features * m.out_features

    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            m.register_forward_hook(count)
    with torch.no_grad():
        model(torch.rand(1, 3, args.image_size, args.image_size))
    print(json.dumps({"arch": args.arch, "image_size": args.image_size, "forward_macs_per_image": macs,
                      "train_flops_per_image": 6 * macs}))


def train_steps(args, t, perturb=0.0):
    """The losses of the steps mode, from the given weights each multiplied
    by (1 + perturb * N(0, 1)) (a fixed draw; 0 leaves them as they are)."""
    hier = args.arch == "resnet-iaf"
    if hier:
        model = HierVAE(args.z_dim, args.image_size, spatial_z=args.spatial_z, steps=args.iaf_steps,
                        likelihood=args.likelihood)
    else:
        model = VAE(args.arch, args.z_dim, args.image_size, likelihood=args.likelihood)
    common.load_state(model, t)
    if perturb:
        g = torch.Generator().manual_seed(1)
        with torch.no_grad():
            for p in model.parameters():
                p.mul_(1 + perturb * torch.randn(p.shape, generator=g))
    if args.optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    model.train()
    losses = []
    for x, eps in zip(t["xs"], t["eps"]):
        if hier:
            loss = hier_loss(model, x, eps, args.beta, args.free_bits)[-1]
        else:
            logits, mu, logvar = model(x, None, eps)
            loss = model.nll(logits, x) + args.beta * kl_divergence(mu, logvar)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return np.array(losses, dtype=np.float64)


def mode_steps(args):
    t = common.load(args.inp)
    out = {"losses": train_steps(args, t)}
    if args.perturb:
        out["losses_perturbed"] = train_steps(args, t, args.perturb)
    common.save(args.out, out)


class GalaxyJPEGs(torch.utils.data.Dataset):
    """Decodes, centre-crops and resizes one JPEG per item, every epoch."""

    def __init__(self, folder, ids, crop, size):
        self.paths = [os.path.join(folder, "images_training_rev1", f"{i}.jpg") for i in ids]
        self.crop, self.size = crop, size

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        from PIL import Image
        with Image.open(self.paths[i]) as img:
            img = img.convert("RGB")
            w, h = img.size
            left, top = (w - self.crop) // 2, (h - self.crop) // 2
            img = img.crop((left, top, left + self.crop, top + self.crop))
            img = img.resize((self.size, self.size), Image.BOX)
            a = np.asarray(img, dtype=np.float32) / 255.0
        return torch.from_numpy(a.transpose(2, 0, 1).copy())


def source_crop(folder, crop=212):
    """The crop in the stored images' pixels: the originals' crop, or, for
    the bundled sample's pre-cropped images (precropped.json), its share of
    their side."""
    frame = os.path.join(folder, "precropped.json")
    if not os.path.exists(frame):
        return crop
    with open(frame) as f:
        fr = json.load(f)
    return round(crop * fr["side"] / fr["crop"])


def mode_bench(args):
    with open(os.path.join(args.data_dir, "training_solutions_rev1.csv")) as f:
        ids = [row[0] for row in list(csv.reader(f))[1:]]
    if args.limit:
        ids = ids[:args.limit]
    n_train = len(ids) - round(args.test_fraction * len(ids))
    ds = GalaxyJPEGs(args.data_dir, ids[:n_train], source_crop(args.data_dir), args.image_size)
    if args.preloaded:
        # Best effort: every image decoded once into one tensor; an epoch is
        # slices of a fresh permutation (no Dataset per item, no workers).
        images = torch.stack([ds[i] for i in range(len(ds))])

        def batches():
            order = torch.randperm(len(images))
            return (images[order[i:i + args.batch_size]] for i in range(0, len(images), args.batch_size))
        loader = None
    else:
        loader = torch.utils.data.DataLoader(ds, batch_size=args.batch_size, shuffle=True,
                                             num_workers=args.workers, persistent_workers=args.workers > 0)

        def batches():
            return loader
    model = VAE(args.arch, args.z_dim, args.image_size)
    if args.channels_last:
        # Weights and each batch laid out NHWC, so the convolutions can take
        # oneDNN's channels-last paths (the usual PyTorch recipe).
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    times = []
    for _ in range(args.epochs):
        start = time.perf_counter()
        for x in batches():
            if args.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            logits, mu, logvar = model(x)
            loss = bernoulli_nll(logits, x) + kl_divergence(mu, logvar)
            opt.zero_grad()
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - start)
    later = times[1:] or times
    print(json.dumps({"arch": args.arch, "images": n_train, "epoch_seconds": times,
                      "mode": "best-effort" if args.preloaded else "plain",
                      "channels_last": args.channels_last,
                      "seconds_per_epoch": sum(later) / len(later), "loss": loss.item()}))


def main():
    p = common.parser(__doc__)
    p.add_argument("mode", choices=["bce", "logistic", "forward", "steps", "bench", "flops", "iaf"])
    p.add_argument("--likelihood", default="bernoulli", choices=["bernoulli", "logistic"])
    p.add_argument("--arch", default="conv", choices=["mlp", "conv", "resnet", "resnet-iaf"])
    p.add_argument("--spatial-z", type=int, default=4, help="resnet-iaf: channels of the spatial latent")
    p.add_argument("--free-bits", type=float, default=0.0, help="resnet-iaf: floor on each latent channel's batch-mean KL")
    p.add_argument("--z-dim", type=int, default=32)
    p.add_argument("--image-size", type=int, default=64)
    p.add_argument("--beta", type=float, default=1.0)
    p.add_argument("--lr", type=float, default=1e-3, help="steps: learning rate")
    p.add_argument("--optimizer", default="adam", choices=["adam", "sgd"], help="steps: optimiser")
    p.add_argument("--momentum", type=float, default=0.0, help="steps: SGD's momentum")
    p.add_argument("--perturb", type=float, default=0.0, help="steps: also train from weights perturbed by this relative size")
    p.add_argument("--iaf-steps", type=int, default=2, help="iaf: steps of the flow")
    p.add_argument("--data-dir")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--test-fraction", type=float, default=0.2)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--preloaded", action="store_true", help="bench: images decoded once into a tensor (best effort), not a DataLoader")
    p.add_argument("--channels-last", action="store_true", help="bench: model and batches in channels-last (NHWC) memory format")
    args = p.parse_args()
    common.setup(args)
    {"bce": mode_bce, "logistic": mode_logistic, "forward": mode_forward, "steps": mode_steps, "bench": mode_bench,
     "flops": mode_flops, "iaf": mode_iaf}[args.mode](args)


if __name__ == "__main__":
    main()
