#!/usr/bin/env python3
"""Runs gemm_dispatch_bench (Google Benchmark) under OpenBLAS's default core
and OPENBLAS_CORETYPE=Haswell / SkylakeX, --runs times each, and prints the
markdown table of bench/results/cpu_gemm_dispatch.md: microseconds per call,
each cell the minimum over the runs of the benchmark's "best_us" counter (the
fastest call). **Bold**: sgemm faster than matvec.

  bench/cpu/gemm_dispatch_table.py --bench build/<dir>/bench/gemm_dispatch_bench [--runs 3]
      [-- extra gemm_dispatch_bench flags, e.g. --threads=2 --benchmark_repetitions=2]
"""
import argparse
import json
import os
import subprocess
import sys

CORES = [("", "default"), ("Haswell", "Haswell"), ("SkylakeX", "SkylakeX")]
SHAPES = ["wo_288x288", "qkv_864x288", "gate_up_1536x288", "down_288x768", "lm_head_32000x288",
          "2048x768"]


def run_once(bench, coretype, extra):
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    if coretype:
        env["OPENBLAS_CORETYPE"] = coretype
    out = subprocess.run([bench, "--benchmark_format=json", *extra], env=env, check=True,
                         capture_output=True, text=True).stdout
    report = json.loads(out)
    best = {}  # (kernel, shape, m) -> us
    for b in report["benchmarks"]:
        if b.get("aggregate_name") != "min":
            continue
        kernel, shape, m = b["run_name"].split("/")[:3]  # "matvec/wo_288x288/m:1/manual_time"
        best[(kernel, shape, int(m[2:]))] = b["best_us"]
    return report["context"], best


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", required=True, help="gemm_dispatch_bench binary")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("extra", nargs="*", help="more gemm_dispatch_bench flags (after --)")
    args = ap.parse_args()

    cells = {}  # core label -> {(kernel, shape, m): us}
    default_core = threads = None
    for _ in range(args.runs):
        for coretype, label in CORES:
            context, best = run_once(args.bench, coretype, args.extra)
            if not coretype:
                default_core = context.get("openblas_core")
            threads = context.get("threads")
            merged = cells.setdefault(label, {})
            for key, us in best.items():
                merged[key] = min(us, merged.get(key, float("inf")))
            print(f"{label}: {len(best)} cells", file=sys.stderr)

    # The bench's shape order (its report order is random: interleaved repetitions).
    order = {s: i for i, s in enumerate(SHAPES)}
    keys = sorted({(s, m) for d in cells.values() for (_, s, m) in d},
                  key=lambda k: (order.get(k[0], len(order)), k[0], k[1]))
    print(f"threads: {threads}, runs: {args.runs} per core, default OpenBLAS core: {default_core}")
    print()
    print(f"| w [n, k] | m | matvec | sgemm, {default_core} (default) | same, OpenBLAS threads "
          "| sgemm, Haswell | same, OpenBLAS threads | sgemm, SkylakeX | same, OpenBLAS threads |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for shape, m in keys:
        # matvec does not use OpenBLAS: its best over every run.
        matvec = min(cells[label][("matvec", shape, m)] for _, label in CORES)
        row = [" ".join(shape.rsplit("_", 1)), str(m), f"{matvec:.0f}"]  # "gate_up 1536x288"
        for _, label in CORES:
            sgemm = cells[label][("sgemm", shape, m)]
            row.append(f"**{sgemm:.0f}**" if sgemm < matvec else f"{sgemm:.0f}")
            row.append(f"{cells[label][('sgemm_blas_threads', shape, m)]:.0f}")
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
