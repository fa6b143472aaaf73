#!/usr/bin/env python3
"""Compares gqa's GGUF dequantization with gguf-py's, bit for bit, every type.

For each ggml type gqa dequantizes (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0,
Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K) it makes random blocks: gguf.quants.quantize
of random data at several magnitudes where gguf-py can quantize the type, and
random bytes with finite f16 scale fields for every block type; runs
gqa-dequant-dump on them and compares its fp32 output with
gguf.quants.dequantize bit for bit (so -0.0 vs 0.0 counts as a mismatch).

gguf and numpy come from PyPI into a virtual environment (--venv, under the
build directory); without pip/PyPI access the script exits 77, which CTest
reports as skipped. Exit 1 on any mismatch.
"""
import argparse
import os
import subprocess
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../support"))
from reference_venv import ensure_venv  # noqa: E402

SKIP = 77


# Byte offsets of the f16 scale fields in one block of each type (gguf-py quants.py).
SCALE_OFFSETS = {
    "Q4_0": [0], "Q4_1": [0, 2], "Q5_0": [0], "Q5_1": [0, 2], "Q8_0": [0],
    "Q2_K": [80, 82], "Q3_K": [108], "Q4_K": [0, 2], "Q5_K": [0, 2], "Q6_K": [208],
}
QUANTIZABLE = {"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "BF16"}
N_BLOCKS = 4096


def cases(np, gguf, name):
    """(label, raw bytes as uint8) pairs to dequantize for type `name`."""
    qtype = gguf.GGMLQuantizationType[name]
    block, type_size = gguf.GGML_QUANT_SIZES[qtype]
    rng = np.random.default_rng(1234 + int(qtype))
    out = []
    if name == "F32":
        x = rng.standard_normal(N_BLOCKS * 32).astype(np.float32) * np.float32(3.0)
        x[:4] = [0.0, -0.0, np.inf, -1e-40]
        out.append(("random", x.view(np.uint8)))
    elif name == "F16":
        bits = rng.integers(0, 1 << 16, N_BLOCKS * 32, dtype=np.uint16)
        bits = bits[(bits & 0x7C00) != 0x7C00]  # finite: every normal, subnormal and zero
        out.append(("random finite", bits.view(np.uint8)))
    elif name == "BF16":
        bits = rng.integers(0, 1 << 16, N_BLOCKS * 32, dtype=np.uint16)
        out.append(("random bits", bits.view(np.uint8)))
    if name in QUANTIZABLE:
        for scale in (1e-3, 1.0, 50.0):
            x = (rng.standard_normal((64, 32 * 16)) * scale).astype(np.float32)
            x[0, :32] = 0.0  # an all-zero block
            x[1, :32] = 7.0  # a constant block
            out.append((f"quantize(N(0, {scale}))", gguf.quants.quantize(x, qtype).reshape(-1)))
    if name in SCALE_OFFSETS:
        raw = rng.integers(0, 256, (N_BLOCKS, type_size), dtype=np.uint8)
        for off in SCALE_OFFSETS[name]:
            h = rng.integers(0, 1 << 16, N_BLOCKS, dtype=np.uint16)
            h = np.where((h & 0x7C00) == 0x7C00, h & 0xBFFF, h)  # no inf/NaN scales
            raw[:, off:off + 2] = h.view(np.uint8).reshape(N_BLOCKS, 2)
        out.append(("random bytes, finite scales", raw.reshape(-1)))
    return [(label, np.ascontiguousarray(b, dtype=np.uint8), block, type_size) for label, b, in out]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump-tool", required=True)
    ap.add_argument("--work-dir", required=True)
    ap.add_argument("--venv", required=True)
    ap.add_argument("--in-venv", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if not args.in_venv:
        py = ensure_venv(args.venv, ["gguf", "numpy"], imports=["gguf.quants", "numpy"])
        if py is None:
            print("SKIP: no gguf/numpy from PyPI")
            return SKIP
        return subprocess.run([py, os.path.abspath(__file__), "--in-venv"] + sys.argv[1:]).returncode

    import numpy as np
    import gguf
    import gguf.quants
    os.makedirs(args.work_dir, exist_ok=True)
    types = ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1",
             "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"]
    failures = 0
    for name in types:
        qtype = gguf.GGMLQuantizationType[name]
        for label, raw, block, type_size in cases(np, gguf, name):
            src = os.path.join(args.work_dir, f"{name}.in")
            dst = os.path.join(args.work_dir, f"{name}.out")
            raw.tofile(src)
            r = subprocess.run([args.dump_tool, str(int(qtype)), src, dst], capture_output=True, text=True)
            if r.returncode != 0:
                print(f"FAIL {name} [{label}]: dump tool exit {r.returncode}: {r.stderr.strip()}")
                failures += 1
                continue
            ours = np.fromfile(dst, dtype=np.uint32)
            ref = np.ascontiguousarray(gguf.quants.dequantize(raw, qtype), dtype=np.float32).reshape(-1)
            ref = ref.view(np.uint32)
            if ours.shape != ref.shape:
                print(f"FAIL {name} [{label}]: {ours.size} values, reference {ref.size}")
                failures += 1
                continue
            bad = np.nonzero(ours != ref)[0]
            n_blocks = raw.size // type_size
            if bad.size:
                i = bad[0]
                print(f"FAIL {name} [{label}]: {bad.size} of {ref.size} values differ; first at {i} "
                      f"(block {i // block}): ours {ours[i:i+1].view(np.float32)[0]!r} "
                      f"reference {ref[i:i+1].view(np.float32)[0]!r}")
                failures += 1
            else:
                print(f"ok   {name} [{label}]: {n_blocks} blocks, {ref.size} values bit-identical")
    print("FAILED" if failures else "all types bit-identical to gguf.quants.dequantize")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
