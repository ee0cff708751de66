"""PyTorch/timm reference of sparkvit's SimCLR -> linear probe -> fine-tuning pipeline, on a dataset ingested by
`sparkvit ingest` (issue 18: scikit-learn's digits).

    python digits_ref.py --dataset DATASET_DIR --json OUT.json [--seeds 1,2,3]
                         [--epochs-pretrain N] [--epochs-finetune M] [recipe flags, see --help]

The dataset is read as sparkvit stores it (the stored images of its table's current snapshot with the columns id,
label_index, split, height, width, pixels (uint8 RGB, HWC row-major), and the per-channel mean and std of its
manifest, through sparkvit_dataset.py), so the train/val/test split is exactly sparkvit's. For each seed the script runs

  1. baselines: logistic regression on the raw stored pixels, and a linear probe of the randomly initialised encoder;
  2. SimCLR pretraining (NT-Xent over both views of every image of a batch) of timm's VisionTransformer with
     sparkvit's `vit_nano_patch4_32` shape, AdamW with warmup + per-iteration cosine, clipping, an EMA of the weights;
  3. a linear probe of the EMA encoder (StandardScaler + LogisticRegression on frozen features, fit on train,
     scored on val and test), for the class token and for the mean of the patch tokens;
  4. supervised fine-tuning from the SSL encoder and from scratch (layer-wise lr decay, LP-FT head initialisation,
     optional mixup/cutmix, focal + label-smoothed cross-entropy), scored on test;

and writes every figure per seed plus the mean and standard deviation over seeds to a JSON file.

The augmentations mirror sparkvit's Java (spark-jobs/.../data/augment/Augmentations.java) batch-wise in torch:
random resized crop (bilinear, align-corners=False box mapping as PIL), horizontal flip, colour jitter (brightness,
contrast, saturation in a random order; hue is not implemented, it is the identity on grey images), grayscale,
Gaussian blur (kernel max(3, 0.1 x side | 1), reflect padding), rotation (mid-grey fill), normalisation. The random
draws come from torch's generator, not sparkvit's (seed, epoch, image, view) streams.

Defaults are sparkvit's own recipe for this dataset (conf/pretrain.yaml with 80 epochs: LayerScale off, SimCLR's
projection head with BatchNorm, random-resized-crop scale from 0.2; conf/finetune.yaml's auto recipe for a small
dataset: batch 16, lr 5e-4, light augmentation with flip, no mixup or cutmix, the combined loss, LP-FT heads), so
that `make bench` compares like with like. Measured better on the digits in this study (docs/PRETRAINING.md,
docs/FINETUNING.md), as flags: --pre-crop-min 0.5 (0.2 often leaves one stroke of an 8x8 digit), --ft-flip 0
(a mirrored digit is another glyph), --ft-loss ce, --ft-scratch-head-init random (a linear-probe head fit on a
random encoder's nearly constant class token has weights of |w| ~ 60 and is lost in the first epoch).
"""

import argparse
import copy
import dataclasses
import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field, fields

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from timm.models.vision_transformer import VisionTransformer

import sparkvit_dataset

# ---------------------------------------------------------------------------------------------------------- data


def load_dataset(path):
    """{split: (uint8 images (n, H, W, 3), int64 labels)}, rows in id order, plus (mean, std) from the manifest."""
    manifest = sparkvit_dataset.read_manifest(path)
    table = sparkvit_dataset.read_images(path, ["id", "label_index", "split", "height", "width", "pixels"])
    cols = {c: table.column(c).to_pylist() for c in table.column_names}
    order = sorted(range(len(cols["id"])), key=lambda i: cols["id"][i])
    out = {}
    for split in ("train", "val", "test"):
        idx = [i for i in order if cols["split"][i] == split]
        imgs = np.stack([np.frombuffer(cols["pixels"][i], dtype=np.uint8).reshape(cols["height"][i], cols["width"][i], 3)
                         for i in idx]) if idx else np.zeros((0, 32, 32, 3), np.uint8)
        labels = np.array([cols["label_index"][i] for i in idx], dtype=np.int64)
        out[split] = (imgs, labels)
    mean = [float(m) for m in manifest["channel_mean"]]
    std = [max(float(s), 1e-3) for s in manifest["channel_std"]]
    return out, mean, std


def to_tensor(images):
    """uint8 (n, H, W, 3) -> float (n, 3, H, W) in [0, 1]."""
    return torch.from_numpy(images).permute(0, 3, 1, 2).float().div_(255.0).contiguous()


# ------------------------------------------------------------------------------------------------ augmentations


def _uniform(n, lo, hi, gen):
    return torch.rand(n, generator=gen) * (hi - lo) + lo


def _luma(x):
    return (0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3])


def crop_flip(x, gen, scale=(0.2, 1.0), ratio=(3 / 4, 4 / 3), flip=0.5):
    """torchvision's RandomResizedCrop (ten tries, then the whole image) and a horizontal flip, one resampling."""
    b, _, h, w = x.shape
    area = h * w
    tries = 10
    target = torch.rand(b, tries, generator=gen) * (scale[1] - scale[0]) * area + scale[0] * area
    logr = torch.rand(b, tries, generator=gen) * (math.log(ratio[1]) - math.log(ratio[0])) + math.log(ratio[0])
    r = torch.exp(logr)
    cw = torch.round(torch.sqrt(target * r))
    ch = torch.round(torch.sqrt(target / r))
    ok = (cw > 0) & (ch > 0) & (cw <= w) & (ch <= h)
    first = ok.float().argmax(1, keepdim=True)
    found = ok.any(1)
    cw = torch.where(found, cw.gather(1, first).squeeze(1), torch.full((b,), float(w)))
    ch = torch.where(found, ch.gather(1, first).squeeze(1), torch.full((b,), float(h)))
    x0 = torch.floor(torch.rand(b, generator=gen) * (w - cw + 1))
    y0 = torch.floor(torch.rand(b, generator=gen) * (h - ch + 1))
    sx = cw / w
    flips = torch.rand(b, generator=gen) < flip
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0] = torch.where(flips, -sx, sx)
    theta[:, 0, 2] = (2 * x0 + cw) / w - 1
    theta[:, 1, 1] = ch / h
    theta[:, 1, 2] = (2 * y0 + ch) / h - 1
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def color_jitter(x, gen, strength, p):
    """Brightness, contrast and saturation factors in [max(0, 1 - s), 1 + s], in a random order per image, with
    probability p; results clamped to [0, 1]. (Hue omitted: the identity on grey images.)"""
    b = x.shape[0]
    bs, cs, ss = strength[:3]
    factors = [_uniform(b, max(0.0, 1 - s), 1 + s, gen).view(b, 1, 1, 1) for s in (bs, cs, ss)]
    order = torch.argsort(torch.rand(b, 3, generator=gen), dim=1)
    apply = (torch.rand(b, generator=gen) < p).view(b, 1, 1, 1)
    out = x
    for step in range(3):
        op = order[:, step].view(b, 1, 1, 1)
        bright = (out * factors[0]).clamp(0, 1)
        m = _luma(out).mean(dim=(1, 2, 3), keepdim=True)
        contrast = (factors[1] * out + (1 - factors[1]) * m).clamp(0, 1)
        sat = (factors[2] * out + (1 - factors[2]) * _luma(out)).clamp(0, 1)
        out = torch.where(op == 0, bright, torch.where(op == 1, contrast, sat))
    return torch.where(apply, out, x)


def grayscale(x, gen, p):
    apply = (torch.rand(x.shape[0], generator=gen) < p).view(-1, 1, 1, 1)
    return torch.where(apply, _luma(x).expand_as(x), x)


def gaussian_blur(x, gen, p, sigma=(0.1, 2.0)):
    """Separable blur, kernel max(3, int(0.1 side) | 1), sigma uniform per image, reflect padding, probability p."""
    b, c, h, w = x.shape
    k = max(3, int(0.1 * min(h, w)) | 1)
    r = k // 2
    s = _uniform(b, sigma[0], sigma[1], gen).view(b, 1)
    taps = torch.arange(-r, r + 1, dtype=torch.float32).view(1, k)
    kern = torch.exp(-taps ** 2 / (2 * s ** 2))
    kern = kern / kern.sum(1, keepdim=True)
    xp = F.pad(x, (r, r, r, r), mode="reflect")
    tmp = sum(kern[:, i].view(b, 1, 1, 1) * xp[:, :, :, i:i + w] for i in range(k))
    out = sum(kern[:, i].view(b, 1, 1, 1) * tmp[:, :, i:i + h, :] for i in range(k))
    apply = (torch.rand(b, generator=gen) < p).view(b, 1, 1, 1)
    return torch.where(apply, out, x)


def rotate(x, gen, max_degrees, p, fill=0.5):
    """Rotation about the centre by an angle uniform in [-max, max] with probability p; corners filled with fill."""
    b = x.shape[0]
    t = _uniform(b, -max_degrees, max_degrees, gen) * math.pi / 180
    t = torch.where(torch.rand(b, generator=gen) < p, t, torch.zeros(b))
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0] = torch.cos(t)
    theta[:, 0, 1] = torch.sin(t)
    theta[:, 1, 0] = -torch.sin(t)
    theta[:, 1, 1] = torch.cos(t)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x - fill, grid, mode="bilinear", padding_mode="zeros", align_corners=False) + fill


class Normalize:
    def __init__(self, mean, std):
        self.mean = torch.tensor(mean).view(1, -1, 1, 1)
        self.std = torch.tensor(std).view(1, -1, 1, 1)

    def __call__(self, x):
        return (x - self.mean) / self.std


def simclr_view(x, gen, norm, crop_min=0.2, jitter=0.8, flip=0.5, gray=0.2, blur=0.5):
    """sparkvit's Augmentations.simclr: crop [crop_min, 1], flip, jitter (0.8, 0.8, 0.8) p 0.8, grayscale p 0.2,
    blur p 0.5, normalisation. jitter is the strength (0 turns it off)."""
    v = crop_flip(x, gen, scale=(crop_min, 1.0), flip=flip)
    if jitter > 0:
        v = color_jitter(v, gen, (jitter, jitter, jitter), 0.8)
    if gray > 0:
        v = grayscale(v, gen, gray)
    if blur > 0:
        v = gaussian_blur(v, gen, blur)
    return norm(v)


def finetune_view(x, gen, norm, severity="moderate", flip=0.5):
    """sparkvit's fine-tuning pipelines: light (crop [0.8, 1], flip); moderate (crop [0.5, 1], flip, jitter 0.4
    p 0.8, blur p 0.2, rotation 15 degrees p 0.5); none (normalisation only)."""
    if severity == "none":
        return norm(x)
    if severity == "light":
        return norm(crop_flip(x, gen, scale=(0.8, 1.0), flip=flip))
    if severity == "moderate":
        v = crop_flip(x, gen, scale=(0.5, 1.0), flip=flip)
        v = color_jitter(v, gen, (0.4, 0.4, 0.4), 0.8)
        v = gaussian_blur(v, gen, 0.2)
        return norm(rotate(v, gen, 15.0, 0.5))
    raise ValueError(f"unknown severity {severity}")


def mix_batch(x, y_soft, gen, mixup_alpha, cutmix_alpha):
    """timm's Mixup in batch mode: with both on, one of mixup or cutmix per batch with equal chance; the partner of
    image i is image n - 1 - i; cutmix's lambda is corrected to the pasted area."""
    use_mix = mixup_alpha > 0
    use_cut = cutmix_alpha > 0
    if not (use_mix or use_cut):
        return x, y_soft
    cut = use_cut and (not use_mix or torch.rand(1, generator=gen).item() < 0.5)
    alpha = cutmix_alpha if cut else mixup_alpha
    lam = float(np.random.default_rng(int(torch.randint(0, 2**31 - 1, (1,), generator=gen))).beta(alpha, alpha))
    xf = x.flip(0)
    if cut:
        _, _, h, w = x.shape
        ratio = math.sqrt(1 - lam)
        ch, cw = int(h * ratio), int(w * ratio)
        cy = int(torch.randint(0, h, (1,), generator=gen))
        cx = int(torch.randint(0, w, (1,), generator=gen))
        y0, y1 = max(cy - ch // 2, 0), min(cy + ch // 2, h)
        x0, x1 = max(cx - cw // 2, 0), min(cx + cw // 2, w)
        x = x.clone()
        x[:, :, y0:y1, x0:x1] = xf[:, :, y0:y1, x0:x1]
        lam = 1 - (y1 - y0) * (x1 - x0) / (h * w)
    else:
        x = lam * x + (1 - lam) * xf
    return x, lam * y_soft + (1 - lam) * y_soft.flip(0)


# ----------------------------------------------------------------------------------------------------- model


def build_encoder(layer_scale=None, pool="token", drop_path=0.0):
    """sparkvit's vit_nano_patch4_32 as a timm VisionTransformer without classifier (timm's initialisation)."""
    return VisionTransformer(img_size=32, patch_size=4, in_chans=3, num_classes=0, embed_dim=64, depth=4,
                             num_heads=4, mlp_ratio=2.0, init_values=layer_scale, global_pool=pool,
                             drop_path_rate=drop_path)


class ProjectionHead(nn.Module):
    """SimCLR's g(.). kind: mlp (Linear-ReLU-Linear, sparkvit's), bn (Linear-BN-ReLU-Linear, SimCLR v1),
    bn-out (bn plus a BatchNorm without affine on the output, SimCLR v2 / MoCo v3)."""

    def __init__(self, dim=64, hidden=64, out=128, kind="mlp"):
        super().__init__()
        bn = kind in ("bn", "bn-out")
        layers = [nn.Linear(dim, hidden, bias=not bn)]
        if bn:
            layers.append(nn.BatchNorm1d(hidden))
        layers += [nn.ReLU(inplace=True), nn.Linear(hidden, out, bias=kind != "bn-out")]
        if kind == "bn-out":
            layers.append(nn.BatchNorm1d(out, affine=False))
        elif kind not in ("mlp", "bn"):
            raise ValueError(f"unknown projection head {kind}")
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


def nt_xent(z, temperature):
    """SimCLR's NT-Xent over 2N rows (views of image i at rows i and i + N); mean over rows."""
    z = F.normalize(z, dim=1)
    n2 = z.shape[0]
    n = n2 // 2
    sim = z @ z.t() / temperature
    sim.fill_diagonal_(float("-inf"))
    target = torch.cat([torch.arange(n, n2), torch.arange(0, n)])
    return F.cross_entropy(sim, target)


def param_groups(model, weight_decay, lr_scale=None):
    """AdamW groups: no decay on biases, norms, embeddings, LayerScale gammas (every tensor of rank <= 1 and the
    position/class embeddings); lr_scale(name) -> multiplier for layer-wise decay."""
    groups = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        no_decay = p.ndim <= 1 or name.endswith(("pos_embed", "cls_token")) or ".gamma" in name
        scale = lr_scale(name) if lr_scale else 1.0
        key = (no_decay, scale)
        g = groups.setdefault(key, {"params": [], "weight_decay": 0.0 if no_decay else weight_decay,
                                    "lr_scale": scale})
        g["params"].append(p)
    return list(groups.values())


def optimiser_step(model, opt, ema, loss, lr, clip):
    """One step of both loops: each group at lr x its lr_scale (1 in pretraining, layer-wise decay in fine-tuning),
    backward, global-norm clipping when clip > 0, AdamW, then the EMA."""
    for g in opt.param_groups:
        g["lr"] = lr * g["lr_scale"]
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if clip > 0:
        nn.utils.clip_grad_norm_(model.parameters(), clip)
    opt.step()
    ema.update(model)


def lr_at(it, total, warmup, peak):
    """Linear warmup ((it + 1) / warmup x peak), then cosine to 0 by the last iteration."""
    if it < warmup:
        return peak * (it + 1) / warmup
    t = (it - warmup) / max(1, total - warmup)
    return 0.5 * peak * (1 + math.cos(math.pi * t))


class Ema:
    """EMA of every parameter and buffer, with timm's warmup min(decay, (1 + k) / (10 + k)) when warmup is on."""

    def __init__(self, model, decay, warmup=True):
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.decay = decay
        self.warmup = warmup
        self.updates = 0

    @torch.no_grad()
    def update(self, model):
        d = min(self.decay, (1 + self.updates) / (10 + self.updates)) if self.warmup else self.decay
        self.updates += 1
        for e, m in zip(self.model.state_dict().values(), model.state_dict().values()):
            if e.dtype.is_floating_point:
                e.mul_(d).add_(m.detach(), alpha=1 - d)
            else:
                e.copy_(m)


# ----------------------------------------------------------------------------------------------------- probe


@torch.no_grad()
def features(encoder, x, norm, batch=512):
    """{'cls': class token after the final norm, 'mean': mean of the patch tokens, 'pooled': the encoder output}."""
    encoder.eval()
    out = {"cls": [], "mean": [], "pooled": []}
    for i in range(0, len(x), batch):
        xb = norm(x[i:i + batch])
        tokens = encoder.forward_features(xb)
        out["cls"].append(tokens[:, 0])
        out["mean"].append(tokens[:, encoder.num_prefix_tokens:].mean(1))
        out["pooled"].append(encoder.forward_head(tokens, pre_logits=True))
    return {k: torch.cat(v).numpy().astype(np.float64) for k, v in out.items()}


def logistic(train_x, train_y, evals, seed=0, max_iter=2000):
    """StandardScaler + multinomial LogisticRegression fit on train; accuracy on each (x, y) of evals."""
    scaler = StandardScaler().fit(train_x)
    clf = LogisticRegression(max_iter=max_iter, random_state=seed).fit(scaler.transform(train_x), train_y)
    return [float((clf.predict(scaler.transform(x)) == y).mean()) for x, y in evals], scaler, clf


def probe(encoder, data, norm, kinds=("cls", "mean")):
    """Linear probe of frozen features: {kind: {'val': acc, 'test': acc}}."""
    feats = {s: features(encoder, data[s][0], norm) for s in ("train", "val", "test")}
    out = {}
    for k in kinds:
        (val, test), _, _ = logistic(feats["train"][k], data["train"][1],
                                     [(feats["val"][k], data["val"][1]), (feats["test"][k], data["test"][1])])
        out[k] = {"val": val, "test": test}
    return out


@torch.no_grad()
def projection_cosine(encoder, head, x, norm):
    """Mean cosine between the projections of different images (un-augmented, eval mode)."""
    encoder.eval()
    head.eval()
    z = F.normalize(head(encoder(norm(x))), dim=1)
    c = z @ z.t()
    n = len(z)
    return float((c.sum() - c.diagonal().sum()) / (n * (n - 1)))


# ------------------------------------------------------------------------------------------------- pretrain


@dataclass
class PretrainRecipe:
    epochs: int = 80
    batch_size: int = 64
    temperature: float = 0.2
    lr: float = 1e-3
    weight_decay: float = 0.05
    warmup_epochs: int = 2
    clip: float = 1.0
    ema_decay: float = 0.999
    layer_scale: float = 0.0          # 0 = off (vit_nano_patch4_32: the depth rule, off below 12 blocks)
    pool: str = "token"               # token | avg
    proj_head: str = "bn"             # mlp (projection_norm: none) | bn (sparkvit's default) | bn-out
    proj_dim: int = 128
    crop_min: float = 0.2             # sparkvit's SimCLR pipeline; 0.5 measured better on the 8x8 digits
    jitter: float = 0.8
    blur: float = 0.5
    flip: float = 0.5
    probe_every: int = 0              # epochs; 0 = only at the start and the end


def pretrain(data, mean, std, recipe, seed, log=print):
    """SimCLR pretraining; returns (EMA encoder, record dict)."""
    torch.manual_seed(seed)
    norm = Normalize(mean, std)
    train_x = data["train"][0]
    encoder = build_encoder(recipe.layer_scale or None, recipe.pool)
    head = ProjectionHead(64, 64, recipe.proj_dim, recipe.proj_head)
    model = nn.Sequential(encoder, head)
    ema = Ema(model, recipe.ema_decay)
    opt = torch.optim.AdamW(param_groups(model, recipe.weight_decay), lr=recipe.lr)
    gen = torch.Generator().manual_seed(seed)
    n = len(train_x)
    iters = n // recipe.batch_size
    total = iters * recipe.epochs
    warmup = iters * recipe.warmup_epochs
    chance = math.log(2 * recipe.batch_size - 1)
    cos_x = data["val"][0][:256]
    rec = {"chance_loss": chance, "loss": [], "cosine": [], "probe": {}}
    rec["cosine_init"] = projection_cosine(encoder, head, cos_x, norm)
    rec["probe"]["0"] = probe(encoder, data, norm)
    log(f"  init: cos {rec['cosine_init']:.4f} probe {fmt_probe(rec['probe']['0'])}")
    it = 0
    for epoch in range(1, recipe.epochs + 1):
        model.train()
        perm = torch.randperm(n, generator=gen)
        losses = []
        t0 = time.time()
        for b in range(iters):
            xb = train_x[perm[b * recipe.batch_size:(b + 1) * recipe.batch_size]]
            v = torch.cat([simclr_view(xb, gen, norm, recipe.crop_min, recipe.jitter, recipe.flip, 0.2, recipe.blur)
                           for _ in range(2)])
            loss = nt_xent(model(v), recipe.temperature)
            optimiser_step(model, opt, ema, loss, lr_at(it, total, warmup, recipe.lr), recipe.clip)
            losses.append(loss.item())
            it += 1
        rec["loss"].append(float(np.mean(losses)))
        rec["cosine"].append(projection_cosine(encoder, head, cos_x, norm))
        line = (f"  epoch {epoch}: loss {rec['loss'][-1]:.4f} (chance {chance:.4f}) cos {rec['cosine'][-1]:.4f} "
                f"{time.time() - t0:.1f}s")
        if epoch == recipe.epochs or (recipe.probe_every and epoch % recipe.probe_every == 0):
            rec["probe"][str(epoch)] = probe(ema.model[0], data, norm)
            line += " EMA probe " + fmt_probe(rec["probe"][str(epoch)])
        log(line)
    rec["probe_final"] = rec["probe"][str(recipe.epochs)]
    rec["probe_random"] = rec["probe"]["0"]
    rec["loss_below_chance"] = chance - rec["loss"][-1]
    return ema.model[0], rec


def fmt_probe(p):
    return " ".join(f"{k} {v['val']:.3f}/{v['test']:.3f}" for k, v in p.items())


# ------------------------------------------------------------------------------------------------- finetune


@dataclass
class FinetuneRecipe:
    epochs: int = 30
    batch_size: int = 16               # sparkvit's auto recipe for a small dataset
    lr: float = 5e-4
    layer_decay: float = 0.75
    weight_decay: float = 0.05
    warmup_epochs: int = 3
    clip: float = 1.0
    drop_path: float = 0.1
    severity: str = "light"           # none | light | moderate (sparkvit's auto recipe for a small dataset: light)
    flip: float = 0.5                 # horizontal flip probability (sparkvit's light; 0 measured better on digits:
                                      # a mirrored digit is another glyph)
    mixup: float = 0.0                # alpha; 0 = off (sparkvit's small recipe: off)
    cutmix: float = 0.0               # alpha; 0 = off
    loss: str = "combined"            # ce | combined (0.5 focal + 0.5 label-smoothed CE; sparkvit's default)
    focal_gamma: float = 2.0
    label_smoothing: float = 0.1
    head_init: str = "linear_probe"   # from the SSL encoder: linear_probe (LP-FT) | random
    scratch_head_init: str = "linear_probe"  # from scratch: sparkvit's default; random measured better here
    ema_decay: float = 0.9999


def layer_id(name, depth):
    if name.startswith(("cls_token", "pos_embed", "patch_embed", "reg_token")):
        return 0
    if name.startswith("blocks."):
        return int(name.split(".")[1]) + 1
    return depth + 1


def classification_loss(logits, target, recipe):
    """Soft-target losses: ce (label-smoothed cross-entropy) or combined (0.5 focal + 0.5 smoothed CE)."""
    k = logits.shape[1]
    logp = F.log_softmax(logits, dim=1)
    smooth = target * (1 - recipe.label_smoothing) + recipe.label_smoothing / k
    ce = -(smooth * logp).sum(1).mean()
    if recipe.loss == "ce":
        return ce
    focal = -(target * (1 - logp.exp()) ** recipe.focal_gamma * logp).sum(1).mean()
    return 0.5 * focal + 0.5 * ce


@torch.no_grad()
def accuracy(model, x, y, norm, batch=512):
    model.eval()
    pred = torch.cat([model(norm(x[i:i + batch])).argmax(1) for i in range(0, len(x), batch)])
    return float((pred.numpy() == y).mean())


def finetune(data, mean, std, recipe, seed, encoder_state=None, pool="token", layer_scale=None, log=print):
    """Fine-tunes a classifier (from encoder_state, a state dict of the encoder, or from scratch); returns a record."""
    torch.manual_seed(seed + 1000)
    norm = Normalize(mean, std)
    classes = int(max(data["train"][1].max(), data["val"][1].max(), data["test"][1].max())) + 1
    model = build_encoder(layer_scale, pool, recipe.drop_path)
    if encoder_state is not None:
        model.load_state_dict(encoder_state)
    model.reset_classifier(classes)
    train_x, train_y = data["train"]
    if recipe.head_init == "linear_probe":
        feats = features(model, train_x, norm)["pooled"]
        _, scaler, clf = logistic(feats, train_y, [])
        w = clf.coef_ / scaler.scale_[None, :]
        b = clf.intercept_ - w @ scaler.mean_
        with torch.no_grad():
            model.head.weight.copy_(torch.from_numpy(w).float())
            model.head.bias.copy_(torch.from_numpy(b).float())
    depth = len(model.blocks)
    opt = torch.optim.AdamW(param_groups(model, recipe.weight_decay,
                                         lambda name: recipe.layer_decay ** (depth + 1 - layer_id(name, depth))),
                            lr=recipe.lr)
    ema = Ema(model, recipe.ema_decay)
    gen = torch.Generator().manual_seed(seed + 2000)
    n = len(train_x)
    iters = n // recipe.batch_size
    total = iters * recipe.epochs
    warmup = iters * recipe.warmup_epochs
    rec = {"val": [], "loss": []}
    it = 0
    for epoch in range(1, recipe.epochs + 1):
        model.train()
        perm = torch.randperm(n, generator=gen)
        losses = []
        for b in range(iters):
            idx = perm[b * recipe.batch_size:(b + 1) * recipe.batch_size]
            xb = finetune_view(train_x[idx], gen, norm, recipe.severity, recipe.flip)
            yb = F.one_hot(torch.from_numpy(train_y[idx.numpy()]), classes).float()
            xb, yb = mix_batch(xb, yb, gen, recipe.mixup, recipe.cutmix)
            loss = classification_loss(model(xb), yb, recipe)
            optimiser_step(model, opt, ema, loss, lr_at(it, total, warmup, recipe.lr), recipe.clip)
            losses.append(loss.item())
            it += 1
        rec["loss"].append(float(np.mean(losses)))
        rec["val"].append(accuracy(model, data["val"][0], data["val"][1], norm))
    rec["val_final"] = rec["val"][-1]
    rec["test"] = accuracy(model, data["test"][0], data["test"][1], norm)
    rec["test_ema"] = accuracy(ema.model, data["test"][0], data["test"][1], norm)
    rec["val_ema"] = accuracy(ema.model, data["val"][0], data["val"][1], norm)
    log(f"  finetune: val {rec['val_final']:.3f} test {rec['test']:.3f} (EMA val {rec['val_ema']:.3f} "
        f"test {rec['test_ema']:.3f}); val by epoch {' '.join(f'{v:.2f}' for v in rec['val'])}")
    return rec


# ------------------------------------------------------------------------------------------------- baselines


def raw_pixel_baseline(data, seed=0):
    flat = {s: data[s][0].reshape(len(data[s][0]), -1).astype(np.float64) / 255.0 for s in data}
    (val, test), _, _ = logistic(flat["train"], data["train"][1],
                                 [(flat["val"], data["val"][1]), (flat["test"], data["test"][1])], seed)
    return {"val": val, "test": test}


# ------------------------------------------------------------------------------------------------------ main


def run_seed(data, mean, std, pre, fin, seed, log=print):
    torch.manual_seed(seed)
    rec = {"seed": seed}
    rec["raw_pixels_lr"] = raw_pixel_baseline(data, seed)
    log(f"seed {seed}: raw-pixel LR val {rec['raw_pixels_lr']['val']:.3f} test {rec['raw_pixels_lr']['test']:.3f}")
    tensors = {s: (to_tensor(data[s][0]), data[s][1]) for s in data}
    encoder, rec["pretrain"] = pretrain(tensors, mean, std, pre, seed, log)
    rec["random_encoder_probe"] = rec["pretrain"]["probe_random"]
    rec["ssl_probe"] = rec["pretrain"]["probe_final"]
    ls = pre.layer_scale or None
    if fin.epochs > 0:
        log(" fine-tune from the SSL encoder")
        rec["finetune_ssl"] = finetune(tensors, mean, std, fin, seed, encoder.state_dict(), pre.pool, ls, log)
        log(" fine-tune from scratch")
        scratch = dataclasses.replace(fin, head_init=fin.scratch_head_init)
        rec["finetune_scratch"] = finetune(tensors, mean, std, scratch, seed, None, pre.pool, ls, log)
    return rec


SUMMARY_KEYS = [
    ("raw_pixels_lr.test", ("raw_pixels_lr", "test")),
    ("raw_pixels_lr.val", ("raw_pixels_lr", "val")),
    ("random_encoder_probe.cls.val", ("random_encoder_probe", "cls", "val")),
    ("random_encoder_probe.cls.test", ("random_encoder_probe", "cls", "test")),
    ("random_encoder_probe.mean.val", ("random_encoder_probe", "mean", "val")),
    ("ssl_probe.cls.val", ("ssl_probe", "cls", "val")),
    ("ssl_probe.cls.test", ("ssl_probe", "cls", "test")),
    ("ssl_probe.mean.val", ("ssl_probe", "mean", "val")),
    ("ssl_probe.mean.test", ("ssl_probe", "mean", "test")),
    ("pretrain.loss_below_chance", ("pretrain", "loss_below_chance")),
    ("pretrain.cosine_init", ("pretrain", "cosine_init")),
    ("pretrain.cosine_final", ("pretrain", "cosine", -1)),
    ("finetune_ssl.test", ("finetune_ssl", "test")),
    ("finetune_ssl.test_ema", ("finetune_ssl", "test_ema")),
    ("finetune_scratch.test", ("finetune_scratch", "test")),
    ("finetune_scratch.test_ema", ("finetune_scratch", "test_ema")),
]


def summarise(records):
    out = {}
    for name, path in SUMMARY_KEYS:
        vals = []
        for r in records:
            v = r
            try:
                for p in path:
                    v = v[p]
            except (KeyError, IndexError, TypeError):
                v = None
            if v is not None:
                vals.append(float(v))
        if vals:
            out[name] = {"mean": float(np.mean(vals)), "std": float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0,
                         "min": float(np.min(vals)), "max": float(np.max(vals)), "n": len(vals)}
    return out


def add_recipe_flags(parser, cls, prefix):
    for f in fields(cls):
        flag = f"--{prefix}-{f.name.replace('_', '-')}"
        parser.add_argument(flag, type=type(f.default), default=f.default, dest=f"{prefix}_{f.name}",
                            help=f"(default {f.default})")


def recipe_from(args, cls, prefix):
    return cls(**{f.name: getattr(args, f"{prefix}_{f.name}") for f in fields(cls)})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", required=True, help="folder written by `sparkvit ingest`")
    parser.add_argument("--json", required=True, help="results file to write")
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated seeds (default 1,2,3)")
    parser.add_argument("--epochs-pretrain", type=int, default=None, help="shorthand for --pre-epochs")
    parser.add_argument("--epochs-finetune", type=int, default=None, help="shorthand for --ft-epochs")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    add_recipe_flags(parser, PretrainRecipe, "pre")
    add_recipe_flags(parser, FinetuneRecipe, "ft")
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)
    torch.set_num_threads(args.threads)
    pre = recipe_from(args, PretrainRecipe, "pre")
    fin = recipe_from(args, FinetuneRecipe, "ft")
    if args.epochs_pretrain is not None:
        pre.epochs = args.epochs_pretrain
    if args.epochs_finetune is not None:
        fin.epochs = args.epochs_finetune
    try:
        data, mean, std = load_dataset(args.dataset)
    except sparkvit_dataset.DatasetError as e:
        parser.error(f"--dataset {e}")
    print(f"dataset {args.dataset}: " + ", ".join(f"{s} {len(data[s][1])}" for s in data)
          + f"; mean {mean} std {std}")
    records = []
    started = time.time()
    for seed in [int(s) for s in args.seeds.split(",")]:
        records.append(run_seed(data, mean, std, pre, fin, seed))
        result = {"dataset": os.path.abspath(args.dataset), "splits": {s: len(data[s][1]) for s in data},
                  "channel_mean": mean, "channel_std": std, "pretrain_recipe": asdict(pre),
                  "finetune_recipe": asdict(fin), "torch": torch.__version__, "threads": args.threads,
                  "seconds": time.time() - started, "per_seed": records, "summary": summarise(records)}
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    for name, s in result["summary"].items():
        print(f"{name:34s} {s['mean']:.4f} +- {s['std']:.4f} (min {s['min']:.4f}, max {s['max']:.4f}, n {s['n']})")


if __name__ == "__main__":
    main()
