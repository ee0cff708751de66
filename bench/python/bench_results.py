"""The benchmark JSON schema shared with sparkvit's BenchResults (Java): one file per benchmark,
{"benchmark", "source", "notes", "measurements": [{name, impl, threads, unit, params, samples, median}]}.
The references write "source": "reference"; bench/report.py pairs measurements of the same name and params."""

import json
import os
import statistics
import tempfile
import time


def timed_runs(repeats, work):
    """Seconds of each of `repeats` calls of work(), after one untimed warm-up call (as sparkvit's Timing)."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    work()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        seconds.append(time.perf_counter() - start)
    return seconds


def timed_runs_with_cpu(repeats, work):
    """(wall seconds, process CPU seconds) of each of `repeats` calls of work() after a warm-up call, as sparkvit's
    Timing.runs: CPU time of this whole process (pyarrow's threads too)."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    work()
    wall, cpu = [], []
    for _ in range(repeats):
        cpu_start = time.process_time()
        start = time.perf_counter()
        work()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
    return wall, cpu


def measurement(name, impl, unit, params, items, seconds, threads=1):
    """A rate measurement: items / seconds of each run; median as sparkvit's Measurement.median()."""
    samples = [items / s for s in seconds]
    return {"name": name, "impl": impl, "threads": threads, "unit": unit, "params": params,
            "samples": samples, "median": statistics.median(samples)}


def write(path, benchmark, notes, measurements):
    """Writes the file atomically (temporary file, then rename)."""
    doc = {"benchmark": benchmark, "source": "reference", "notes": notes, "measurements": measurements}
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
    with os.fdopen(fd, "w") as out:
        json.dump(doc, out, indent=2)
        out.write("\n")
    os.replace(tmp, path)


def show(m):
    """One line per measurement, in the format sparkvit prints."""
    print(f"{m['name']:<64} {m['impl']:<16} {m['threads']:2d} thr  median {m['median']:10.2f} {m['unit']:<10} "
          f"of {len(m['samples'])}  {m['params']}", flush=True)
