#!/usr/bin/env python3
"""Reference side of `sparkvit bench vit`: ViT training-step throughput in plain CPU PyTorch.

The model is written out here (no timm) with sparkvit's architecture for the named preset: patch embedding as a
convolution with kernel = stride = patch, a class token, a learned position embedding, pre-norm blocks (LayerNorm
eps 1e-6, attention with a biased fused qkv projection, LayerScale on both branches at sparkvit's initial value,
exact-erf GELU, MLP ratio 4), the final LayerNorm, the class token into a linear head. One training step is
forward, cross-entropy, backward and torch.optim.AdamW, on a fixed synthetic batch.

Timing: `--warmup` steps, then `--repeats` blocks of `--steps` timed steps; each block gives one images/s sample
(batch * steps / seconds). The GEMM peak is torch.mm on 1024 x 1024 float32 matrices at the same thread count;
MFU = images/s * training FLOPs per image / peak. Writes the JSON schema of sparkvit's benchmarks with
"source": "reference".
"""
import argparse
import json
import math
import os
import platform
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# name -> (img_size, patch, in_chans, embed_dim, depth, heads, mlp_ratio, layer_scale_init or None); mirrors
# model/src/main/java/dev/sparkvit/model/vit/VitPresets.java (LayerScale 1e-5 at depth 12: LayerScaleDefaults)
PRESETS = {
    "vit_nano_patch4_32": (32, 4, 3, 64, 4, 4, 2.0, 0.1),
    "vit_tiny_patch4_32": (32, 4, 3, 192, 12, 3, 4.0, 1e-5),
    "vit_tiny_patch16_224": (224, 16, 3, 192, 12, 3, 4.0, 1e-5),
    "vit_small_patch16_224": (224, 16, 3, 384, 12, 6, 4.0, 1e-5),
    "vit_base_patch16_224": (224, 16, 3, 768, 12, 12, 4.0, 1e-5),
}
LN_EPS = 1e-6
GEMM_N = 1024


class LayerScale(nn.Module):
    def __init__(self, dim, init):
        super().__init__()
        self.gamma = nn.Parameter(torch.full((dim,), float(init)))

    def forward(self, x):
        return x * self.gamma


class Attention(nn.Module):
    def __init__(self, dim, heads, fused):
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.scale = self.head_dim ** -0.5
        self.fused = fused
        self.qkv = nn.Linear(dim, 3 * dim, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, t, c = x.shape
        qkv = self.qkv(x).reshape(b, t, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        if self.fused:
            y = F.scaled_dot_product_attention(q, k, v)
        else:
            y = (q * self.scale) @ k.transpose(-2, -1)
            y = y.softmax(dim=-1) @ v
        return self.proj(y.transpose(1, 2).reshape(b, t, c))


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio, ls_init, fused):
        super().__init__()
        hidden = int(dim * mlp_ratio)
        self.norm1 = nn.LayerNorm(dim, eps=LN_EPS)
        self.attn = Attention(dim, heads, fused)
        self.ls1 = LayerScale(dim, ls_init) if ls_init else nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=LN_EPS)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(approximate="none"), nn.Linear(hidden, dim))
        self.ls2 = LayerScale(dim, ls_init) if ls_init else nn.Identity()

    def forward(self, x):
        x = x + self.ls1(self.attn(self.norm1(x)))
        return x + self.ls2(self.mlp(self.norm2(x)))


class VisionTransformer(nn.Module):
    def __init__(self, img, patch, chans, dim, depth, heads, mlp_ratio, ls_init, classes, fused):
        super().__init__()
        tokens = (img // patch) ** 2 + 1
        self.patch_embed = nn.Conv2d(chans, dim, kernel_size=patch, stride=patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.randn(1, tokens, dim) * 0.02)
        self.blocks = nn.Sequential(*[Block(dim, heads, mlp_ratio, ls_init, fused) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=LN_EPS)
        self.head = nn.Linear(dim, classes)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)
        nn.init.normal_(self.cls_token, std=1e-6)

    def forward(self, images):
        x = self.patch_embed(images).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        x = self.norm(self.blocks(x))
        return self.head(x[:, 0])


def expected_parameters(img, patch, chans, dim, depth, heads, mlp_ratio, ls_init, classes):
    """Parameter count from the dims (the same formula as sparkvit's ModelSummary)."""
    n = (img // patch) ** 2
    hidden = int(dim * mlp_ratio)
    stem = dim * chans * patch * patch + dim + dim + (n + 1) * dim
    block = 4 * dim + (3 * dim * dim + 3 * dim) + (dim * dim + dim) + (2 * hidden * dim + hidden + dim)
    block += 2 * dim if ls_init else 0
    return stem + depth * block + 2 * dim + dim * classes + classes


def counted_flops(model, images, labels):
    """Matmul/conv FLOPs torch counts for one image: forward, and forward + backward (FlopCounterMode)."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as forward_only:
        with torch.no_grad():
            model(images[:1])
    with FlopCounterMode(display=False) as training:
        F.cross_entropy(model(images[:1]), labels[:1]).backward()
    model.zero_grad(set_to_none=True)
    return forward_only.get_total_flops(), training.get_total_flops()


def gemm_peak(threads, seconds=1.0):
    """float32 torch.mm GFLOP/s on 1024 x 1024 matrices at the current thread count."""
    a = torch.randn(GEMM_N, GEMM_N)
    b = torch.randn(GEMM_N, GEMM_N)
    c = torch.empty(GEMM_N, GEMM_N)
    for _ in range(3):
        torch.mm(a, b, out=c)
    calls = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        torch.mm(a, b, out=c)
        calls += 1
    return 2.0 * GEMM_N ** 3 * calls / (time.perf_counter() - start) / 1e9


def median(values):
    return statistics.median(values)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, choices=sorted(PRESETS))
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=4, help="timed steps per repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--attention", choices=["sdpa", "matmul"], default="sdpa",
                        help="F.scaled_dot_product_attention (timm's default) or softmax(q k^T) v written out")
    parser.add_argument("--expect-params", type=int, help="sparkvit's parameter count; must match")
    parser.add_argument("--expect-flops", type=int, help="sparkvit's flops_per_image; must match")
    parser.add_argument("--json", help="write the measurements here")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for name in ("batch", "threads", "steps", "repeats", "classes"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.warmup < 0:
        parser.error("--warmup must be >= 0")

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already set in this process
    torch.manual_seed(args.seed)

    img, patch, chans, dim, depth, heads, mlp_ratio, ls_init = PRESETS[args.model]
    model = VisionTransformer(img, patch, chans, dim, depth, heads, mlp_ratio, ls_init, args.classes,
                              args.attention == "sdpa").train()
    params = sum(p.numel() for p in model.parameters())
    expected = expected_parameters(img, patch, chans, dim, depth, heads, mlp_ratio, ls_init, args.classes)
    if params != expected:
        sys.exit(f"vit_step.py: model has {params} parameters, the preset's dims give {expected}")
    if args.expect_params is not None and params != args.expect_params:
        sys.exit(f"vit_step.py: {params} parameters, sparkvit has {args.expect_params}: not the same architecture")

    images = torch.randn(args.batch, chans, img, img)
    labels = torch.randint(0, args.classes, (args.batch,))
    forward_flops, counted_training = counted_flops(model, images, labels)
    flops_per_image = 3 * forward_flops
    print(f"vit_step.py: {args.model}, {params:,} parameters, forward {forward_flops:,} FLOP/image "
          f"(torch FlopCounterMode), training 3 x forward = {flops_per_image:,}; counted forward+backward "
          f"{counted_training:,} (no input-image gradient)")
    if args.expect_flops is not None and flops_per_image != args.expect_flops:
        sys.exit(f"vit_step.py: training FLOPs {flops_per_image} differ from sparkvit's {args.expect_flops}")

    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        return loss

    for _ in range(args.warmup):
        step()
    rates = []
    cpu_rates = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        cpu_start = time.process_time()
        for _ in range(args.steps):
            loss = step()
        rates.append(args.batch * args.steps / (time.perf_counter() - start))
        cpu_rates.append(args.batch * args.steps / (time.process_time() - cpu_start))
    if not math.isfinite(loss.item()):
        sys.exit("vit_step.py: the loss is not finite")
    peak = gemm_peak(args.threads)
    mfu = [100.0 * r * flops_per_image / (peak * 1e9) for r in rates]

    common = {"model": args.model, "batch": args.batch, "image_size": img, "classes": args.classes,
              "parameters": params, "flops_per_image": flops_per_image, "attention": args.attention}
    measurements = [
        {"name": "ViT training step (fwd+bwd+AdamW)", "impl": "pytorch", "threads": args.threads,
         "unit": "images/s", "params": dict(common, mode="step"), "samples": rates, "median": median(rates)},
        {"name": "ViT training MFU", "impl": "pytorch", "threads": args.threads, "unit": "% of GEMM peak",
         "params": dict(common, mode="step", gemm_peak_gflops=round(peak, 1)), "samples": mfu,
         "median": median(mfu)},
    ]
    for m in measurements:
        print(f"{m['name']:<44} {m['impl']:<16} {m['threads']:2d} thr  median {m['median']:10.2f} "
              f"{m['unit']:<10} of {len(m['samples'])}")
    print(f"images per CPU second (all threads of the process): median {median(cpu_rates):.2f}")
    print(f"GEMM peak (torch.mm {GEMM_N}^3 float32, {args.threads} threads): {peak:.1f} GFLOP/s")
    if args.json:
        result = {"benchmark": "vit", "source": "reference",
                  "notes": {"torch": torch.__version__, "python": platform.python_version(),
                            "interop_threads": torch.get_num_interop_threads(), "warmup_steps": args.warmup,
                            "timed_steps_per_sample": args.steps, "gemm_peak_gflops": peak,
                            "images_per_cpu_second_median": median(cpu_rates),
                            "counted_training_flops_per_image": counted_training,
                            "optimizer": "torch.optim.AdamW(lr=1e-3, weight_decay=0.05)"},
                  "measurements": measurements}
        tmp = args.json + ".tmp"
        with open(tmp, "w") as out:
            json.dump(result, out, indent=2)
            out.write("\n")
        os.replace(tmp, args.json)


if __name__ == "__main__":
    main()
