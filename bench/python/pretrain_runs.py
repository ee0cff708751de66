#!/usr/bin/env python3
"""Runs sparkvit's own SimCLR pretraining for the scaling and FreezeOut benchmarks and writes their JSON.

The runs are the product's `pretrain` command on the demo dataset (conf/pretrain.yaml with --set overrides), started locally through submit/sparkvit or on the standalone cluster through
submit/spark-submit.sh. Throughput and time are read from the command's own lines: images/s = iterations an epoch
x batch (its first line, "pretrain: 331 images, 2 epochs of 6 iterations, batch 64 ...") over each epoch's training
seconds ("epoch 3/4  loss 3.9  191 img/s  6.4 s ...": 0.1 s, where the printed img/s is rounded to a whole image);
the first epoch is left out of throughput (JIT, caching). Standard library only.

  pretrain_runs.py scaling   --dataset DS --work DIR --json OUT [--epochs 4] [--standalone] [--preset P]
  pretrain_runs.py freezeout --dataset DS --work DIR --json OUT [--epochs 10] [--t0 0.8,0.5] [--preset P]

scaling: local[1] against local[2], and with --standalone 1 against 2 one-core executors of the standalone cluster
(make cluster-up); one barrier task per core, the global batch (64) split over them.

--preset sets model.preset (default the shipped vit_nano_patch4_32); several runs of this script append to one JSON
when --append is given.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EPOCH = re.compile(r"^epoch (\d+)/(\d+)\s+loss (\S+)\s+(\d+) img/s\s+([0-9.]+) s")
START = re.compile(r"^pretrain: \d+ images, \d+ epochs of (\d+) iterations, batch (\d+)")
PROBE = re.compile(r"pretrained \(EMA\)\s.*?pooled ([0-9.]+).*?(\d+) val images")
LOCAL = [os.path.join(ROOT, "submit", "sparkvit")]
STANDALONE = [os.path.join(ROOT, "submit", "spark-submit.sh"), "--cluster",
              os.path.join(ROOT, "conf", "cluster", "standalone.yaml")]


def parse_log(log, epochs):
    """(img/s per epoch, seconds per epoch, probe, its val images) from a run's log, or None when it does not hold a
    whole run."""
    rates, seconds, probe, val, images = [], [], None, None, None
    with open(log) as handle:
        for line in handle:
            start = START.match(line.strip())
            if start:
                images = int(start.group(1)) * int(start.group(2))
            m = EPOCH.match(line.strip())
            if m:
                rates.append(float(m.group(4)))
                seconds.append(float(m.group(5)))
            p = PROBE.search(line)
            if p:
                probe, val = float(p.group(1)), int(p.group(2))
    if len(rates) != epochs or probe is None:
        return None
    if images is not None:
        rates = [images / s for s in seconds]
    return rates, seconds, probe, val


def run_pretrain(prefix, options, dataset, out_dir, epochs, sets, reuse=False):
    """One run on the barrier engine: prefix + pretrain ... + options. Returns (img/s per epoch, seconds per epoch,
    probe, val images, wall s).
    With reuse, a log of a whole earlier run of this case is read instead (wall s is then None)."""
    log = out_dir + ".log"
    if reuse and os.path.exists(log):
        parsed = parse_log(log, epochs)
        if parsed:
            print(f"pretrain_runs: reusing the whole run in {log}", flush=True)
            return parsed + (None,)
    shutil.rmtree(out_dir, ignore_errors=True)
    cmd = prefix + ["pretrain", "--config", os.path.join(ROOT, "conf", "pretrain.yaml"),
                    "--set", f"data.dataset={dataset}", "--set", f"output_dir={out_dir}",
                    "--set", f"training.epochs={epochs}", "--set", "training.warmup_epochs=1",
                    "--set", "training.probe_every_epochs=0"]
    for s in sets:
        cmd += ["--set", s]
    cmd += options
    print("pretrain_runs: " + " ".join(cmd), flush=True)
    start = time.monotonic()
    with open(log, "w") as handle:
        proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=handle, text=True)
    wall = time.monotonic() - start
    with open(log, "a") as handle:
        handle.write(proc.stdout)
    if proc.returncode != 0:
        sys.exit(f"pretrain_runs: the run failed with exit code {proc.returncode}; see {log}")
    parsed = parse_log(log, epochs)
    if parsed is None:
        sys.exit(f"pretrain_runs: expected {epochs} epoch lines and a probe line in {log}")
    return parsed + (wall,)


def measurement(name, impl, threads, unit, params, samples):
    return {"name": name, "impl": impl, "threads": threads, "unit": unit, "params": params,
            "samples": samples, "median": statistics.median(samples)}


def scaling(args):
    cases = [("local[1]", LOCAL, ["--master", "local[1]"], 1), ("local[2]", LOCAL, ["--master", "local[2]"], 2)]
    if args.standalone:
        memory = ["--executor-memory", args.executor_memory] if args.executor_memory else []
        cases += [("standalone 1 executor", STANDALONE + ["--executors", "1"] + memory + ["--"], [], 1),
                  ("standalone 2 executors", STANDALONE + ["--executors", "2"] + memory + ["--"], [], 2)]
    results = []
    for impl, prefix, options, replicas in cases:
        out = os.path.join(args.work, f"scaling-{args.preset}-" + re.sub(r"[^a-z0-9]+", "-", impl).strip("-"))
        rates, _, _, _, wall = run_pretrain(prefix, options, args.dataset, out, args.epochs,
                                         [f"model.preset={args.preset}"], reuse=args.reuse)
        print(f"scaling {args.preset} {impl}: {rates[1:]} img/s (epochs 2-{args.epochs})", flush=True)
        results.append(measurement("SimCLR pretraining", impl, replicas, "images/s",
                                   {"model": args.preset, "engine": "barrier", "batch": 64, "epochs": args.epochs,
                                    "replicas": replicas, "wall_s": None if wall is None else round(wall, 1)},
                                   rates[1:]))
    return {"benchmark": "scaling", "source": "sparkvit",
            "notes": {"what": "conf/pretrain.yaml on the demo dataset (batch 64); "
                              "samples are the epochs after the first; standalone executors have 1 core each"},
            "measurements": results}


def freezeout(args):
    cases = [("off", ["training.freezeout.enabled=false"])]
    for t0 in args.t0.split(","):
        cases.append((f"t0={t0}", ["training.freezeout.enabled=true", f"training.freezeout.t0={t0}"]))
    results = []
    for label, sets in cases:
        out = os.path.join(args.work, f"freezeout-{args.preset}-" + re.sub(r"[^a-z0-9]+", "-", label))
        rates, seconds, probe, val, wall = run_pretrain(LOCAL, ["--master", "local[2]"], args.dataset, out,
                                                        args.epochs, sets + [f"model.preset={args.preset}"],
                                                        reuse=args.reuse)
        train_s = sum(seconds)
        print(f"freezeout {label}: training {train_s:.1f} s, probe {probe:.3f}", flush=True)
        params = {"model": args.preset, "epochs": args.epochs, "freezeout": label, "val_images": val,
                  "probe_pooled": probe, "train_s": round(train_s, 1), "wall_s": None if wall is None else round(wall, 1),
                  "seconds_per_epoch": seconds}
        results.append(measurement("SimCLR pretraining with FreezeOut", label, 2, "images/s", params, rates[1:]))
    return {"benchmark": "freezeout", "source": "sparkvit",
            "notes": {"what": f"conf/pretrain.yaml on the demo dataset, {args.epochs} epochs on local[2]; probe = "
                              f"linear-probe val accuracy of the EMA encoder (pooled), {val} val images"},
            "measurements": results}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["scaling", "freezeout"])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--json", required=True)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--standalone", action="store_true", help="also 1 and 2 executors on the standalone cluster")
    parser.add_argument("--t0", default="0.8,0.5", help="FreezeOut t0 values to compare with no FreezeOut")
    parser.add_argument("--preset", default="vit_nano_patch4_32", help="model.preset of every run")
    parser.add_argument("--append", action="store_true", help="add the measurements to an existing --json file")
    parser.add_argument("--executor-memory", help="heap of each standalone executor (spark-submit.sh --executor-memory)")
    parser.add_argument("--reuse", action="store_true",
                        help="read a case's earlier log instead of running it again when it holds a whole run "
                             "(to finish an interrupted make bench)")
    args = parser.parse_args()
    if not os.path.isdir(args.dataset):
        sys.exit(f"pretrain_runs: --dataset {args.dataset} is not a folder (make it with sparkvit bench dataset)")
    os.makedirs(args.work, exist_ok=True)
    if args.what == "scaling":
        args.epochs = args.epochs or 4
        result = scaling(args)
    else:
        args.epochs = args.epochs or 10
        result = freezeout(args)
    if args.append and os.path.exists(args.json):
        with open(args.json) as handle:
            previous = json.load(handle)
        if previous.get("benchmark") != result["benchmark"]:
            sys.exit(f"pretrain_runs: {args.json} holds a {previous.get('benchmark')} benchmark, not {result['benchmark']}")
        result["measurements"] = previous["measurements"] + result["measurements"]
    tmp = args.json + ".tmp"
    with open(tmp, "w") as handle:
        json.dump(result, handle, indent=2)
    os.replace(tmp, args.json)


if __name__ == "__main__":
    main()
