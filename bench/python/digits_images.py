"""Writes scikit-learn's bundled digits (1,797 images, 10 classes) as an ImageFolder tree for `sparkvit ingest`.

    python digits_images.py --output DIR

DIR/<digit>/<index>.png, one 32x32 RGB PNG per image: the 8x8 grey values 0..16 scaled to 0..255 (rounded), upscaled
with PIL's bilinear filter and replicated to three channels; <index> is the image's position in
sklearn.datasets.load_digits, zero-padded to four digits. Deterministic: the same bytes on every run. The dataset ships
inside scikit-learn, so nothing is downloaded.
"""

import argparse
import os

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

SIZE = 32


def digit_images(size=SIZE):
    """(images uint8 (n, size, size, 3), labels int64 (n,)) in load_digits order."""
    digits = load_digits()
    grey = np.rint(digits.images * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)
    out = np.empty((len(grey), size, size, 3), dtype=np.uint8)
    for i, image in enumerate(grey):
        big = np.asarray(Image.fromarray(image, mode="L").resize((size, size), Image.BILINEAR))
        out[i] = big[:, :, None]
    return out, digits.target.astype(np.int64)


def write_tree(output, size=SIZE):
    """Writes the tree; returns the number of images written."""
    images, labels = digit_images(size)
    for digit in range(10):
        os.makedirs(os.path.join(output, str(digit)), exist_ok=True)
    for i, (image, label) in enumerate(zip(images, labels)):
        Image.fromarray(image, mode="RGB").save(os.path.join(output, str(label), f"{i:04d}.png"), optimize=False)
    return len(images)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True, help="folder to write DIR/<digit>/<index>.png into")
    parser.add_argument("--size", type=int, default=SIZE, help="side of the written images (default 32)")
    args = parser.parse_args(argv)
    n = write_tree(args.output, args.size)
    print(f"wrote {n} images to {args.output}")


if __name__ == "__main__":
    main()
