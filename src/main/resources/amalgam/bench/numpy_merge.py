"""NumPy baseline for `amalgam bench`: the same BF16 merges, written the straightforward way.

Usage: python3 numpy_merge.py ELEMENTS REPEATS
Prints one JSON object with the best time in seconds of each merge.
BF16 is held as uint16 and widened by shifting into float32, as NumPy has no bfloat16.
"""
import json
import sys
import time

import numpy as np


def to_f32(h):
    return (h.astype(np.uint32) << 16).view(np.float32)


def to_bf16(f):
    b = f.view(np.uint32)
    rounded = ((b + 0x7FFF + ((b >> 16) & 1)) >> 16).astype(np.uint16)
    nan = (b & 0x7FFFFFFF) > 0x7F800000
    return np.where(nan, ((b >> 16) | 0x40).astype(np.uint16), rounded)


def linear(xs, weights):
    acc = np.zeros(xs[0].shape, dtype=np.float32)
    for x, w in zip(xs, weights):
        acc += np.float32(w) * to_f32(x)
    return to_bf16(acc / np.float32(sum(weights)))


def ties(base, xs, weights, density):
    b = to_f32(base)
    deltas = []
    for x, w in zip(xs, weights):
        d = to_f32(x) - b
        k = int(density * d.size)
        keep = np.argpartition(-np.abs(d), k - 1)[:k]
        mask = np.zeros(d.size, dtype=bool)
        mask[keep] = True
        deltas.append(np.where(mask, d, 0) * np.float32(w))
    stacked = np.stack(deltas)
    sign = np.where(stacked.sum(axis=0) >= 0, 1, -1)
    agree = np.sign(stacked) == sign
    mixed = (stacked * agree).sum(axis=0)
    div = (np.array(weights, dtype=np.float32)[:, None] * agree).sum(axis=0)
    div[div == 0] = 1
    return to_bf16(b + mixed / div)


def best(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    n = int(sys.argv[1])
    repeats = int(sys.argv[2])
    rng = np.random.default_rng(1)
    base = to_bf16((rng.standard_normal(n, dtype=np.float32) * 0.02))
    xs = [to_bf16(to_f32(base) + rng.standard_normal(n, dtype=np.float32) * 0.001) for _ in range(3)]
    result = {
        "elements": n,
        "linear_seconds": best(lambda: linear(xs, [1.0, 0.5, 0.3]), repeats),
        "ties_seconds": best(lambda: ties(base, xs[:2], [1.0, 0.5], 0.5), max(1, repeats // 2)),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
