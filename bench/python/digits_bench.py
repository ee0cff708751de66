#!/usr/bin/env python3
"""The reference side of the real-data check as benchmark JSON: digits_ref.py's results file, per seed, under the
figure names digits_runs.py gives sparkvit's, so bench/report.py sets them side by side.

    digits_bench.py --reference REF.json --json OUT.json

Each measurement's samples are the seeds' values ("source": "reference"); the two scikit-learn baselines on the
same split (logistic regression on the raw pixels, val and test) come as impl "scikit-learn". Standard library only.

NT-Xent's chance value differs between the two sides by construction: sparkvit's DistriOptimizer takes the loss over
each replica's slice (n = batch / replicas images, chance ln(2n - 1)), the reference over the whole batch; compare
the distance below chance, not the loss.
"""
import argparse
import json

# digits_runs.py's name -> path into one seed's record of digits_ref.py
FIGURES = [
    ("NT-Xent, last epoch", ("pretrain", "loss", -1)),
    ("NT-Xent chance ln(2n-1)", ("pretrain", "chance_loss")),
    ("NT-Xent below chance, last epoch", ("pretrain", "loss_below_chance")),
    ("projection cosine, first epoch", ("pretrain", "cosine", 0)),
    ("projection cosine, last epoch", ("pretrain", "cosine", -1)),
    ("linear probe val, SSL encoder (pooled)", ("ssl_probe", "cls", "val")),
    ("linear probe val, SSL encoder (mean tokens)", ("ssl_probe", "mean", "val")),
    ("linear probe val, random encoder (pooled)", ("random_encoder_probe", "cls", "val")),
    ("linear probe val, random encoder (mean tokens)", ("random_encoder_probe", "mean", "val")),
    ("fine-tuned test accuracy, from SSL (live)", ("finetune_ssl", "test")),
    ("fine-tuned test accuracy, from SSL (ema)", ("finetune_ssl", "test_ema")),
    ("fine-tuned test accuracy, from scratch (live)", ("finetune_scratch", "test")),
    ("fine-tuned test accuracy, from scratch (ema)", ("finetune_scratch", "test_ema")),
]
BASELINES = [
    ("logistic regression on raw pixels, val", ("raw_pixels_lr", "val")),
    ("logistic regression on raw pixels, test", ("raw_pixels_lr", "test")),
]


def value(record, path):
    v = record
    for p in path:
        try:
            v = v[p]
        except (KeyError, IndexError, TypeError):
            return None
    return float(v) if isinstance(v, (int, float)) else None


def measurements(result):
    params = {"dataset": "digits", "pretrain_epochs": result["pretrain_recipe"]["epochs"],
              "finetune_epochs": result["finetune_recipe"]["epochs"], "seeds": len(result["per_seed"])}
    out = []
    for figures, impl in ((FIGURES, "pytorch/timm"), (BASELINES, "scikit-learn")):
        for name, path in figures:
            samples = [v for v in (value(r, path) for r in result["per_seed"]) if v is not None]
            if samples:
                out.append({"name": name, "impl": impl, "threads": result.get("threads", 2), "unit": "",
                            "params": params, "samples": samples, "median": sorted(samples)[len(samples) // 2]})
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reference", required=True, help="digits_ref.py's --json file")
    p.add_argument("--json", required=True)
    args = p.parse_args()
    with open(args.reference) as handle:
        result = json.load(handle)
    doc = {"benchmark": "digits", "source": "reference",
           "notes": {"what": "bench/python/digits_ref.py: the same recipe in PyTorch/timm on sparkvit's split",
                     "pretrain_recipe": result["pretrain_recipe"], "finetune_recipe": result["finetune_recipe"],
                     "torch": result.get("torch")},
           "measurements": measurements(result)}
    with open(args.json, "w") as handle:
        json.dump(doc, handle, indent=2)
        handle.write("\n")


if __name__ == "__main__":
    main()
