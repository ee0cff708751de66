#!/usr/bin/env python3
"""Breaks async-profiler's collapsed stacks (one line per stack, thread name first, sample count last; 1 ms per
sample at bench/profile/ingest-profile.sh's interval) down by thread and by part of an ingest job.

    collapsed_breakdown.py STACKS --runs N

Each stack goes to the first part whose marker occurs in it, in the order of PARTS; stacks with none go to their
thread. Milliseconds are per run (samples / N).
"""
import argparse
import collections
import re

PARTS = [
    ("per-file work (FileProcessor.process)", "FileProcessor.process"),
    ("JIT compiler threads", "CompilerThre"),
    ("task and closure (de)serialization", "serializ"),
    ("Parquet write", "FileFormatWriter"),
    ("shuffle write", "ShuffleWriter"),
    ("shuffle read", "ShuffleBlockFetcherIterator"),
    ("query planning", "QueryExecution"),
    ("DAG scheduler", "DAGScheduler"),
    ("cached outcomes (CachedBatch)", "CachedBatch"),
    ("cached outcomes (InMemoryRelation)", "InMemoryRelation"),
    ("manifest", "ManifestBuilder"),
    ("GC threads", "GC Thread"),
    ("chmod processes (Hadoop without its native library)", "Shell.run"),
]


def thread_of(stack):
    first = stack.split(";", 1)[0]
    return re.sub(r"\d+", "N", first.split(" tid=")[0].strip("["))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stacks")
    parser.add_argument("--runs", type=int, required=True)
    args = parser.parse_args()
    total = 0
    threads = collections.Counter()
    parts = collections.Counter()
    with open(args.stacks) as handle:
        for line in handle:
            stack, count = line.rstrip("\n").rsplit(" ", 1)
            n = int(count)
            total += n
            threads[thread_of(stack)] += n
            for name, marker in PARTS:
                if marker in stack:
                    parts[name] += n
                    break
            else:
                parts["other, thread " + thread_of(stack)] += n
    if total == 0:
        raise SystemExit(f"collapsed_breakdown.py: no samples in {args.stacks}")
    print(f"{total} samples, {total / args.runs:.0f} ms of CPU per run\n\nby thread (ms per run, share):")
    for name, n in threads.most_common(12):
        print(f"  {n / args.runs:7.0f}  {100 * n / total:5.1f}%  {name}")
    print("\nby part of the job:")
    for name, n in parts.most_common(20):
        print(f"  {n / args.runs:7.0f}  {100 * n / total:5.1f}%  {name}")


if __name__ == "__main__":
    main()
