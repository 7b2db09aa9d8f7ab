"""Writes FOLDER/results.md: one row per run folder under FOLDER (default:
this script's folder; a run is any folder with a summary.json, such as
seed1/conv/) from its summary.json, iwae.json (vae-galaxy iwae) and
samples.json (vae-galaxy plots --judge), then, where an architecture has
runs of several seeds, its mean and spread. Run by run.sh."""
import json
import os
import statistics
import sys


def load(path):
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f)


def split_sentence(splits, counts):
    if len(splits) != 1 or len(counts) > 1:
        return "The runs used different splits (see each summary.json's config)."
    _, seed, fraction, limit, val = next(iter(splits))
    limit = f", first {limit} galaxies" if limit else ""
    val = f", validation fraction {val:g} of the training galaxies" if val else ", no validation split"
    return f"All on the same split (seed {seed}, test fraction {fraction:g}{val}{limit}{''.join(counts)})."


def row_of(run_dir):
    """The numbers of one run, by column key."""
    summary = load(os.path.join(run_dir, "summary.json"))
    res, cfg = summary["results"], summary["config"]
    row = dict(res)
    best = summary.get("best") or {}
    if best.get("found"):
        at = best.get("at", {})
        # Steps per epoch from the run itself: the last, partial batch of
        # an epoch is a step too (2,926 galaxies in batches of 64: 46).
        row["best_epoch"] = round(best["step"] * res["epochs"] / res["steps"]) if res.get("steps") else None
        row["best_val_neg_elbo"] = at.get("val_neg_elbo")
        row["best_test_neg_elbo"] = at.get("test_neg_elbo")
    iwae = load(os.path.join(run_dir, "iwae.json"))
    if iwae:
        row["iwae_nats"], row["iwae_bits"] = iwae["test"]["nll_nats"], iwae["test"]["nll_bits_per_dim"]
        row["iwae_k"] = iwae["test"]["k"]
        row["elbo_k_nats"] = iwae["test"]["neg_elbo_nats"]
        if iwae.get("subset"):
            row["subset_k1000"] = iwae["subset"]["nll_nats"]
            row["subset_k100"] = iwae["subset_at_k"]["nll_nats"]
    judged = load(os.path.join(run_dir, "samples.json")).get("results", {})
    for k, v in judged.items():
        if k.startswith("judge_") or k.startswith("samples_judge_"):
            row[k] = v
    return row, cfg, res


root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
cols = [("epochs", "epochs", "%d"), ("seconds_per_epoch", "train s/epoch", "%.1f"),
        ("best_epoch", "best epoch (val)", "%.0f"),
        ("train_recon", "train recon", "%.1f"), ("test_recon", "test recon", "%.1f"), ("test_kl", "test KL", "%.2f"), ("test_neg_elbo", "test -ELBO", "%.1f"),
        ("best_test_neg_elbo", "test -ELBO at best", "%.1f"),
        ("iwae_nats", "test -log p (IWAE k=100)", "%.1f"), ("iwae_bits", "bits/dim", "%.4f"),
        ("subset_k100", "subset k=100", "%.1f"), ("subset_k1000", "subset k=1000", "%.1f"),
        ("judge_test_accuracy", "classifier acc. (real test)", "%.3f"),
        ("samples_judge_agreement_latent_region", "samples as class (classifier)", "%.3f"),
        ("samples_judge_agreement_cvae_prior", "samples as class: CVAE prior (classifier)", "%.3f"),
        ("knn_test_accuracy", "5-NN acc. (real test)", "%.3f"),
        ("samples_knn_agreement_latent_region", "samples as class: latent region (5-NN)", "%.3f"),
        ("samples_knn_agreement_cvae_prior", "samples as class: CVAE prior (5-NN)", "%.3f")]
order = ["mlp", "conv", "resnet"]
runs = []
for dirpath, dirnames, filenames in os.walk(root):
    # A folder with its own results.md is a table of its own.
    dirnames[:] = sorted(d for d in dirnames if d not in ("checkpoint", "best")
                         and not os.path.exists(os.path.join(dirpath, d, "results.md")))
    # A VAE run's config names its architecture; the galaxy classifier's does not.
    if ("summary.json" in filenames and dirpath != root
            and "arch" in load(os.path.join(dirpath, "summary.json")).get("config", {})):
        runs.append(os.path.relpath(dirpath, root))


def run_key(run):
    arch = os.path.basename(run)
    return (os.path.dirname(run), order.index(arch) if arch in order else len(order), arch)


runs.sort(key=run_key)
rows = {run: row_of(os.path.join(root, run)) for run in runs}
used = [c for c in cols if any(c[0] in r[0] and r[0][c[0]] is not None for r in rows.values())]
lines = ["| run | " + " | ".join(c[1] for c in used) + " |", "|---" * (len(used) + 1) + "|"]
sizes, splits, counts = set(), set(), set()
for run in runs:
    row, cfg, res = rows[run]
    sizes.add(cfg["image_size"])
    # The split is fixed by the data, the seed, the fractions and the limit.
    splits.add((cfg["data_dir"], cfg["seed"], cfg["test_fraction"], cfg["limit"], cfg.get("val_fraction", 0)))
    if "train_images" in res:  # summaries written before the counts were stored lack them
        val = f" / {res['val_images']:.0f} validation" if res.get("val_images") else ""
        counts.add(f": {res['train_images']:.0f} train{val} / {res['test_images']:.0f} test")
    cells = [(fmt % row[k]) if row.get(k) is not None else "" for k, _, fmt in used]
    lines.append(f"| {run} | " + " | ".join(cells) + " |")

# Mean and spread over seeds, per architecture, where there are several.
by_arch = {}
for run in runs:
    if os.path.dirname(run).startswith("seed"):
        by_arch.setdefault(os.path.basename(run), []).append(rows[run][0])
spread = []
for arch, rs in sorted(by_arch.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)):
    if len(rs) < 2:
        continue
    cells = []
    for k, _, fmt in used:
        vals = [r[k] for r in rs if r.get(k) is not None]
        cells.append(f"{fmt % statistics.mean(vals)} ± {fmt % (max(vals) - min(vals))}" if len(vals) == len(rs) else "")
    spread.append(f"| {arch} ({len(rs)} seeds, mean ± range) | " + " | ".join(cells) + " |")

shape = " or ".join(f"{s}x{s}x3" for s in sorted(sizes)) or "no"
out = ["# Galaxy Zoo VAE results (generated by summarize.py)", "",
       f"Reconstruction (recon) is the Bernoulli NLL = BCE summed over the pixel values ({shape} images), "
       "nats per image; KL in nats per image; -ELBO = recon + KL. \"best\" is the epoch of the lowest "
       "validation -ELBO (runs with a validation split). -log p is the importance-weighted bound "
       "(vae-galaxy iwae) of the best model on the whole test split, in nats per image and bits per "
       "dimension; the subset columns score the first 100 test images with k=100 and k=1000 samples. "
       "\"samples as class\" is the share of 32 samples per class, drawn from the class's region of "
       "latent space, that a classifier assigns to that class. "
       + split_sentence(splits, counts), ""] + lines
if spread:
    out += ["", "Over seeds:", "", lines[0], lines[1]] + spread
out += ["", "Speed against PyTorch: docs/results/bench.md (make bench)."]
with open(os.path.join(root, "results.md"), "w") as f:
    f.write("\n".join(out) + "\n")
print("\n".join(out))
