#!/usr/bin/python3
"""Writes the mergekit reference fixtures of MergekitReferenceTest (run once; the output is committed).

Debian bookworm's python3-torch 1.13.1 and python3-numpy 1.24.2 (apt-get install python3-torch),
from the repository root:

    /usr/bin/python3 src/test/resources/mergekit-reference/make_fixtures.py

Written from mergekit's method code as read (merge_methods/linear.py, generalized_task_arithmetic.py,
sparsify.py, ram.py, nearswap.py, passthrough.py, slerp.py, model_stock.py, sce.py; io/tasks.py LoadTensor casting every input to the recipe's dtype), in plain
torch, not with mergekit itself. Three models fine-tuned from a base, all stored as F32 (the issue's
case: F32 inputs, `dtype: bfloat16`). For every recipe two outputs are written:

- `<case>.expected.safetensors`: the inputs cast to `dtype` as mergekit does, then mergekit's formula
  evaluated in F32 (ties at a top-k threshold: lower index first) and cast to the output dtype once.
  This is what Amalgam documents it computes: the Java test compares bit for bit. Where Amalgam
  deliberately differs from mergekit (docs/recipes.md), the reference follows Amalgam's rule and says
  so: breadcrumbs with int(gamma*n) = 0 drops no top elements.
- `<case>.mergekit.safetensors` (dtype bfloat16 cases): mergekit's formula with every intermediate in
  BF16, as mergekit runs it. The Java test bounds Amalgam's distance from it in BF16 ulps; the script
  prints that distance and the distance the old reading (inputs in their own precision) had.
"""
import json
import os
import struct

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
H, I, V, LAYERS = 32, 64, 128, 2
EPS_RAM = 1e-5


def write_safetensors(path, tensors):
    header, blobs, at = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        if t.dtype == torch.bfloat16:
            raw, dt = t.view(torch.int16).numpy().tobytes(), "BF16"
        else:
            raw, dt = t.to(torch.float32).numpy().tobytes(), "F32"
        header[name] = {"dtype": dt, "shape": list(t.shape), "data_offsets": [at, at + len(raw)]}
        blobs.append(raw)
        at += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def shapes():
    s = {"model.embed_tokens.weight": (V, H), "model.norm.weight": (H,), "lm_head.weight": (V, H)}
    for l in range(LAYERS):
        p = f"model.layers.{l}."
        s[p + "input_layernorm.weight"] = (H,)
        s[p + "self_attn.q_proj.weight"] = (H, H)
        s[p + "mlp.up_proj.weight"] = (I, H)
        s[p + "mlp.down_proj.weight"] = (H, I)
    return s


def make_models():
    g = torch.Generator().manual_seed(21)
    base = {}
    for name, shape in shapes().items():
        if name.endswith("norm.weight"):
            base[name] = 1 + 0.01 * torch.randn(shape, generator=g)
        else:
            base[name] = 0.02 * torch.randn(shape, generator=g)
    models = {"base": base}
    for i, m in enumerate(["a", "b", "c"]):
        tensors = {}
        for name, x in base.items():
            delta = 0.004 * torch.randn(x.shape, generator=g)
            # about half the elements unchanged, so RAM sees lone, shared and no contributions
            keep = torch.rand(x.shape, generator=g) < 0.5
            tensors[name] = torch.where(keep, x + delta, x)
        models[m] = tensors
    config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "num_hidden_layers": LAYERS,
              "hidden_size": H, "intermediate_size": I, "vocab_size": V, "tie_word_embeddings": False,
              "torch_dtype": "float32"}
    for m, tensors in models.items():
        d = os.path.join(HERE, m)
        os.makedirs(d, exist_ok=True)
        write_safetensors(os.path.join(d, "model.safetensors"), tensors)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(config, f, indent=2)
    return models


# --- mergekit's formulas; `work` is the dtype intermediates are computed in -------------------------

def linear(xs, weights, normalize, work):
    t = torch.stack([x.to(work) for x in xs], dim=0)
    w = torch.tensor(weights, dtype=work)
    while w.dim() < t.dim():
        w = w.unsqueeze(-1)
    res = (w * t).sum(dim=0)
    return res / w.sum(dim=0) if normalize else res


def magnitude_mask(delta, density):
    if density >= 1:
        return torch.ones_like(delta)
    k = int(density * delta.numel())
    w = delta.abs().view(-1).float()
    order = torch.sort(w, descending=True, stable=True).indices[:k]
    mask = torch.zeros_like(delta)
    mask.view(-1)[order] = 1
    return mask


def task_arithmetic(base, xs, weights, densities, consensus, normalize, work, lam=1.0):
    base = base.to(work)
    deltas = []
    for x, d in zip(xs, densities):
        delta = x.to(work) - base
        deltas.append(delta * magnitude_mask(delta, d))
    deltas = torch.stack(deltas, dim=0)
    w = torch.tensor(weights, dtype=work)
    while w.dim() < deltas.dim():
        w = w.unsqueeze(-1)
    wd = deltas * w
    if consensus:
        sign = wd.sign()
        majority = (wd.sum(dim=0) >= 0).to(work) * 2 - 1
        mask = (sign == majority).to(work)
        mixed = (wd * mask).sum(dim=0)
        divisor = (w * mask).sum(dim=0)
        divisor[divisor == 0] = 1
    else:
        mixed = wd.sum(dim=0)
        divisor = w.sum(dim=0)
        divisor[divisor.abs() < 1e-8] = 1
    if normalize:
        mixed = mixed / divisor
    if lam != 1:
        mixed = mixed * lam
    return base + mixed


def ram(base, xs, work, plus=False, r=0.1, alpha=0.2, eps=EPS_RAM):
    base = base.to(work)
    tv = torch.stack([x.to(work) - base for x in xs], dim=0).view(len(xs), -1)
    nz = tv.abs() > eps
    counts = nz.sum(dim=0, keepdim=True)
    overlap, unique = counts > 1, counts == 1
    tvz = tv * nz
    if plus:
        shared_n = (nz & overlap).sum(dim=1)
        unique_n = (nz & unique).sum(dim=1)
        rho = shared_n / unique_n.clamp(min=eps)
        lam = 1 + r * rho.clamp(min=0, max=alpha)
        merged = ((tvz * unique * lam.unsqueeze(-1)) + (tvz * overlap / counts.clamp(min=1))).sum(dim=0, keepdim=True)
    else:
        merged = ((tvz * unique) + (tvz * overlap / counts.clamp(min=1))).sum(dim=0, keepdim=True)
    return base + merged.reshape_as(base)


def outlier_mask(delta, density, gamma):
    """magnitude_outliers: drop the int(gamma*n) largest, keep the next int(density*n). Amalgam's
    documented rule where it differs: ranks by |delta| descending, lower index first among equal
    magnitudes, and int(gamma*n) = 0 drops nothing (mergekit's slice [n_bot:-0] would keep nothing)."""
    if density >= 1:
        return torch.ones_like(delta)
    n = delta.numel()
    target, n_top = int(density * n), int(gamma * n)
    if n - target - n_top < 0:
        n_top = n - target
    order = torch.sort(delta.abs().view(-1).float(), descending=True, stable=True).indices
    mask = torch.zeros_like(delta)
    mask.view(-1)[order[n_top:n_top + target]] = 1
    return mask


def breadcrumbs(base, xs, weights, densities, gammas, consensus, work):
    base = base.to(work)
    deltas = []
    for x, d, g in zip(xs, densities, gammas):
        delta = x.to(work) - base
        deltas.append(delta * outlier_mask(delta, d, g))
    deltas = torch.stack(deltas, dim=0)
    w = torch.tensor(weights, dtype=work)
    while w.dim() < deltas.dim():
        w = w.unsqueeze(-1)
    wd = deltas * w
    if consensus:
        majority = (wd.sum(dim=0) >= 0).to(work) * 2 - 1
        mask = (wd.sign() == majority).to(work)
        mixed = (wd * mask).sum(dim=0)
    else:
        mixed = wd.sum(dim=0)
    return base + mixed


def nearswap(base, x, t, work):
    a, b = base.to(work), x.to(work)
    weight = (t / (a - b).abs().clamp(min=1e-6)).clamp(min=0, max=1)
    return weight * b + (1 - weight) * a


def slerp(t, v0, v1, eps=1e-8):
    """mergekit's slerp: NumPy float32 whatever the dtype, one angle for the whole tensor."""
    a, b = v0.float().numpy(), v1.float().numpy()
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    ua = a / na if na > eps else a
    ub = b / nb if nb > eps else b
    dot = np.sum(ua * ub)
    if np.abs(dot) > 0.9995:
        res = (1 - t) * a + t * b
    else:
        theta0 = np.arccos(dot)
        sin0 = np.sin(theta0)
        theta_t = theta0 * t
        res = np.sin(theta0 - theta_t) / sin0 * a + np.sin(theta_t) / sin0 * b
    return torch.from_numpy(np.asarray(res, dtype=np.float32))


def model_stock(base, xs, work):
    w0 = base.to(work).view(-1)
    ws = [x.to(work).view(-1) for x in xs]
    offsets = [w - w0 for w in ws]
    cos = []
    for i in range(len(offsets)):
        for j in range(i + 1, len(offsets)):
            norm_product = torch.norm(offsets[i], dim=-1) * torch.norm(offsets[j], dim=-1)
            cos.append(((offsets[i] * offsets[j]).sum(dim=-1) / norm_product.clamp(min=1e-6)).clamp(-1, 1))
    c = torch.stack(cos).mean(dim=0).unsqueeze(-1)
    n = len(ws)
    t = (n * c) / (1 + (n - 1) * c)
    return (t * (sum(ws) / n) + (1 - t) * w0).reshape(base.shape)


def sce(base, xs, select_topk, work):
    base = base.to(work)
    tvs = torch.stack([x.to(work) - base for x in xs], dim=0)
    if select_topk < 1:
        var = torch.var(tvs, dim=0, unbiased=False)
        k = int(torch.count_nonzero(var) * select_topk)
        mask = torch.zeros_like(var)
        if k > 0:
            # ties at the threshold: lower index first (Amalgam's rule; topk leaves it open)
            order = torch.sort(var.abs().view(-1), descending=True, stable=True).indices[:k]
            mask.view(-1)[order] = 1
        tvs = tvs * mask.unsqueeze(0)
    majority = (tvs.sum(dim=0) >= 0).to(work) * 2 - 1
    erase = (tvs.sign() == majority).to(work)
    weights = torch.mean(tvs ** 2, dim=list(range(1, tvs.dim())))
    total = torch.sum(weights).item()
    weights = torch.ones_like(weights) / weights.shape[0] if abs(total) < 1e-6 else weights / total
    while weights.dim() < tvs.dim():
        weights = weights.unsqueeze(-1)
    erased = weights * erase
    return base + (tvs * erased).sum(dim=0) / torch.sum(erased, dim=0).clamp(min=1e-6)


CASES = {
    # name: (recipe, function of (tensors by model, work dtype) -> output)
    "linear": ("""merge_method: linear
models:
  - {model: ../a, parameters: {weight: 0.6}}
  - {model: ../b, parameters: {weight: 0.5}}
  - {model: ../c, parameters: {weight: -0.3}}
""", lambda t, work: linear([t["a"], t["b"], t["c"]], [0.6, 0.5, -0.3], True, work)),
    "task_arithmetic": ("""merge_method: task_arithmetic
base_model: ../base
models:
  - {model: ../a, parameters: {weight: 0.7}}
  - {model: ../b, parameters: {weight: 0.4}}
""", lambda t, work: task_arithmetic(t["base"], [t["a"], t["b"]], [0.7, 0.4], [1, 1], False, False, work)),
    "ties": ("""merge_method: ties
base_model: ../base
models:
  - {model: ../a, parameters: {weight: 1.0, density: 0.5}}
  - {model: ../b, parameters: {weight: 0.8, density: 0.5}}
  - {model: ../c, parameters: {weight: 0.6, density: 0.3}}
""", lambda t, work: task_arithmetic(t["base"], [t["a"], t["b"], t["c"]], [1.0, 0.8, 0.6], [0.5, 0.5, 0.3],
                                      True, True, work)),
    "ram": ("""merge_method: ram
base_model: ../base
models:
  - {model: ../a}
  - {model: ../b}
  - {model: ../c}
""", lambda t, work: ram(t["base"], [t["a"], t["b"], t["c"]], work)),
    "ramplus_tl": ("""merge_method: ramplus_tl
base_model: ../base
models:
  - {model: ../a}
  - {model: ../b}
  - {model: ../c}
parameters: {r: 0.5, alpha: 0.9}
""", lambda t, work: ram(t["base"], [t["a"], t["b"], t["c"]], work, plus=True, r=0.5, alpha=0.9)),
    "breadcrumbs": ("""merge_method: breadcrumbs
base_model: ../base
models:
  - {model: ../a, parameters: {weight: 0.7, density: 0.4, gamma: 0.05}}
  - {model: ../b, parameters: {weight: 0.5, density: 0.3, gamma: 0.1}}
""", lambda t, work: breadcrumbs(t["base"], [t["a"], t["b"]], [0.7, 0.5], [0.4, 0.3], [0.05, 0.1], False, work)),
    "breadcrumbs_ties": ("""merge_method: breadcrumbs_ties
base_model: ../base
models:
  - {model: ../a, parameters: {weight: 0.7, density: 0.4, gamma: 0.05}}
  - {model: ../b, parameters: {weight: 0.5, density: 0.3, gamma: 0.1}}
  - {model: ../c, parameters: {weight: 0.6, density: 0.5, gamma: 0.01}}
""", lambda t, work: breadcrumbs(t["base"], [t["a"], t["b"], t["c"]], [0.7, 0.5, 0.6], [0.4, 0.3, 0.5],
                                 [0.05, 0.1, 0.01], True, work)),
    "nearswap": ("""merge_method: nearswap
base_model: ../base
models:
  - {model: ../a}
parameters: {t: 0.002}
""", lambda t, work: nearswap(t["base"], t["a"], 0.002, work)),
    "passthrough": ("""merge_method: passthrough
models:
  - {model: ../b, parameters: {scale: 0.7}}
""", lambda t, work: t["b"].to(work) * 0.7),
    "slerp": ("""merge_method: slerp
base_model: ../base
models:
  - {model: ../c}
parameters: {t: 0.3}
""", lambda t, work: slerp(0.3, t["base"].to(work), t["c"].to(work))),
    "model_stock": ("""merge_method: model_stock
base_model: ../base
models:
  - {model: ../a}
  - {model: ../b}
  - {model: ../c}
""", lambda t, work: model_stock(t["base"], [t["a"], t["b"], t["c"]], work)),
    "sce": ("""merge_method: sce
base_model: ../base
models:
  - {model: ../a}
  - {model: ../b}
  - {model: ../c}
parameters: {select_topk: 0.6}
""", lambda t, work: sce(t["base"], [t["a"], t["b"], t["c"]], 0.6, work)),
}

# dtype settings: (suffix, dtype, out_dtype, cast of the inputs)
DTYPES = [("bf16", "bfloat16", None, torch.bfloat16), ("f32-to-bf16", "float32", "bfloat16", torch.float32)]


def ulps(a, b):
    """Distance in BF16 ulps (ordered integer keys), elementwise."""
    def key(t):
        i = t.view(torch.int16).to(torch.int32)
        return torch.where(i < 0, -(i & 0x7FFF), i)
    return (key(a) - key(b)).abs()


def main():
    models = make_models()
    report = []
    for case, (recipe_body, fn) in CASES.items():
        for suffix, dtype, out_dtype, cast in DTYPES:
            name = f"{case}-{suffix}"
            d = os.path.join(HERE, name)
            os.makedirs(d, exist_ok=True)
            recipe = recipe_body + f"dtype: {dtype}\n" + (f"out_dtype: {out_dtype}\n" if out_dtype else "")
            with open(os.path.join(d, "recipe.yml"), "w") as f:
                f.write(recipe)
            expected, true_mk, old = {}, {}, {}
            for tensor in shapes():
                cast_inputs = {m: models[m][tensor].to(cast).to(torch.float32) for m in models}
                expected[tensor] = fn(cast_inputs, torch.float32).to(torch.bfloat16)
                if cast == torch.bfloat16:
                    # mergekit as it runs: every intermediate in BF16
                    true_mk[tensor] = fn({m: models[m][tensor].to(torch.bfloat16) for m in models},
                                         torch.bfloat16).to(torch.bfloat16)
                    # the old reading: inputs in their own precision, F32 arithmetic
                    old[tensor] = fn({m: models[m][tensor] for m in models}, torch.float32).to(torch.bfloat16)
            write_safetensors(os.path.join(d, "expected.safetensors"), expected)
            if true_mk:
                write_safetensors(os.path.join(d, "mergekit.safetensors"), true_mk)
                n = sum(t.numel() for t in expected.values())
                for label, got in (("rounded inputs, F32 (Amalgam)", expected), ("unrounded inputs (old)", old)):
                    u = torch.cat([ulps(got[t], true_mk[t]).view(-1) for t in expected])
                    report.append(f"{name:24s} {label:30s} vs mergekit in BF16: max {int(u.max()):5d} ulp, "
                                  f">1 ulp {int((u > 1).sum()):4d} of {n}, >0 ulp {int((u > 0).sum()):5d}")
    with open(os.path.join(HERE, "distances.txt"), "w") as f:
        f.write("\n".join(report) + "\n")
    print("\n".join(report))


if __name__ == "__main__":
    main()
