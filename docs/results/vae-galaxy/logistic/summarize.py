"""Writes FOLDER/results.md and FOLDER/results.json for the discretised-
likelihood runs under FOLDER (seedS/ARCH/, all on one data split): per
architecture the mean and standard error over init seeds of the test bound
in bits/dim, active units, latent k-NN accuracy and class samples on the
scale from chance to the classifier's ceiling; per pair of architectures the
paired per-image difference of the test bound. Run by run.sh.

Standard errors: over seeds, SE = sd / sqrt(seeds). For a paired difference
two are given: over images (the seed-averaged per-image differences,
sd / sqrt(images)) and over seeds (of each seed's mean difference); a claim
is made only when the difference exceeds 3 times the larger of the two.
"""
import csv
import json
import math
import os
import random
import statistics
import sys

LN2 = math.log(2)


def load(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def se(values):
    return statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else float("nan")


def no_nan(v):
    """v with every NaN (a standard error of one seed) as None: JSON has no NaN."""
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, dict):
        return {k: no_nan(x) for k, x in v.items()}
    if isinstance(v, list):
        return [no_nan(x) for x in v]
    return v


def images(run_dir, k):
    """{galaxy_id: bound at k} from iwae_images.csv."""
    path = os.path.join(run_dir, "iwae_images.csv")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        rows = list(csv.DictReader(f))
    col = f"log_p_bound_k{k}"
    return {r["galaxy_id"]: float(r[col]) for r in rows if r.get(col)}


def runs(root):
    """{arch: {seed: run_dir}} of the finished runs (with iwae.json)."""
    out = {}
    for seed_dir in sorted(os.listdir(root)):
        if not seed_dir.startswith("seed"):
            continue
        for arch in sorted(os.listdir(os.path.join(root, seed_dir))):
            d = os.path.join(root, seed_dir, arch)
            if os.path.exists(os.path.join(d, "iwae.json")) and os.path.exists(os.path.join(d, "summary.json")):
                out.setdefault(arch, {})[int(seed_dir[4:])] = d
    return out


def judge_scale(classifier_summary):
    """chance, ceiling and the classes scored: those whose real test recall
    is above 0.05 (a class the classifier never recognises cannot score)."""
    res = classifier_summary["results"]
    recall = {k[len("test_accuracy_"):]: v for k, v in res.items() if k.startswith("test_accuracy_")}
    scored = sorted(c for c, r in recall.items() if r > 0.05)
    return 1 / len(scored), statistics.mean(recall[c] for c in scored), scored, recall


def normalised_samples(samples, key, scored, chance, ceiling, per_class=32, draws=2000, rng=None):
    """(score - chance) / (ceiling - chance) of the per-class average over
    the scored classes, with a bootstrap 95 % interval (the per_class
    samples of each class resampled)."""
    res = samples["results"]
    rates = [res.get(f"{key}_{c}") for c in scored]
    if any(r is None for r in rates):
        return None
    norm = lambda m: (m - chance) / (ceiling - chance)
    point = norm(statistics.mean(rates))
    rng = rng or random.Random(1)
    boots = []
    for _ in range(draws):
        m = statistics.mean(sum(rng.random() < r for _ in range(per_class)) / per_class for r in rates)
        boots.append(norm(m))
    boots.sort()
    return point, boots[int(0.025 * draws)], boots[int(0.975 * draws) - 1], statistics.mean(rates)


def main(root):
    cls_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "classifier", "summary.json")
    cls = load(cls_path)
    if cls is None:
        sys.exit(f"summarize.py: {cls_path} is missing: the classifier that judges the samples")
    chance, ceiling, scored, recall = judge_scale(cls)
    found = runs(root)
    table, per_arch = [], {}
    for arch, seeds in sorted(found.items()):
        rows = []
        for seed, d in sorted(seeds.items()):
            s, iw, sm = load(os.path.join(d, "summary.json")), load(os.path.join(d, "iwae.json")), load(os.path.join(d, "samples.json"))
            r = s["results"]
            best = s.get("best") or {}
            per_epoch = r["steps"] / r["epochs"] if r.get("epochs") else float("nan")
            row = {"seed": seed, "dims": iw["dims"], "likelihood": iw.get("likelihood"),
                   "test_bits_k100": iw["test"]["nll_bits_per_dim"], "test_nats_k100": iw["test"]["nll_nats"],
                   "test_neg_elbo_bits": iw["test"]["neg_elbo_bits_per_dim"],
                   "subset_images": iw["subset"]["images"] if iw.get("subset") else 0,
                   "subset_bits_k1000": iw["subset"]["nll_bits_per_dim"] if iw.get("subset") else None,
                   "best_epoch": round(best.get("step", 0) / per_epoch) if best.get("found") else None,
                   "epochs": r.get("epochs"), "seconds_per_epoch": r.get("seconds_per_epoch"),
                   "diverged_steps_skipped": r.get("diverged_steps_skipped", 0),
                   "active_units": (sm or {}).get("results", {}).get("active_units", r.get("active_units")),
                   "latent_knn": (sm or {}).get("results", {}).get("latent_knn_test_accuracy", r.get("latent_knn_test_accuracy")),
                   "test_kl": r.get("test_kl"), "git_commit": s.get("git_commit"),
                   "threads": s.get("config", {}).get("threads")}
            if sm:
                ns = normalised_samples(sm, "samples_judge_agreement_latent_region", scored, chance, ceiling)
                if ns:
                    row["samples_normalised"], row["samples_norm_lo"], row["samples_norm_hi"], row["samples_raw_scored"] = ns
            rows.append(row)
        per_arch[arch] = rows
        agg = {"arch": arch, "seeds": len(rows)}
        for key in ["test_bits_k100", "subset_bits_k1000", "test_nats_k100", "active_units", "latent_knn", "samples_normalised", "seconds_per_epoch", "best_epoch"]:
            vals = [r[key] for r in rows if r.get(key) is not None]
            if vals:
                agg[key] = statistics.mean(vals)
                agg[key + "_se"] = se(vals)
        # Speed is the fastest seed's: a slower seed shared the cores.
        speeds = [r["seconds_per_epoch"] for r in rows if r.get("seconds_per_epoch")]
        if speeds:
            agg["seconds_per_epoch_fastest"] = min(speeds)
        table.append(agg)

    pairs = []
    archs = sorted(found)
    for i, a in enumerate(archs):
        for b in archs[i + 1:]:
            common = sorted(set(found[a]) & set(found[b]))
            if not common:
                continue
            for k, label in [(100, "whole test split, k=100"), (1000, "subset, k=1000")]:
                per_seed, by_image = [], {}
                for seed in common:
                    ia, ib = images(found[a][seed], k), images(found[b][seed], k)
                    ids = sorted(set(ia) & set(ib))
                    if not ids:
                        continue
                    diffs = [ia[g] - ib[g] for g in ids]  # log p bound of a minus b: > 0 means a is better
                    per_seed.append(statistics.mean(diffs))
                    for g, dv in zip(ids, diffs):
                        by_image.setdefault(g, []).append(dv)
                if not per_seed:
                    continue
                img = [statistics.mean(v) for v in by_image.values() if len(v) == len(per_seed)]
                dims = per_arch[a][0]["dims"]
                mean = statistics.mean(img)
                se_img, se_seed = se(img), se(per_seed)
                worst = max(x for x in [se_img, se_seed] if not math.isnan(x)) if not (math.isnan(se_img) and math.isnan(se_seed)) else float("nan")
                verdict = "tie"
                if not math.isnan(worst) and abs(mean) > 3 * worst:
                    verdict = f"{a} better" if mean > 0 else f"{b} better"
                    if len(per_seed) < 2:
                        verdict += " on one seed (the spread over seeds is not measured)"
                pairs.append({"a": a, "b": b, "over": label, "k": k, "seeds": len(per_seed), "images": len(img),
                              "diff_nats": mean, "se_images_nats": se_img, "se_seeds_nats": se_seed,
                              "diff_bits_per_dim": mean / (dims * LN2), "verdict": verdict,
                              "per_seed_nats": per_seed})

    out = {"chance": chance, "ceiling": ceiling, "classes_scored": scored, "classifier_test_recall": recall,
           "runs": per_arch, "table": table, "paired": pairs}
    with open(os.path.join(root, "results.json"), "w") as f:
        json.dump(no_nan(out), f, indent=2, sort_keys=True, allow_nan=False)
        f.write("\n")

    fmt = lambda v, p=4: "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{p}f}"
    lines = ["# Discretised-likelihood runs: one split, several init seeds", "",
             "Written by `summarize.py` from the run folders below (`run.sh`). Test bounds are the importance-weighted",
             "bound on -log p(x) of the 8-bit test images under each model's discretised logistic decoder, in bits per",
             "dimension (nats / (3·64·64·ln 2)), at the best-validation epoch. Mean ± standard error over init seeds.", "",
             "| model | seeds | test bits/dim, k=100 | subset bits/dim, k=1000 | active units (of 32) | latent 5-NN test acc. | class samples, normalised | best epoch | s/epoch, fastest seed |",
             "|---|---|---|---|---|---|---|---|---|"]
    for t in table:
        lines.append(f"| {t['arch']} | {t['seeds']} | {fmt(t.get('test_bits_k100'))} ± {fmt(t.get('test_bits_k100_se'))} | "
                     f"{fmt(t.get('subset_bits_k1000'))} ± {fmt(t.get('subset_bits_k1000_se'))} | "
                     f"{fmt(t.get('active_units'), 1)} ± {fmt(t.get('active_units_se'), 1)} | "
                     f"{fmt(t.get('latent_knn'), 3)} ± {fmt(t.get('latent_knn_se'), 3)} | "
                     f"{fmt(t.get('samples_normalised'), 3)} ± {fmt(t.get('samples_normalised_se'), 3)} | "
                     f"{fmt(t.get('best_epoch'), 0)} | {fmt(t.get('seconds_per_epoch_fastest'), 1)} |")
    lines += ["", f"Class samples are scored by the committed galaxy classifier on the classes it recognises on real test",
              f"images ({', '.join(scored)}; real-test recall of the others ≤ 0.05, left out): chance {chance:.3f}, ceiling "
              f"(its class-balanced recall on real test images) {ceiling:.3f}; normalised = (score − chance) / (ceiling − chance).", "",
              "## Paired differences (same split, same test images)", "",
              "Difference of the per-image log p(x) bound, model a minus model b (positive: a is better), averaged over the",
              "seeds run by both; a ranking is claimed only beyond 3 standard errors (the larger of the two).", "",
              "| a | b | images | seeds | a − b, nats/image | SE over images | SE over seeds | a − b, bits/dim | verdict |",
              "|---|---|---|---|---|---|---|---|---|"]
    for p in pairs:
        lines.append(f"| {p['a']} | {p['b']} ({p['over']}) | {p['images']} | {p['seeds']} | {p['diff_nats']:.2f} | {fmt(p['se_images_nats'], 2)} | "
                     f"{fmt(p['se_seeds_nats'], 2)} | {p['diff_bits_per_dim']:.5f} | {p['verdict']} |")
    lines += ["", "## Runs", "", "| model | seed | test bits/dim k=100 | subset k=1000 | best epoch / epochs run | skipped steps | test KL | samples normalised [95 % CI] | s/epoch (libtorch threads) | commit |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for arch, rows in sorted(per_arch.items()):
        for r in rows:
            ci = f"{fmt(r.get('samples_normalised'), 3)} [{fmt(r.get('samples_norm_lo'), 3)}, {fmt(r.get('samples_norm_hi'), 3)}]" if r.get("samples_normalised") is not None else "–"
            lines.append(f"| {arch} | {r['seed']} | {fmt(r['test_bits_k100'])} | {fmt(r['subset_bits_k1000'])} | {r['best_epoch']} / {fmt(r['epochs'], 0)} | "
                         f"{int(r['diverged_steps_skipped'] or 0)} | {fmt(r['test_kl'], 1)} | {ci} | "
                         f"{fmt(r['seconds_per_epoch'], 1)} ({r['threads'] or '–'}) | {(r['git_commit'] or '')[:7]} |")
    lines += ["", "s/epoch counts the training steps only (not evaluation); a run that shared the two cores with other",
              "work (a test suite, builds) is slower, so the summary table gives each model's fastest seed."]
    with open(os.path.join(root, "results.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
