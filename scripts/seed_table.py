"""Writes seeds.md and seeds.json: one recipe's runs over init seeds, mean ± standard error.

    python3 scripts/seed_table.py OUT.md TITLE TEST_SET RUN_DIR...

Each RUN_DIR holds a summary.json of a run of the same recipe on the same
data split. The table gives each run's best-validation step, its validation
accuracy, the test accuracy of that checkpoint (chosen on validation, never on
test) and of the last step; then the mean and standard error over the runs.
"""
import json
import math
import os
import statistics
import sys


def mean_se(values):
    se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else float("nan")
    return statistics.mean(values), se


# Settings that may differ between runs of one recipe: the seed, where and
# how fast it ran, whether it was resumed, and the divergence guard (added
# after some runs were made), which changes nothing unless a step diverges:
# a run that skipped steps is refused below.
FREE = {"seed", "split_seed", "out", "resume", "threads", "blas_threads", "data_dir", "train", "test", "device",
        "on_divergence", "divergence_factor"}


def same_recipe(dirs):
    configs = []
    for d in dirs:
        with open(os.path.join(d, "summary.json")) as f:
            configs.append({k: v for k, v in json.load(f)["config"].items() if k not in FREE})
    for d, c in zip(dirs[1:], configs[1:]):
        for k in sorted(set(c) | set(configs[0])):
            if c.get(k) != configs[0].get(k):
                sys.exit(f"seed_table: {d} is another recipe than {dirs[0]}: {k} is {c.get(k)!r}, not {configs[0].get(k)!r}")


def main(out, title, test_set, dirs):
    rows = []
    for d in dirs:
        path = os.path.join(d, "summary.json")
        with open(path) as f:
            s = json.load(f)
        r = s["results"]
        if r.get("diverged_steps_skipped", 0) > 0:
            sys.exit(f"seed_table: {path}: {r['diverged_steps_skipped']:.0f} diverged steps were skipped; not the same recipe")
        try:
            rows.append({"seed": s["config"]["seed"], "split_seed": s["config"].get("split_seed") or s["config"]["seed"],
                         "step": r["best_step"], "val": r["best_val_accuracy"], "test": r["best_test_accuracy"],
                         "last": r["test_accuracy"], "command": s["command"], "dir": d})
        except KeyError as e:
            sys.exit(f"seed_table: {path}: no {e}")
    same_recipe(dirs)
    splits = {r["split_seed"] for r in rows}
    if len(splits) != 1:
        sys.exit(f"seed_table: the runs use different data splits (split seeds {sorted(splits)}); they do not pair up")
    split = splits.pop()
    lines = [f"# {title}", "",
             f"Written by `scripts/seed_table.py`. One recipe on one data split (split seed {split}); the init seed sets",
             "initialisation and batch order. Each run's checkpoint is chosen on validation; its test accuracy is",
             f"reported, never used to choose. Test set: {test_set}.", "",
             "| seed | best-validation step | validation accuracy | test accuracy, that checkpoint | test accuracy, last step |",
             "|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: r["seed"]):
        lines.append(f"| {r['seed']} | {r['step']:,} | {100 * r['val']:.2f} % | {100 * r['test']:.2f} % | {100 * r['last']:.2f} % |")
    lines.append("")
    summary = {"seeds": [r["seed"] for r in sorted(rows, key=lambda r: r["seed"])], "split_seed": split}
    for name, key in [("Validation accuracy", "val"), ("Test accuracy of the best-validation checkpoint", "test"),
                      ("Test accuracy at the last step", "last")]:
        m, e = mean_se([r[key] for r in rows])
        summary[key] = {"mean": m, "se": None if math.isnan(e) else e}
        if math.isnan(e):
            lines.append(f"- {name}: **{100 * m:.2f} %** (one seed, no standard error)")
        else:
            lines.append(f"- {name}: **{100 * m:.2f} ± {100 * e:.2f} %** (mean ± standard error over {len(rows)} seeds)")
    lines += ["", "Commands:", ""] + [f"- seed {r['seed']} (`{r['dir']}`): `{r['command']}`" for r in sorted(rows, key=lambda r: r["seed"])]
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.splitext(out)[0] + ".json", "w") as f:
        json.dump(summary, f, indent=2, sort_keys=True, allow_nan=False)
        f.write("\n")
    print("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:])
