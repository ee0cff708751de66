#!/usr/bin/env python3
"""Writes the linear-probe fixture of CentredLogisticRegressionTest: real encoder features and scikit-learn's accuracy.

    make_probe_fixture.py --dataset DATASET --weights W.safetensors --output DIR [--kind mean|pooled] [--train N]

The features are those sparkvit's probe computes, taken with timm on the same weights (sparkvit's weights files load
into timm by name, tools/parity): a sparkvit dataset's stored images (its table's current snapshot, read with
bench/python/sparkvit_dataset.py: split, label_index, height, width, pixels as RGB bytes) normalised by its manifest's
mean and std, through the encoder in eval mode; `pooled` is the encoder's output (class token after the final norm),
`mean` the mean of the patch tokens leaving the last block.
Written to DIR: features.bin (float32 little-endian, rows x dim, train rows first, then val), labels.bin (int8) and
fixture.json (shape, split sizes, the L2 strength, scikit-learn's val accuracy with C = 1 / (reg * n_train) on
StandardScaler features: the objective sparkvit's probe minimises). Needs torch, timm, safetensors, scikit-learn,
pyarrow (e.g. the venv of `make parity` plus scikit-learn and pyarrow).
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
from safetensors.torch import load_file
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from timm.models.vision_transformer import VisionTransformer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "python"))
import sparkvit_dataset  # noqa: E402  bench/python/sparkvit_dataset.py: the dataset's manifest and images

REG = 1e-4  # LinearProbe.PROBE_REG


def read_split(dataset, split):
    t = sparkvit_dataset.read_images(dataset, ["id", "split", "label_index", "height", "width", "pixels"])
    rows = sorted((r for r in t.to_pylist() if r["split"] == split), key=lambda r: r["id"])
    x = np.stack([np.frombuffer(r["pixels"], np.uint8).reshape(r["height"], r["width"], 3) for r in rows])
    y = np.array([r["label_index"] for r in rows], np.int64)
    return x, y


def features(model, images, mean, std, kind):
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0
    x = (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
    with torch.no_grad():
        tokens = model.forward_features(x) if kind == "pooled" else None
        if kind == "pooled":
            return model.forward_head(tokens, pre_logits=True).numpy()
        t = model.patch_embed(x)
        t = model._pos_embed(t)
        t = model.blocks(t)
        return t[:, 1:].mean(1).numpy()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", required=True)
    p.add_argument("--weights", required=True)
    p.add_argument("--output", required=True)
    p.add_argument("--kind", default="mean", choices=["mean", "pooled"])
    p.add_argument("--train", type=int, default=0, help="keep the first N train rows (0: all)")
    a = p.parse_args()
    try:
        manifest = sparkvit_dataset.read_manifest(a.dataset)
    except sparkvit_dataset.DatasetError as e:
        p.error(f"--dataset {e}")
    mean, std = manifest["channel_mean"], manifest["channel_std"]
    state = {k: v for k, v in load_file(a.weights).items() if not k.startswith(("projection.", "head."))}
    layer_scale = "blocks.0.ls1.gamma" in state
    model = VisionTransformer(img_size=32, patch_size=4, embed_dim=64, depth=4, num_heads=4, mlp_ratio=2.0,
                              num_classes=0, init_values=float(state["blocks.0.ls1.gamma"][0]) if layer_scale else None,
                              global_pool="token" if "norm.weight" in state else "avg")
    model.load_state_dict(state, strict=True)
    model.eval()
    xt, yt = read_split(a.dataset, "train")
    xv, yv = read_split(a.dataset, "val")
    if a.train:
        xt, yt = xt[:a.train], yt[:a.train]
    ft, fv = features(model, xt, mean, std, a.kind), features(model, xv, mean, std, a.kind)
    scaler = StandardScaler().fit(ft)
    lr = LogisticRegression(C=1.0 / (REG * len(ft)), max_iter=20000, tol=1e-8)
    lr.fit(scaler.transform(ft), yt)
    acc = float((lr.predict(scaler.transform(fv)) == yv).mean())
    os.makedirs(a.output, exist_ok=True)
    np.concatenate([ft, fv]).astype("<f4").tofile(os.path.join(a.output, "features.bin"))
    np.concatenate([yt, yv]).astype(np.int8).tofile(os.path.join(a.output, "labels.bin"))
    info = {"kind": a.kind, "dim": int(ft.shape[1]), "train": len(ft), "val": len(fv), "reg": REG,
            "sklearn_val_accuracy": acc, "sklearn_iterations": int(lr.n_iter_.max()),
            "feature_mean_abs": float(np.abs(ft.mean(0)).mean()), "feature_std": float(ft.std(0).mean()),
            "weights": os.path.basename(a.weights)}
    json.dump(info, open(os.path.join(a.output, "fixture.json"), "w"), indent=1)
    print(json.dumps(info))


if __name__ == "__main__":
    main()
