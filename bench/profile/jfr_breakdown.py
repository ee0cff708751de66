#!/usr/bin/env python3
"""Breaks a JFR recording's CPU samples down by where the time goes, for the ViT benchmark's profile.

Counts jdk.ExecutionSample (threads running Java) and jdk.NativeMethodSample (threads inside a native method, such
as MKL's sgemm behind JNI) of one thread name (default: the thread that ran most samples), and attributes each
sample to the innermost sparkvit frame (dev.sparkvit.*) and, inside it, to "native" (MKL) or "java". Usage:
    jfr_breakdown.py RECORDING.jfr [--thread NAME] [--top 30]
Needs the JDK's `jfr` tool on the PATH.
"""
import argparse
import collections
import json
import subprocess
import sys


def events(recording):
    out = subprocess.run(["jfr", "print", "--json", "--stack-depth", "64", "--events",
                          "jdk.ExecutionSample,jdk.NativeMethodSample", recording],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["recording"]["events"]


def frame_name(frame):
    method = frame["method"]
    return method["type"]["name"].replace("/", ".") + "." + method["name"]


def short(name):
    """dev.sparkvit.model.layers.Gelu.updateGradInput -> Gelu.updateGradInput"""
    parts = name.split(".")
    return ".".join(parts[-2:])


def owner_of(frames):
    """The innermost sparkvit frame that is not the BLAS wrapper, i.e. the layer or optimiser method."""
    for f in frames:
        name = frame_name(f)
        if name.startswith("dev.sparkvit.") and not name.startswith("dev.sparkvit.engine.Blas."):
            return short(name)
    return "(outside sparkvit)"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("recording")
    parser.add_argument("--thread")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--within", default="VitStepBenchmark.step",
                        help="count only samples with this method on the stack ('' for all)")
    args = parser.parse_args()
    samples = events(args.recording)
    by_thread = collections.Counter(e["values"]["sampledThread"]["javaName"] for e in samples)
    thread = args.thread or by_thread.most_common(1)[0][0]
    owner = collections.Counter()
    top = collections.Counter()
    total = 0
    for e in samples:
        v = e["values"]
        if v["sampledThread"]["javaName"] != thread or v["stackTrace"] is None:
            continue
        frames = v["stackTrace"]["frames"]
        if args.within and not any(frame_name(f).endswith(args.within) for f in frames):
            continue
        native = e["type"] == "jdk.NativeMethodSample"
        total += 1
        top[("native " if native else "java   ") + short(frame_name(frames[0]))] += 1
        owner[owner_of(frames) + (" [MKL]" if native else "")] += 1
    print(f"thread {thread}: {total} samples within {args.within or 'anything'} "
          f"(of {sum(by_thread.values())} in all threads)")
    print("\nby innermost sparkvit method:")
    for name, n in owner.most_common(args.top):
        print(f"  {100.0 * n / total:5.1f}%  {n:6d}  {name}")
    print("\nby top frame:")
    for name, n in top.most_common(args.top):
        print(f"  {100.0 * n / total:5.1f}%  {n:6d}  {name}")


if __name__ == "__main__":
    sys.exit(main())
