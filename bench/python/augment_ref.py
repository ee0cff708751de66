"""torchvision reference of sparkvit's SimCLR pair generation, per core: the same stored images (a dataset written
by `sparkvit ingest` or `sparkvit bench data --work DIR`, DIR/dataset-<size>), the same view pipeline, both views
of every image as normalised float CHW tensors, in one thread.

The pipeline is sparkvit's Augmentations.simclr, transform for transform:
  RandomResizedCrop(size, scale=(0.2, 1.0), ratio=(3/4, 4/3), bilinear, antialias)
  RandomHorizontalFlip(0.5)
  RandomApply([ColorJitter(0.8, 0.8, 0.8, 0.2)], p=0.8)
  RandomGrayscale(0.2)
  RandomApply([GaussianBlur(k, sigma=(0.1, 2.0))], p=0.5), k = max(3, int(0.1 * size) | 1), reflect padding
  ToTensor(), Normalize(manifest channel_mean, channel_std floored at 1e-3)
Images go in as PIL images (built from the stored bytes before timing), as a torchvision input pipeline holds them.
Differences that remain: torchvision runs the crop, flip, jitter and grayscale on 8-bit PIL images (rounding after
each step) and converts to float at the end, while sparkvit converts to float first and stays in float; the random
draws come from torch's generator instead of sparkvit's (seed, epoch, image, view) streams, with the same
distributions and probabilities. Each timed run makes passes = max(1, round(4 * 32^2 / size^2)) passes over the
images, pass p as epoch p, as `sparkvit bench data` does.
"""

import argparse
import sys

import torch
import torchvision
from PIL import Image
from torchvision import transforms as T

import bench_results
import sparkvit_dataset

PAIRS = "SimCLR pairs (two normalised views per stored image)"


def simclr(size, mean, std, api="v1"):
    """The SimCLR view pipeline of sparkvit's Augmentations.simclr, in torchvision."""
    kernel = max(3, int(0.1 * size) | 1)
    if api == "v2":
        from torchvision.transforms import v2
        return v2.Compose([
            v2.RandomResizedCrop(size, scale=(0.2, 1.0), ratio=(3 / 4, 4 / 3),
                                 interpolation=v2.InterpolationMode.BILINEAR, antialias=True),
            v2.RandomHorizontalFlip(0.5),
            v2.RandomApply([v2.ColorJitter(0.8, 0.8, 0.8, 0.2)], p=0.8),
            v2.RandomGrayscale(0.2),
            v2.RandomApply([v2.GaussianBlur(kernel, sigma=(0.1, 2.0))], p=0.5),
            v2.ToImage(), v2.ToDtype(torch.float32, scale=True),
            v2.Normalize(mean, std),
        ])
    return T.Compose([
        T.RandomResizedCrop(size, scale=(0.2, 1.0), ratio=(3 / 4, 4 / 3),
                            interpolation=T.InterpolationMode.BILINEAR, antialias=True),
        T.RandomHorizontalFlip(0.5),
        T.RandomApply([T.ColorJitter(0.8, 0.8, 0.8, 0.2)], p=0.8),
        T.RandomGrayscale(0.2),
        T.RandomApply([T.GaussianBlur(kernel, sigma=(0.1, 2.0))], p=0.5),
        T.ToTensor(),
        T.Normalize(mean, std),
    ])


def passes(size):
    """sparkvit's AugmentBenchmark.passes (Java's Math.round: half up)."""
    return max(1, int(4.0 * 32 * 32 / (size * size) + 0.5))


def load(dataset):
    """(stored size, PIL images in id order, mean, std) of a dataset folder."""
    manifest = sparkvit_dataset.read_manifest(dataset)
    table = sparkvit_dataset.read_images(dataset, ["id", "height", "width", "pixels"])
    rows = sorted(zip(*(table.column(c).to_pylist() for c in ["id", "height", "width", "pixels"])))
    images = [Image.frombytes("RGB", (w, h), pixels) for _, h, w, pixels in rows]
    mean = [float(m) for m in manifest["channel_mean"]]
    std = [max(float(s), 1e-3) for s in manifest["channel_std"]]
    return int(manifest["stored_size"]), images, mean, std


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", action="append", required=True,
                        help="dataset folder (repeatable): DIR/dataset-<size> of `sparkvit bench data --work DIR`")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs after a warm-up (default: 3)")
    parser.add_argument("--api", choices=["v1", "v2"], default="v1",
                        help="torchvision.transforms (v1, the SimCLR recipes' API) or transforms.v2")
    parser.add_argument("--json", help="write the measurements to this file")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    for d in args.dataset:
        try:
            sparkvit_dataset.read_manifest(d)
        except sparkvit_dataset.DatasetError as e:
            parser.error(f"--dataset {e} (`sparkvit bench data --work DIR` makes DIR/dataset-<size>)")
    torch.set_num_threads(1)
    torch.manual_seed(42)
    impl = "torchvision" if args.api == "v1" else "torchvision v2"
    results = []
    for dataset in args.dataset:
        size, images, mean, std = load(dataset)
        view = simclr(size, mean, std, args.api)
        n = passes(size)

        def run():
            for _ in range(n):
                for image in images:
                    view(image)
                    view(image)

        m = bench_results.measurement(PAIRS, impl, "pairs/s", {"size": size, "images": len(images), "passes": n},
                                      n * len(images), bench_results.timed_runs(args.repeats, run))
        bench_results.show(m)
        results.append(m)
    if args.json:
        bench_results.write(args.json, "data", {
            "reference": f"torchvision {torchvision.__version__} ({args.api}), torch {torch.__version__}, "
                         f"PIL {Image.__version__}",
            "python": sys.version.split()[0], "threads": "torch.set_num_threads(1)"}, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
