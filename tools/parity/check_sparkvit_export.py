#!/usr/bin/env python3
"""Checks that weights exported by sparkvit load into timm's VisionTransformer and give sparkvit's output.

Input: the folders PyTorchParityTest writes under model/target/parity-export/ (run `make test` first), each with
weights.safetensors (timm names, timm constructor arguments in the metadata) and io.safetensors (input, output).
Exit status 0 when every folder matches within 1e-4 relative error.
"""
import argparse
import json
import os
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file
from timm.models.vision_transformer import VisionTransformer


def check(folder):
    weights_file = os.path.join(folder, "weights.safetensors")
    with safe_open(weights_file, framework="pt") as f:
        config = json.loads(f.metadata()["config"])
    model = VisionTransformer(**config).float().eval()
    model.load_state_dict(load_file(weights_file), strict=True)
    io = load_file(os.path.join(folder, "io.safetensors"))
    with torch.no_grad():
        output = model(io["input"])
    error = ((output - io["output"]).abs().max() / io["output"].abs().max()).item()
    print(f"{os.path.basename(folder)}: timm output vs sparkvit output, relative error {error:.3g}")
    return error < 1e-4


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("export_dir", nargs="?", default=os.path.join(os.path.dirname(__file__), "..", "..", "model",
                                                                       "target", "parity-export"))
    args = parser.parse_args()
    folders = sorted(os.path.join(args.export_dir, d) for d in os.listdir(args.export_dir))
    if not folders:
        sys.exit(f"no exports under {args.export_dir}: run `make test` first")
    ok = all([check(folder) for folder in folders])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
