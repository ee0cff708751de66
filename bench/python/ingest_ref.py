"""PIL reference of sparkvit's ingestion, per core: the same input files (`sparkvit bench data --work DIR` writes
them to DIR/inputs), the same per-file work and the same output layout, in one Python process.

Per file, as sparkvit's FileProcessor and ImageDecoder: size limit from the listing (64 MiB), read, SHA-256, empty
file, format recognised, width x height from the header checked against the pixel limit (100 Mpx) and the minimum
side (8) before decoding, PIL's verify() then a full decode (truncated and corrupt data fail), conversion to 8-bit
RGB, shorter side resized to the stored size and the centred square cropped in one antialiased bilinear resize
(PIL's resize with a box: sparkvit's Resampler is modelled on it). End to end adds what the ingest job does around
that: listing, labels from the class folders, split from the hash, dedupe by hash, the Parquet shards of the images
table (pyarrow, snappy, the same columns), classes.json and the manifest (counts, per-channel mean and std of the
train split).

Measured: "ingest work per file" (the per-file work) and "ingest end to end" in images/s and in images per
CPU-second of this process (params clock wall and cpu), median of --repeats runs after a warm-up, as `sparkvit bench
data` measures its own. Differences that remain: PIL decodes with libjpeg-turbo
and zlib in C where sparkvit uses ImageIO; PIL's verify() is an extra pass sparkvit does not make (its decoder
checks while decoding; --no-verify leaves it out); 16-bit images are clipped by PIL's convert("RGB") where sparkvit
scales them (no such file is in the benchmark set); nothing here runs through Spark.
"""

import argparse
import hashlib
import io
import json
import os
import shutil
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image, UnidentifiedImageError

import bench_results

WORK = "ingest work per file (read, hash, decode, validate, resize)"
END_TO_END = "ingest end to end (list, work, dedupe, Parquet write, manifest)"

SCHEMA = pa.schema([
    pa.field("id", pa.string(), nullable=False),
    pa.field("label", pa.string()),
    pa.field("label_index", pa.int32(), nullable=False),
    pa.field("split", pa.string(), nullable=False),
    pa.field("height", pa.int32(), nullable=False),
    pa.field("width", pa.int32(), nullable=False),
    pa.field("channels", pa.int32(), nullable=False),
    pa.field("pixels", pa.binary(), nullable=False),
    pa.field("source_path", pa.string(), nullable=False),
    pa.field("hash", pa.string(), nullable=False),
])


class Limits:
    """sparkvit's IngestSettings.defaults: stored size, minimum side, pixel and file-size limits, split fractions."""

    def __init__(self, stored_size, min_size=8, max_pixels=100_000_000, max_file_bytes=64 << 20,
                 train=0.8, val=0.1, verify=True):
        self.stored_size = stored_size
        self.min_size = min_size
        self.max_pixels = max_pixels
        self.max_file_bytes = max_file_bytes
        self.train = train
        self.val = val
        self.verify = verify


def list_files(root):
    """(path, length) of every file under root, in path order."""
    files = []
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            files.append((path, os.path.getsize(path)))
    files.sort()
    return files


def process(path, length, limits):
    """(hash, stored RGB image, None) or (hash or None, None, reason)."""
    if length > limits.max_file_bytes:
        return None, None, "too_large"
    try:
        with open(path, "rb") as f:
            data = f.read(limits.max_file_bytes + 1)
    except OSError:
        return None, None, "unreadable"
    digest = hashlib.sha256(data).hexdigest()
    if not data:
        return digest, None, "zero_bytes"
    try:
        image = Image.open(io.BytesIO(data))  # reads the header only
    except UnidentifiedImageError:
        return digest, None, "not_an_image"
    except OSError:
        return digest, None, "corrupt"
    width, height = image.size
    if width * height > limits.max_pixels:
        return digest, None, "too_large"
    if min(width, height) < limits.min_size:
        return digest, None, "too_small"
    try:
        if limits.verify:
            image.verify()
            image = Image.open(io.BytesIO(data))  # verify() leaves the image unusable
        image.load()
        if image.mode != "RGB":
            image = image.convert("RGB")
    except (OSError, SyntaxError, ValueError) as e:
        reason = "truncated" if "truncated" in str(e).lower() else "corrupt"
        return digest, None, reason
    scale = limits.stored_size / min(width, height)
    box = limits.stored_size / scale
    x0 = (width - box) / 2
    y0 = (height - box) / 2
    stored = image.resize((limits.stored_size, limits.stored_size), Image.BILINEAR,
                          box=(x0, y0, x0 + box, y0 + box))
    return digest, stored, None


def split_of(digest, limits):
    u = int(digest[:12], 16) / float(1 << 48)
    return "train" if u < limits.train else "val" if u < limits.train + limits.val else "test"


def work(files, limits):
    """The per-file work over every file; rejected files are an error (the benchmark set has none)."""
    for path, length in files:
        digest, stored, reason = process(path, length, limits)
        if stored is None:
            raise RuntimeError(f"benchmark input {path} was rejected: {reason}")


def ingest(root, output, limits, shards=4):
    """The whole ingest of root into output; returns the number of stored images."""
    root = os.path.abspath(root)
    files = list_files(root)
    rows = []
    seen = set()
    quarantined = {}
    for path, length in files:
        relative = os.path.relpath(path, root)
        label = relative.split(os.sep)[0] if os.sep in relative else None
        if label is None:
            quarantined["no_class_folder"] = quarantined.get("no_class_folder", 0) + 1
            continue
        digest, stored, reason = process(path, length, limits)
        if stored is None:
            quarantined[reason] = quarantined.get(reason, 0) + 1
            continue
        if digest in seen:  # files come in path order, so the first path of a content wins
            continue
        seen.add(digest)
        rows.append((digest, label, split_of(digest, limits), stored, "file:" + path))
    classes = sorted({r[1] for r in rows})
    index = {c: i for i, c in enumerate(classes)}
    os.makedirs(os.path.join(output, "images"))
    for s in range(shards):
        part = rows[s::shards]
        if not part:
            continue
        table = pa.table({
            "id": [r[0] for r in part],
            "label": [r[1] for r in part],
            "label_index": [index[r[1]] for r in part],
            "split": [r[2] for r in part],
            "height": [r[3].height for r in part],
            "width": [r[3].width for r in part],
            "channels": [3] * len(part),
            "pixels": [r[3].tobytes() for r in part],
            "source_path": [r[4] for r in part],
            "hash": [r[0] for r in part],
        }, schema=SCHEMA)
        pq.write_table(table, os.path.join(output, "images", f"part-{s:05d}.snappy.parquet"), compression="snappy")
    write_json(os.path.join(output, "classes.json"), {"classes": classes})
    write_json(os.path.join(output, "manifest.json"), manifest(rows, classes, quarantined, limits))
    return len(rows)


def manifest(rows, classes, quarantined, limits):
    counts = {}
    for r in rows:
        by_split = counts.setdefault(r[1], {})
        by_split[r[2]] = by_split.get(r[2], 0) + 1
    train = [r[3] for r in rows if r[2] == "train"] or [r[3] for r in rows]
    sums = np.zeros(3)
    squares = np.zeros(3)
    pixels = 0
    for image in train:
        a = np.asarray(image, dtype=np.float64).reshape(-1, 3) / 255.0
        sums += a.sum(axis=0)
        squares += (a * a).sum(axis=0)
        pixels += a.shape[0]
    mean = sums / max(pixels, 1)
    std = np.sqrt(np.maximum(0, squares / max(pixels, 1) - mean * mean))
    return {"stored_size": limits.stored_size, "labelled": True, "classes": classes, "images": len(rows),
            "counts": counts, "channel_mean": mean.tolist(), "channel_std": std.tolist(),
            "quarantined_by_reason": quarantined, "duplicates": 0}


def write_json(path, value):
    with open(path, "w") as out:
        json.dump(value, out, indent=2)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", required=True, help="input root: DIR/inputs of `sparkvit bench data --work DIR`")
    parser.add_argument("--output", required=True, help="folder for the reference's datasets (replaced)")
    parser.add_argument("--size", type=int, default=32, help="stored image side (default: 32)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs after a warm-up (default: 3)")
    parser.add_argument("--no-verify", action="store_true", help="leave out PIL's verify() pass")
    parser.add_argument("--end-to-end-only", action="store_true",
                        help="measure only the end-to-end ingest (bench/run.sh: the smaller set, DIR/inputs-<n>)")
    parser.add_argument("--json", help="write the measurements to this file")
    args = parser.parse_args(argv)
    if not os.path.isdir(args.input):
        parser.error(f"--input {args.input} is not a folder (run `sparkvit bench data --work DIR` first)")
    if not 8 <= args.size <= 4096 or args.repeats < 1:
        parser.error("--size must be 8 to 4096 and --repeats at least 1")
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    Image.MAX_IMAGE_PIXELS = None  # the pixel limit is checked from the header above, as sparkvit does
    limits = Limits(args.size, verify=not args.no_verify)
    files = list_files(args.input)
    if not files:
        parser.error(f"--input {args.input} holds no files")
    params = {"input_files": len(files), "stored_size": args.size}  # as sparkvit's IngestBenchmark
    impl = "pil" if limits.verify else "pil (no verify)"
    results = []

    def measure(name, run):
        """images per wall-clock second and per CPU-second of this process, from the same runs (as sparkvit)."""
        wall, cpu = bench_results.timed_runs_with_cpu(args.repeats, run)
        for clock, unit, seconds in (("wall", "images/s", wall), ("cpu", "images/CPU-s", cpu)):
            m = bench_results.measurement(name, impl, unit, dict(params, clock=clock), len(files), seconds)
            bench_results.show(m)
            results.append(m)

    if not args.end_to_end_only:
        measure(WORK, lambda: work(files, limits))

    shutil.rmtree(args.output, ignore_errors=True)
    os.makedirs(args.output)
    runs = [0]

    def end_to_end():
        out = os.path.join(args.output, f"ingest-{runs[0]}")
        runs[0] += 1
        stored = ingest(args.input, out, limits)
        if stored != len(files):
            raise RuntimeError(f"reference ingest stored {stored} of {len(files)} files")

    measure(END_TO_END, end_to_end)
    for run in range(runs[0] - 1):  # the last run's dataset stays
        shutil.rmtree(os.path.join(args.output, f"ingest-{run}"))
    if args.json:
        bench_results.write(args.json, "data", {
            "reference": "PIL " + Image.__version__ + ", pyarrow " + pa.__version__ + ", numpy " + np.__version__,
            "python": sys.version.split()[0], "process": "one process, pyarrow threads 1",
            "verify": limits.verify}, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
