#!/usr/bin/env python3
"""Runs sparkvit's own SimCLR pretraining for the scaling and FreezeOut benchmarks and writes their JSON.

The runs are the product's `pretrain` command on the demo dataset (conf/pretrain.yaml with --set overrides, on the
barrier engine), started locally through submit/sparkvit or on the standalone cluster through
submit/spark-submit.sh. Throughput and time are read from the command's own lines: images/s = iterations an epoch
x batch (its first line, "pretrain: 331 images, 2 epochs of 6 iterations, batch 64 ...") over each epoch's training
seconds ("epoch 3/4  loss 3.9  191 img/s  6.4 s ...": 0.1 s, where the printed img/s is rounded to a whole image);
the first epoch is left out of throughput (JIT, caching). Standard library only.

  pretrain_runs.py scaling   --dataset DS --work DIR --json OUT [--epochs 4] [--standalone] [--preset P]
  pretrain_runs.py freezeout --dataset DS --work DIR --json OUT [--epochs 10] [--t0 0.8,0.5] [--preset P]
  pretrain_runs.py memory    --dataset DS --work DIR --json OUT --master URL [--preset P] [--batch 8] [--epochs 1]
                             [--executors 2] [--executor-memory 8g] [--driver-memory 4g]

scaling: local[1] against local[2], and with --standalone 1 against 2 one-core executors of the standalone cluster
(make cluster-up); one barrier task per core, the global batch (64) split over them.

memory: one run on the standalone cluster at MASTER (its own, started by bench/run.sh) with one-core executors, and
each executor's peak memory: the JVM heap in use and the process tree's resident set, the largest of Spark's
executor metrics (polled every 0.5 s, spark.executor.processTreeMetrics.enabled) over every task and stage of the
event log, and the largest heap after a collection in the executor's GC log (-Xlog:gc: what the heap held live).

--preset sets model.preset (default the shipped vit_nano_patch4_32); several runs of this script append to one JSON
when --append is given.
"""
import argparse
import glob
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


SEGMENT = re.compile(r"segment: iterations (\d+) to (\d+) of global batch (\d+) on (\d+) barrier tasks.* in ([0-9.]+) s "
                     r"\(median ([0-9.]+) ms an iteration\), last loss (\S+)")
GC_PAUSE = re.compile(r"Pause .*?(\d+)M->(\d+)M\((\d+)M\)")
METRICS = ("JVMHeapMemory", "ProcessTreeJVMRSSMemory", "JVMOffHeapMemory")


def executor_peaks(events_dir):
    """{executor id: {metric: peak bytes}} over every task's and every stage's executor metrics of the event logs
    in events_dir (spark.eventLog.logStageExecutorMetrics)."""
    peaks = {}
    for name in sorted(os.listdir(events_dir)):
        with open(os.path.join(events_dir, name)) as handle:
            for line in handle:
                event = json.loads(line)
                kind = event.get("Event")
                if kind == "SparkListenerStageExecutorMetrics":
                    executor, metrics = event["Executor ID"], event["Executor Metrics"]
                elif kind == "SparkListenerTaskEnd":
                    executor = event.get("Task Info", {}).get("Executor ID")
                    metrics = event.get("Task Executor Metrics") or {}
                else:
                    continue
                if executor is None or executor == "driver":
                    continue
                mine = peaks.setdefault(executor, {})
                for key in METRICS:
                    if key in metrics:
                        mine[key] = max(mine.get(key, 0), int(metrics[key]))
    return peaks


def gc_peaks(gc_dir):
    """{executor JVM pid: (largest heap after a collection, largest committed heap), in MB} from its -Xlog:gc file."""
    out = {}
    for name in sorted(os.listdir(gc_dir)):
        after = committed = 0
        with open(os.path.join(gc_dir, name)) as handle:
            for line in handle:
                m = GC_PAUSE.search(line)
                if m:
                    after, committed = max(after, int(m.group(2))), max(committed, int(m.group(3)))
        out[re.sub(r"\D", "", name)] = (after, committed)
    return out


def exchange_rounds(cache, events):
    """Seconds (from midnight) at which the first executor of the run in the event log started each iteration's
    gradient exchange (its log line storing block ..._<round>_p...), from the standalone worker's executor logs."""
    app = sorted(os.listdir(events))[0].split(".")[0]
    logs = sorted(glob.glob(os.path.join(cache, "standalone", "work", "worker-*", app, "*", "stderr")))
    stamps = {}
    pattern = re.compile(r"^\d+/\d+/\d+ (\d+):(\d+):(\d+) INFO MemoryStore: Block "
                         r"test_sparkvit_allreduce_segment_\d+_\d+_(\d+)_p")
    for log in logs[:1]:
        with open(log) as handle:
            for line in handle:
                m = pattern.match(line)
                if m:
                    stamps.setdefault(int(m.group(4)), 3600 * int(m.group(1)) + 60 * int(m.group(2)) + int(m.group(3)))
    return [stamps[k] for k in sorted(stamps)]


def memory(args):
    """One pretraining run on the standalone cluster with per-executor peak memory (module comment)."""
    out = os.path.abspath(os.path.join(args.work, f"memory-{args.preset}-{args.executors}x{args.executor_memory}"))
    events, gc = out + "-events", out + "-gc"
    for folder in (events, gc):
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
    prefix = [os.path.join(ROOT, "submit", "spark-submit.sh"), "--master", args.master,
              "--executors", str(args.executors), "--executor-cores", "1", "--executor-memory", args.executor_memory,
              "--driver-memory", args.driver_memory,
              "--conf", "spark.eventLog.enabled=true", "--conf", f"spark.eventLog.dir=file://{events}",
              "--conf", "spark.eventLog.logStageExecutorMetrics=true",
              "--conf", "spark.executor.processTreeMetrics.enabled=true",
              "--conf", "spark.executor.metrics.pollingInterval=500ms",
              "--conf", f"spark.executor.extraJavaOptions=-Xlog:gc:file={gc}/executor-%p.log", "--"]
    sets = [f"model.preset={args.preset}", f"training.batch_size={args.batch}", "training.max_restarts=0"]
    if args.epochs == 1:
        sets.append("training.warmup_epochs=0")
    started = time.monotonic()
    try:
        _, seconds, _, _, wall = run_pretrain(prefix, [], args.dataset, out, args.epochs, sets)
        failure = None
    except SystemExit as failed:  # a run out of memory is a result here: its peaks and how far it got
        seconds, wall, failure = [], time.monotonic() - started, str(failed)
        with open(out + ".log") as handle:
            errors = [line.strip() for line in handle if "OutOfMemoryError" in line or "Lost executor" in line]
        failure += ": " + (errors[0] if errors else "no OutOfMemoryError in the log")
        print(failure, flush=True)
    segments, losses = [], []
    with open(out + ".log") as handle:
        for line in handle:
            m = SEGMENT.search(line)
            if m:
                segments.append({"iterations": [int(m.group(1)), int(m.group(2))], "seconds": float(m.group(5)),
                                 "median_iteration_ms": float(m.group(6)), "last_loss": float(m.group(7))})
            e = EPOCH.match(line.strip())
            if e:
                losses.append(float(e.group(3)))
    with open(out + ".log") as handle:
        starts = [m for m in (re.search(r"epochs of (\d+) iterations", line) for line in handle) if m]
    per_epoch = int(starts[0].group(1)) if starts else 0
    peaks = executor_peaks(events)
    gcs = gc_peaks(gc)
    mb = 1024 * 1024
    executors = {executor: {"heap_mb": round(p.get("JVMHeapMemory", 0) / mb),
                            "rss_mb": round(p.get("ProcessTreeJVMRSSMemory", 0) / mb),
                            "off_heap_mb": round(p.get("JVMOffHeapMemory", 0) / mb)}
                 for executor, p in sorted(peaks.items())}
    training_gc = {pid: {"heap_after_gc_mb": a, "heap_committed_mb": c} for pid, (a, c) in gcs.items()}
    for executor, p in executors.items():
        print(f"memory {args.preset}: executor {executor}: peak heap {p['heap_mb']} MB, peak RSS {p['rss_mb']} MB "
              f"(spark.executor.memory {args.executor_memory})", flush=True)
    for pid, g in training_gc.items():
        print(f"memory {args.preset}: executor JVM {pid}: largest heap after GC {g['heap_after_gc_mb']} MB of "
              f"{g['heap_committed_mb']} MB committed", flush=True)
    if len(executors) < args.executors or any(p["rss_mb"] == 0 for p in executors.values()):
        sys.exit(f"pretrain_runs: the event log in {events} has no process-tree memory of {args.executors} executors")
    rounds = exchange_rounds(os.environ.get("SPARKVIT_CACHE", os.path.expanduser("~/.cache/sparkvit")), events)
    # seconds per iteration: the epochs after the first, or, with one epoch or a failed run, the time between the
    # executor's gradient exchanges of the iterations after the first
    if len(seconds) > 1 and per_epoch:
        samples = [s / per_epoch for s in seconds[1:]]
    else:
        samples = [b - a for a, b in zip(rounds[1:], rounds[2:])]
    if not samples:
        sys.exit(f"pretrain_runs: no iteration finished in {out}.log")
    params = {"model": args.preset, "batch": args.batch, "executors": args.executors, "executor_cores": 1,
              "executor_memory": args.executor_memory, "driver_memory": args.driver_memory, "epochs": args.epochs,
              "iterations_per_epoch": per_epoch, "epoch_losses": losses, "segments": segments,
              "exchanges_started": len(rounds), "completed": failure is None, "failure": failure,
              "executor_peaks": executors, "executor_gc": training_gc,
              "wall_s": round(wall, 1), "seconds_per_epoch": seconds}
    return {"benchmark": "memory", "source": "sparkvit",
            "notes": {"what": f"conf/pretrain.yaml, {args.preset}, global batch {args.batch} on {args.executors} "
                              f"one-core executors of {args.executor_memory} (standalone); samples are seconds per "
                              f"iteration of the epochs after the first"},
            "measurements": [measurement("SimCLR pretraining, peak memory per executor", "standalone",
                                         args.executors, "s/iteration", params, samples)]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["scaling", "freezeout", "memory"])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--json", required=True)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--standalone", action="store_true", help="also 1 and 2 executors on the standalone cluster")
    parser.add_argument("--t0", default="0.8,0.5", help="FreezeOut t0 values to compare with no FreezeOut")
    parser.add_argument("--preset", help="model.preset of every run (default vit_nano_patch4_32; memory: "
                                              "vit_base_patch16_224)")
    parser.add_argument("--append", action="store_true", help="add the measurements to an existing --json file")
    parser.add_argument("--executor-memory", help="heap of each standalone executor (spark-submit.sh --executor-memory)")
    parser.add_argument("--master", help="memory: the standalone master URL")
    parser.add_argument("--executors", type=int, default=2, help="memory: one-core executors")
    parser.add_argument("--batch", type=int, default=8, help="memory: training.batch_size (global)")
    parser.add_argument("--driver-memory", default="4g", help="memory: spark-submit --driver-memory (3g ran the "
                                                                   "driver out of heap with ViT-B)")
    parser.add_argument("--reuse", action="store_true",
                        help="read a case's earlier log instead of running it again when it holds a whole run "
                             "(to finish an interrupted make bench)")
    args = parser.parse_args()
    if not os.path.isdir(args.dataset):
        sys.exit(f"pretrain_runs: --dataset {args.dataset} is not a folder (make it with sparkvit bench dataset)")
    os.makedirs(args.work, exist_ok=True)
    if args.what != "memory":
        args.preset = args.preset or "vit_nano_patch4_32"
    if args.what == "scaling":
        args.epochs = args.epochs or 4
        result = scaling(args)
    elif args.what == "memory":
        if not args.master:
            sys.exit("pretrain_runs: memory needs --master (the standalone cluster's URL)")
        args.epochs = args.epochs or 1
        args.executor_memory = args.executor_memory or "8g"
        args.preset = args.preset or "vit_base_patch16_224"
        result = memory(args)
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
