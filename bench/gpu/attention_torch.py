#!/usr/bin/env python3
"""PyTorch scaled_dot_product_attention on the decode-attention grid of
gqa-bench-gpu's `attention` mode (same shapes, same KV byte count, same
timing method: CUDA events, median, several KV sets to defeat L2), so the two
can be put side by side. PyTorch gets contiguous KV [batch, kv_heads, ctx,
head_dim] (no paging), which favours it.

Backends tried per shape, first that works: flash with enable_gqa=True, flash
on K/V expanded to all query heads (repeat_interleave, outside the timing),
then PyTorch's default dispatch with enable_gqa=True. The CSV names the one used.
"""
import argparse
import csv
import math
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel


def ints(s):
    return [int(x) for x in s.split(",") if x]


def time_ms(fn, sets, warmup, reps):
    for i in range(warmup):
        fn(i % sets)
    times = []
    for i in range(reps):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn(i % sets)
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    times.sort()
    return times[len(times) // 2]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batches", default="1,8,64,256")
    p.add_argument("--contexts", default="512,2048,8192,32768")
    p.add_argument("--kv-heads", default="32,8,4,1")
    p.add_argument("--heads", type=int, default=32)
    p.add_argument("--head-dim", type=int, default=128)
    p.add_argument("--reps", type=int, default=20)
    p.add_argument("--budget-fraction", type=float, default=0.6)
    p.add_argument("--copy-gbs", type=float, default=0.0, help="measured copy bandwidth, for the % column")
    p.add_argument("--csv", required=True)
    a = p.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    dev = torch.device("cuda")
    free, _ = torch.cuda.mem_get_info()
    budget = free * a.budget_fraction
    l2 = torch.cuda.get_device_properties(0).L2_cache_size
    d, h = a.head_dim, a.heads
    out = open(a.csv, "w", newline="")
    w = csv.writer(out)
    w.writerow(["kv_heads", "batch", "context", "time_us", "kv_bytes", "GBs", "frac_of_copy", "backend"])
    print("| KV heads | batch | context | torch time (us) | torch KV GB/s | backend |")
    print("|---|---|---|---|---|---|")
    for kv in ints(a.kv_heads):
        g = h // kv
        for b in ints(a.batches):
            for ctx in ints(a.contexts):
                kv_bytes = 2 * b * ctx * kv * d * 2
                if kv_bytes > budget:
                    w.writerow([kv, b, ctx, "", kv_bytes, "", "", "does not fit"])
                    print(f"| {kv} | {b} | {ctx} | does not fit | | |")
                    continue
                sets = max(1, min(16, math.ceil(4 * l2 / kv_bytes), int(budget // kv_bytes)))
                q = torch.randn(b, h, 1, d, device=dev, dtype=torch.bfloat16)
                ks = [torch.randn(b, kv, ctx, d, device=dev, dtype=torch.bfloat16) for _ in range(sets)]
                vs = [torch.randn_like(ks[0]) for _ in range(sets)]
                result = None
                # 1. flash with native GQA.
                try:
                    with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
                        F.scaled_dot_product_attention(q, ks[0], vs[0], enable_gqa=True)
                        ms = time_ms(lambda i: F.scaled_dot_product_attention(q, ks[i], vs[i], enable_gqa=True),
                                     sets, 3, a.reps)
                    result = (ms, "flash+enable_gqa")
                except RuntimeError:
                    pass
                # 2. flash on expanded K/V (G times the bytes in memory; timed on the kernel only).
                if result is None and kv_bytes * g * min(sets, 2) < budget:
                    try:
                        ke = [k.repeat_interleave(g, dim=1) for k in ks[:2]]
                        ve = [v.repeat_interleave(g, dim=1) for v in vs[:2]]
                        with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
                            ms = time_ms(lambda i: F.scaled_dot_product_attention(q, ke[i], ve[i]),
                                         len(ke), 3, a.reps)
                        result = (ms, "flash+expanded_kv")
                        del ke, ve
                    except RuntimeError:
                        pass
                # 3. whatever PyTorch picks.
                if result is None:
                    ms = time_ms(lambda i: F.scaled_dot_product_attention(q, ks[i], vs[i], enable_gqa=True),
                                 sets, 3, a.reps)
                    result = (ms, "default+enable_gqa")
                ms, backend = result
                gbs = kv_bytes / (ms * 1e-3) / 1e9
                frac = gbs / a.copy_gbs if a.copy_gbs > 0 else ""
                w.writerow([kv, b, ctx, f"{ms * 1e3:.2f}", kv_bytes, f"{gbs:.1f}",
                            f"{frac:.3f}" if frac != "" else "", backend])
                out.flush()
                print(f"| {kv} | {b} | {ctx} | {ms * 1e3:.1f} | {gbs:.0f} | {backend} |", flush=True)
                del ks, vs, q
                torch.cuda.empty_cache()
    out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
