"""NumPy end-to-end baseline for the benchmark: a linear BF16 merge of model folders.

Usage: python3 numpy_merge_models.py [--fsync] OUT_FILE WEIGHT:MODEL_DIR...
Reads each model's safetensors shards with np.memmap, merges tensor by tensor in float32
(BF16 widened by a shift, rounded back to nearest even), writes one safetensors file.
--fsync flushes the file to the disk before exiting, as `amalgam merge` does with its output.
Written for Amalgam's benchmark; straightforward NumPy, no tricks.
"""
import json
import os
import struct
import sys

import numpy as np


def tensors(model_dir):
    index = json.load(open(f"{model_dir}/model.safetensors.index.json"))
    out = {}
    for shard in sorted(set(index["weight_map"].values())):
        path = f"{model_dir}/{shard}"
        with open(path, "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            header = json.loads(f.read(n))
        data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + n)
        for name, info in header.items():
            if name == "__metadata__":
                continue
            b, e = info["data_offsets"]
            out[name] = (info["shape"], data[b:e].view(np.uint16))
    return out


def to_f32(h):
    return (h.astype(np.uint32) << 16).view(np.float32)


def to_bf16(f):
    b = f.view(np.uint32)
    return ((b + 0x7FFF + ((b >> 16) & 1)) >> 16).astype(np.uint16)


def main():
    args = sys.argv[1:]
    fsync = args[:1] == ["--fsync"]
    if fsync:
        args = args[1:]
    out_file = args[0]
    inputs = [(float(a.split(":", 1)[0]), tensors(a.split(":", 1)[1])) for a in args[1:]]
    total = sum(w for w, _ in inputs)
    names = list(inputs[0][1].keys())
    header, offset = {}, 0
    for name in names:
        shape, raw = inputs[0][1][name]
        header[name] = {"dtype": "BF16", "shape": shape, "data_offsets": [offset, offset + raw.nbytes]}
        offset += raw.nbytes
    head = json.dumps(header).encode()
    head += b" " * ((8 - len(head) % 8) % 8)
    with open(out_file, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for name in names:
            acc = np.zeros(inputs[0][1][name][1].shape, dtype=np.float32)
            for w, model in inputs:
                acc += np.float32(w) * to_f32(model[name][1])
            f.write(to_bf16(acc / np.float32(total)).tobytes())
        if fsync:
            f.flush()
            os.fsync(f.fileno())


if __name__ == "__main__":
    main()
