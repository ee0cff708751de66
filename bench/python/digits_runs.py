#!/usr/bin/env python3
"""The real-data check of `make bench`, sparkvit's side: the whole pipeline on scikit-learn's digits with the shipped
configs, and its figures as benchmark JSON.

    digits_runs.py --dataset DATASET --work DIR --json OUT [--pretrain-set KEY=VALUE ...] [--finetune-set ...]

DATASET is the digits ingested by `sparkvit ingest` (bench/run.sh writes the images with digits_images.py first).
The runs are the product's own commands through submit/sparkvit, each with conf/*.yaml and only the dataset, the
output folder and the --pretrain-set / --finetune-set values (epochs, probe interval) overridden:

  pretrain (conf/pretrain.yaml) -> its EMA and random-encoder linear probes, NT-Xent against its chance value and
  the projections' mean cosine per epoch; finetune (conf/finetune.yaml) from the SSL weights and from scratch with
  the same budget; evaluate on the test split.

Figures are read from the commands' own output: the epoch lines ("epoch 3/80  loss 3.9  ... cos 0.712"), the
header's "NT-Xent chance 4.1431", the probe lines, and each evaluation's metrics.json. Standard library only.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPARKVIT = os.path.join(ROOT, "submit", "sparkvit")
EPOCH = re.compile(r"^epoch (\d+)/(\d+)\s+loss (\S+)\s+\d+ img/s.*?\bcos (\S+)")
CHANCE = re.compile(r"NT-Xent chance (\S+?)\)")
PROBE = re.compile(r"^\s*(pretrained \(EMA\)|random encoder)\s+probe accuracy: pooled (\S+) .*?mean of patch tokens "
                   r"(\S+) ")


def run(cmd, log):
    """Runs a sparkvit command with its output in log; exits naming the log when it fails."""
    print("digits_runs: " + " ".join(cmd), flush=True)
    with open(log, "w") as handle:
        proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=handle, text=True)
        handle.write(proc.stdout)
    if proc.returncode != 0:
        sys.exit(f"digits_runs: exit code {proc.returncode}; see {log}")
    return proc.stdout


def pretrain(args, out):
    sets = ["data.dataset=" + args.dataset, "output_dir=" + out] + args.pretrain_set
    cmd = [SPARKVIT, "pretrain", "--config", os.path.join(ROOT, "conf", "pretrain.yaml")]
    for s in sets:
        cmd += ["--set", s]
    text = run(cmd, out + ".log")
    losses, cosines, probes, chance = [], [], {}, None
    for line in text.splitlines():
        m = EPOCH.match(line.strip())
        if m:
            losses.append(float(m.group(3)))
            cosines.append(float(m.group(4)))
        c = CHANCE.search(line)
        if c:
            chance = float(c.group(1))
        p = PROBE.match(line)
        if p:
            probes["ssl" if p.group(1).startswith("pretrained") else "random"] = (float(p.group(2)),
                                                                                 float(p.group(3)))
    if not losses or chance is None or set(probes) != {"ssl", "random"}:
        sys.exit(f"digits_runs: the pretraining output lacks epoch, chance or probe lines; see {out}.log")
    return {"losses": losses, "cosines": cosines, "chance": chance, "probes": probes}


def finetune(args, out, ssl_weights):
    sets = ["data.dataset=" + args.dataset, "output_dir=" + out,
            "model.ssl_pretrained_path=" + (ssl_weights or "null")] + args.finetune_set
    cmd = [SPARKVIT, "finetune", "--config", os.path.join(ROOT, "conf", "finetune.yaml")]
    for s in sets:
        cmd += ["--set", s]
    text = run(cmd, out + ".log")
    recipe = next((line.split("finetune: ", 1)[1] for line in text.splitlines()
                   if line.startswith("finetune: recipe")), None)
    run([SPARKVIT, "evaluate", "--run", out, "--split", "test"], out + "-evaluate.log")
    with open(os.path.join(out, "evaluation", "metrics.json")) as handle:
        metrics = json.load(handle)
    return metrics, recipe


def accuracies(metrics):
    """{variant: accuracy} from an evaluation's metrics.json (variants live, ema, live+tta, ema+tta)."""
    variants = metrics.get("variants", metrics)
    return {name: v["accuracy"] for name, v in variants.items() if isinstance(v, dict) and "accuracy" in v}


def measurement(name, unit, value, params):
    return {"name": name, "impl": "sparkvit", "threads": 2, "unit": unit, "params": params, "samples": [value],
            "median": value}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--json", required=True)
    p.add_argument("--pretrain-set", action="append", default=[], help="KEY=VALUE over conf/pretrain.yaml")
    p.add_argument("--finetune-set", action="append", default=[], help="KEY=VALUE over conf/finetune.yaml")
    args = p.parse_args()
    args.dataset = os.path.abspath(args.dataset)
    os.makedirs(args.work, exist_ok=True)
    for d in ("pretrain", "finetune-ssl", "finetune-scratch"):
        shutil.rmtree(os.path.join(args.work, d), ignore_errors=True)

    pre = pretrain(args, os.path.join(args.work, "pretrain"))
    weights = os.path.join(args.work, "pretrain", "pretrained-ema.safetensors")
    ssl, recipe = finetune(args, os.path.join(args.work, "finetune-ssl"), weights)
    scratch, _ = finetune(args, os.path.join(args.work, "finetune-scratch"), None)
    params = {"dataset": "digits", "pretrain_epochs": len(pre["losses"]), "pretrain_set": args.pretrain_set,
              "finetune_set": args.finetune_set, "recipe": recipe}
    ms = [measurement("NT-Xent, last epoch", "nats", pre["losses"][-1], params),
          measurement("NT-Xent chance ln(2n-1)", "nats", pre["chance"], params),
          measurement("NT-Xent below chance, last epoch", "nats", pre["chance"] - pre["losses"][-1], params),
          measurement("projection cosine, first epoch", "cosine", pre["cosines"][0], params),
          measurement("projection cosine, last epoch", "cosine", pre["cosines"][-1], params),
          measurement("linear probe val, SSL encoder (pooled)", "accuracy", pre["probes"]["ssl"][0], params),
          measurement("linear probe val, SSL encoder (mean tokens)", "accuracy", pre["probes"]["ssl"][1], params),
          measurement("linear probe val, random encoder (pooled)", "accuracy", pre["probes"]["random"][0], params),
          measurement("linear probe val, random encoder (mean tokens)", "accuracy", pre["probes"]["random"][1],
                      params)]
    for start, metrics in (("SSL", ssl), ("scratch", scratch)):
        for variant, acc in sorted(accuracies(metrics).items()):
            ms.append(measurement(f"fine-tuned test accuracy, from {start} ({variant})", "accuracy", acc, params))
    doc = {"benchmark": "digits", "source": "sparkvit",
           "notes": {"what": "scikit-learn's digits (1,797 images, 8x8 grey upscaled to 32x32 RGB) through ingest, "
                             "pretrain, probe, finetune from SSL and from scratch, evaluate on test, with the shipped "
                             "configs", "losses": pre["losses"], "cosines": pre["cosines"]},
           "measurements": ms}
    with open(args.json, "w") as handle:
        json.dump(doc, handle, indent=2)
        handle.write("\n")
    for m in ms:
        print(f"digits {m['name']:<56} {m['median']:.4f}", flush=True)


if __name__ == "__main__":
    main()
