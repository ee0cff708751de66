#!/usr/bin/env python3
"""Writes the ViT parity fixtures that sparkvit's Java tests compare against.

For each tiny configuration below this builds timm's own VisionTransformer, moves every parameter away from its
initial value with seeded noise, runs one forward and one backward pass on a seeded input in eval mode, and saves
  <out>/<name>/weights.safetensors   the state dict under timm's names (config in the metadata)
  <out>/<name>/io.safetensors        input, output, grad_output, input_grad, and grad.<param> for every parameter
Run by hand with CPU PyTorch (see README.md in this folder); the fixtures are committed as test resources.
"""
import argparse
import json
import os

import timm
import torch
from safetensors.torch import save_file
from timm.models.vision_transformer import VisionTransformer

CONFIGS = {
    # class-token pooling, LayerScale on
    "vit_micro_token_ls": dict(img_size=16, patch_size=4, in_chans=3, num_classes=5, embed_dim=16, depth=2,
                               num_heads=2, mlp_ratio=2.0, init_values=0.5, global_pool="token"),
    # mean pooling (final norm moves after the pool: fc_norm), LayerScale off
    "vit_micro_avg": dict(img_size=16, patch_size=4, in_chans=3, num_classes=5, embed_dim=16, depth=2,
                          num_heads=2, mlp_ratio=2.0, init_values=None, global_pool="avg"),
}


def make(name, config, out_dir, seed):
    torch.manual_seed(seed)
    model = VisionTransformer(**config).float().eval()
    with torch.no_grad():
        for param in model.parameters():
            param.add_(0.2 * torch.randn_like(param))
    images = torch.randn(2, config["in_chans"], config["img_size"], config["img_size"], requires_grad=True)
    output = model(images)
    grad_output = torch.randn_like(output)
    output.backward(grad_output)

    folder = os.path.join(out_dir, name)
    os.makedirs(folder, exist_ok=True)
    meta = {"config": json.dumps(config), "timm": timm.__version__, "torch": torch.__version__, "seed": str(seed)}
    weights = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(weights, os.path.join(folder, "weights.safetensors"), metadata=meta)
    io = {"input": images.detach(), "output": output.detach(), "grad_output": grad_output,
          "input_grad": images.grad.detach()}
    for key, param in model.named_parameters():
        io["grad." + key] = param.grad.detach().contiguous()
    save_file(io, os.path.join(folder, "io.safetensors"), metadata=meta)
    print(f"{name}: {sum(p.numel() for p in model.parameters())} parameters, output {tuple(output.shape)} -> {folder}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..", "model", "src", "test",
                                                      "resources", "parity"))
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    torch.set_num_threads(1)
    for name, config in CONFIGS.items():
        make(name, config, os.path.abspath(args.out), args.seed)


if __name__ == "__main__":
    main()
