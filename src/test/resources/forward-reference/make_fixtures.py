#!/usr/bin/python3
"""Writes the forward-pass reference fixtures of DecoderReferenceTest (run once; the output is committed).

Debian bookworm's python3-torch 1.13.1 (apt-get install python3-torch), from the repository root:

    /usr/bin/python3 src/test/resources/forward-reference/make_fixtures.py

Written in plain torch from the Hugging Face transformers definitions as read (models/llama,
models/mistral, models/qwen2 modeling files; modeling_rope_utils.py for default, linear, dynamic,
yarn and llama3 rotary frequencies; activations.py for ACT2FN), not with transformers itself and
not from the Java code. The reference runs each sequence in ONE forward call over all positions
with a causal mask (the Java decoder goes token by token with a key/value cache), in float64,
except the rotary table, which transformers builds in float32 (inverse frequencies, position
products, cos and sin) and which is kept so here.

Each case folder holds config.json, model.safetensors (BF16 or F32 weights), tokens.txt (one
sequence per line) and expected.safetensors with `logits.<n>` [len, vocab] (float32) per line.
"""
import json
import math
import os
import struct

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(20)

BASE = dict(hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, vocab_size=96, rms_norm_eps=1e-5, rope_theta=10000.0,
            max_position_embeddings=64, tie_word_embeddings=False, hidden_act="silu")

CASES = {
    # plain Llama, grouped-query attention, BF16 weights read in place
    "llama-bf16": dict(arch="LlamaForCausalLM", model_type="llama", dtype="bf16", cfg={}),
    # Llama 3.1-style rotary scaling, attention and MLP biases, an explicit head size, tanh GELU
    "llama3-rope-bias": dict(arch="LlamaForCausalLM", model_type="llama", dtype="f32", cfg=dict(
        head_dim=24, attention_bias=True, mlp_bias=True, hidden_act="gelu_pytorch_tanh",
        rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0,
                          original_max_position_embeddings=64))),
    # Qwen2: q/k/v biases, tied embeddings, yarn, exact GELU
    "qwen2-yarn-tied": dict(arch="Qwen2ForCausalLM", model_type="qwen2", dtype="bf16", cfg=dict(
        tie_word_embeddings=True, hidden_act="gelu", max_position_embeddings=256, use_sliding_window=False,
        sliding_window=4096, max_window_layers=2,
        rope_scaling=dict(type="yarn", factor=4.0, original_max_position_embeddings=64))),
    # Mistral: linear rotary scaling, quick GELU, a sliding window longer than the sequences
    "mistral-linear": dict(arch="MistralForCausalLM", model_type="mistral", dtype="f32", cfg=dict(
        sliding_window=4096, hidden_act="quick_gelu", num_key_value_heads=1,
        rope_scaling=dict(type="linear", factor=2.0))),
    # dynamic NTK: max_position_embeddings below the longer sequence, so the base grows for it
    "llama-dynamic": dict(arch="LlamaForCausalLM", model_type="llama", dtype="f32", cfg=dict(
        max_position_embeddings=8, hidden_act="relu", rope_scaling=dict(rope_type="dynamic", factor=2.0))),
}

SEQUENCES = [[1, 17, 42, 5, 88, 3, 3, 61, 20, 7, 95, 0, 33, 12], [9, 4, 70, 2, 8]]


def inv_freq_of(cfg, head_dim, seq_len):
    """modeling_rope_utils: (inverse frequencies as float32, attention scaling)."""
    base = cfg["rope_theta"]
    rs = cfg.get("rope_scaling") or {}
    kind = rs.get("rope_type", rs.get("type", "default"))
    dim = head_dim
    exps = torch.arange(0, dim, 2, dtype=torch.int64).float() / dim
    if kind == "dynamic":
        maxpos = cfg["max_position_embeddings"]
        factor = rs["factor"]
        sl = max(seq_len, maxpos)
        base = base * ((factor * sl / maxpos) - (factor - 1)) ** (dim / (dim - 2))
    inv = 1.0 / (base ** exps)
    scaling = 1.0
    if kind == "linear":
        inv = inv / rs["factor"]
    elif kind == "llama3":
        factor, low, high = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
        old = rs["original_max_position_embeddings"]
        low_wl, high_wl = old / low, old / high
        wavelen = 2 * math.pi / inv
        llama = torch.where(wavelen > low_wl, inv / factor, inv)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * llama / factor + smooth * llama
        medium = ~(wavelen < high_wl) * ~(wavelen > low_wl)
        inv = torch.where(medium, smoothed, llama)
    elif kind == "yarn":
        factor = rs["factor"]
        original = rs.get("original_max_position_embeddings") or cfg["max_position_embeddings"]
        scaling = 0.1 * math.log(factor) + 1.0 if factor > 1 else 1.0
        beta_fast, beta_slow = rs.get("beta_fast") or 32, rs.get("beta_slow") or 1

        def corr(rot):
            return (dim * math.log(original / (rot * 2 * math.pi))) / (2 * math.log(base))

        lo, hi = math.floor(corr(beta_fast)), math.ceil(corr(beta_slow))
        lo, hi = max(lo, 0), min(hi, dim - 1)
        if lo == hi:
            hi += 0.001
        ramp = torch.clamp((torch.arange(dim // 2, dtype=torch.float32) - lo) / (hi - lo), 0, 1)
        pos_freqs = base ** (torch.arange(0, dim, 2).float() / dim)
        extra, inter = 1.0 / pos_freqs, 1.0 / (factor * pos_freqs)
        ef = 1 - ramp
        inv = inter * (1 - ef) + extra * ef
    return inv.float(), scaling


def act(name, x):
    if name in ("silu", "swish"):
        return torch.nn.functional.silu(x)
    if name == "gelu":
        return torch.nn.functional.gelu(x)
    if name in ("gelu_new", "gelu_pytorch_tanh", "gelu_fast"):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))
    if name == "quick_gelu":
        return x * torch.sigmoid(1.702 * x)
    if name == "relu":
        return torch.relu(x)
    raise ValueError(name)


def rms(x, w, eps):
    var = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(var + eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def forward(cfg, family, W, tokens):
    T = len(tokens)
    H, nh, nkv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg.get("head_dim") or H // nh
    inv, scaling = inv_freq_of(cfg, hd, T)
    pos = torch.arange(T, dtype=torch.float32)
    freqs = pos[:, None] * inv[None, :]          # float32 products, as the reference's matmul of k = 1
    emb = torch.cat((freqs, freqs), dim=-1)
    cos = (emb.cos() * scaling).double()
    sin = (emb.sin() * scaling).double()
    x = W["model.embed_tokens.weight"][torch.tensor(tokens)]
    mask = torch.full((T, T), float("-inf"), dtype=torch.float64).triu(1)
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."

        def lin(name, v):
            y = v @ W[p + name + ".weight"].T
            b = W.get(p + name + ".bias")
            return y if b is None else y + b

        h = rms(x, W[p + "input_layernorm.weight"], cfg["rms_norm_eps"])
        q = lin("self_attn.q_proj", h).view(T, nh, hd).transpose(0, 1)
        k = lin("self_attn.k_proj", h).view(T, nkv, hd).transpose(0, 1)
        v = lin("self_attn.v_proj", h).view(T, nkv, hd).transpose(0, 1)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(nh // nkv, dim=0)
        v = v.repeat_interleave(nh // nkv, dim=0)
        a = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(hd) + mask, dim=-1)
        o = (a @ v).transpose(0, 1).reshape(T, nh * hd)
        x = x + lin("self_attn.o_proj", o)
        h = rms(x, W[p + "post_attention_layernorm.weight"], cfg["rms_norm_eps"])
        m = act(cfg["hidden_act"], lin("mlp.gate_proj", h)) * lin("mlp.up_proj", h)
        x = x + lin("mlp.down_proj", m)
    x = rms(x, W["model.norm.weight"], cfg["rms_norm_eps"])
    head = W["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else W["lm_head.weight"]
    return x @ head.T


def tensors(cfg, family):
    H, nh, nkv, im = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["intermediate_size"]
    hd = cfg.get("head_dim") or H // nh
    qkv_bias = family == "qwen2" or cfg.get("attention_bias", False)
    o_bias = family != "qwen2" and cfg.get("attention_bias", False)
    mlp_bias = cfg.get("mlp_bias", False)
    out = {"model.embed_tokens.weight": torch.randn(cfg["vocab_size"], H) * 0.5}
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        out[p + "input_layernorm.weight"] = 1 + 0.2 * torch.randn(H)
        for n, rows, cols in (("q", nh * hd, H), ("k", nkv * hd, H), ("v", nkv * hd, H), ("o", H, nh * hd)):
            out[p + f"self_attn.{n}_proj.weight"] = torch.randn(rows, cols) / math.sqrt(cols) * 1.5
            if (n != "o" and qkv_bias) or (n == "o" and o_bias):
                out[p + f"self_attn.{n}_proj.bias"] = 0.3 * torch.randn(rows)
        out[p + "post_attention_layernorm.weight"] = 1 + 0.2 * torch.randn(H)
        for n, rows, cols in (("gate", im, H), ("up", im, H), ("down", H, im)):
            out[p + f"mlp.{n}_proj.weight"] = torch.randn(rows, cols) / math.sqrt(cols) * 1.5
            if mlp_bias:
                out[p + f"mlp.{n}_proj.bias"] = 0.3 * torch.randn(rows)
    out["model.norm.weight"] = 1 + 0.2 * torch.randn(H)
    if not cfg["tie_word_embeddings"]:
        out["lm_head.weight"] = torch.randn(cfg["vocab_size"], H) / math.sqrt(H) * 2
    return out


def save(path, named, dtype):
    header, blobs, off = {}, [], 0
    for name in sorted(named):
        t = named[name]
        if dtype == "bf16":
            data = t.to(torch.bfloat16).view(torch.int16).numpy().tobytes()
            code = "BF16"
        else:
            data = t.to(torch.float32).numpy().tobytes()
            code = "F32"
        header[name] = {"dtype": code, "shape": list(t.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


for case, spec in CASES.items():
    d = os.path.join(HERE, case)
    os.makedirs(d, exist_ok=True)
    cfg = dict(BASE)
    cfg.update(spec["cfg"])
    family = spec["model_type"]
    W = tensors(cfg, family)
    if spec["dtype"] == "bf16":
        W = {k: v.to(torch.bfloat16) for k, v in W.items()}
    save(os.path.join(d, "model.safetensors"), W, spec["dtype"])
    config = dict(architectures=[spec["arch"]], model_type=family, torch_dtype="bfloat16" if spec["dtype"] == "bf16" else "float32")
    config.update(cfg)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    W64 = {k: v.double() for k, v in W.items()}
    with open(os.path.join(d, "tokens.txt"), "w") as f:
        for s in SEQUENCES:
            f.write(" ".join(map(str, s)) + "\n")
    expected = {}
    with torch.no_grad():
        for i, s in enumerate(SEQUENCES):
            expected[f"logits.{i}"] = forward(cfg, family, W64, s).float()
    save(os.path.join(d, "expected.safetensors"), expected, "f32")
    print(case, "logits range", float(expected["logits.0"].min()), float(expected["logits.0"].max()))
