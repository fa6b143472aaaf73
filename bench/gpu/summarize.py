#!/usr/bin/env python3
"""Merges the CSVs that bench/gpu/run_all.sh leaves in a results directory
into one markdown report and prints a short summary against issue 5's goals.
Standard library only (runs on any Python 3)."""
import csv
import os
import sys


def read(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return list(csv.DictReader(row for row in f if not row.startswith("#")))


def num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def main():
    d = sys.argv[1]
    header = open(os.path.join(d, "header.md")).read() if os.path.exists(os.path.join(d, "header.md")) else ""
    md, summary = [header], []

    ceil = {r["ceiling"]: num(r["value"]) for r in read(os.path.join(d, "ceilings.csv"))}
    if ceil:
        md.append(f"## Ceilings\n\n| D2D copy (read + write) | {ceil.get('copy_GBs', 0):.0f} GB/s |\n"
                  f"|---|---|\n| bf16 GEMM 8192^3 | {ceil.get('gemm_bf16_TFLOPs', 0):.0f} TFLOP/s |\n")
        summary.append(f"ceilings: copy {ceil.get('copy_GBs', 0):.0f} GB/s, "
                       f"bf16 GEMM {ceil.get('gemm_bf16_TFLOPs', 0):.0f} TFLOP/s")

    ours = read(os.path.join(d, "attention_ours.csv"))
    torch_rows = {(r["kv_heads"], r["batch"], r["context"]): r for r in read(os.path.join(d, "attention_torch.csv"))}
    # Shapes only PyTorch has (our stage failed or timed out) still get a row.
    seen = {(r["kv_heads"], r["batch"], r["context"]) for r in ours}
    ours += [{"kv_heads": k[0], "batch": k[1], "context": k[2], "time_us": "", "GBs": "", "frac_of_copy": ""}
             for k in torch_rows if k not in seen]
    if ours:
        md.append("## Decode attention alone (bf16, 32 query heads, head_dim 128, block 16)\n\n"
                  "| KV heads | batch | context | ours (us) | ours GB/s | % of copy | torch (us) | torch backend | speedup |\n"
                  "|---|---|---|---|---|---|---|---|---|")
        goal_shapes = goal_met = faster = compared = 0
        for r in ours:
            key = (r["kv_heads"], r["batch"], r["context"])
            t = torch_rows.get(key, {})
            us, tus, frac = num(r["time_us"]), num(t.get("time_us")), num(r["frac_of_copy"])
            speed = f"{tus / us:.2f}x" if us and tus else ""
            if us and tus:
                compared += 1
                faster += tus > us
            if us and int(r["batch"]) * int(r["context"]) >= 64 * 2048:
                goal_shapes += 1
                goal_met += frac is not None and frac >= 0.85
            md.append(f"| {key[0]} | {key[1]} | {key[2]} | {r['time_us'] or 'n/a'} | {r['GBs']} | "
                      f"{'' if frac is None else f'{100 * frac:.0f}%'} | {t.get('time_us', '')} | "
                      f"{t.get('backend', '')} | {speed} |")
        md.append("")
        summary.append(f"attention: >=85% of copy BW on {goal_met}/{goal_shapes} shapes with batch x ctx >= 64 x 2k; "
                       f"faster than PyTorch on {faster}/{compared}")

    dec = read(os.path.join(d, "decode.csv"))
    if dec:
        md.append("## Decode step (dummy weights, bf16)\n\n| model | batch | context | step (ms) | tokens/s | MBU | wall (ms) | host gap |\n|---|---|---|---|---|---|---|---|")
        for r in dec:
            mbu = num(r["mbu"])
            md.append(f"| {r['model']} | {r['batch']} | {r['context']} | {r['gpu_ms'] or 'does not fit'} | "
                      f"{r['tokens_per_s']} | {'' if mbu is None else f'{100 * mbu:.0f}%'} | {r['wall_ms']} | "
                      f"{r['host_gap_pct'] and r['host_gap_pct'] + '%'} |")
            if r["batch"] == "1" and mbu is not None:
                summary.append(f"decode batch 1 ctx {r['context']}: {num(r['tokens_per_s']):.0f} tokens/s, "
                               f"MBU {100 * mbu:.0f}%, host gap {r['host_gap_pct']}%")
        md.append("")

    pre = read(os.path.join(d, "prefill.csv"))
    for r in pre:
        md.append(f"## Prefill\n\n{r['model']}, {r['prompt']} tokens: {num(r['ms']):.1f} ms, "
                  f"{num(r['TFLOPs']):.0f} TFLOP/s, MFU {100 * num(r['mfu']):.0f}% of the measured GEMM rate\n")
        summary.append(f"prefill {r['prompt']}: MFU {100 * num(r['mfu']):.0f}%")

    gqa = read(os.path.join(d, "gqa.csv"))
    if gqa:
        md.append("## MHA / GQA / MQA (llama-3-8b shape)\n\n| KV heads | KV bytes/token | max batch | batch | step (ms) | tokens/s | ms/token/seq |\n|---|---|---|---|---|---|---|")
        best = {}
        for r in gqa:
            md.append(f"| {r['kv_heads']} | {r['kv_bytes_per_token']} | {r['max_batch']} | {r['batch']} | "
                      f"{r['step_ms']} | {r['tokens_per_s']} | {r['ms_per_token_per_seq']} |")
            best[r["kv_heads"]] = r  # the last row of each is at its largest batch
        md.append("")
        base = num(best["32"]["ms_per_token_per_seq"]) if "32" in best else None
        if base:  # MHA ran (a kv_heads row with no time: not one sequence fit)
            rel = ", ".join(f"KV {k}: {num(v['ms_per_token_per_seq']) / base:.2f}" for k, v in best.items()
                            if num(v["ms_per_token_per_seq"]) is not None)
            summary.append(f"time per token per sequence at max batch, relative to MHA: {rel} "
                           f"(paper, T5-XXL: GQA-8 0.19, MQA 0.16)")

    serve = os.path.join(d, "serve_bench.txt")
    if os.path.exists(serve):  # gqa-bench's own tables, one per request rate
        text = open(serve).read().strip()
        md.append("## Serving: gqa-server --backend cuda, gqa-bench over gRPC\n\n```\n" + text + "\n```\n")
        rate = tps = None
        for line in text.splitlines():
            key, _, value = line.partition(":")
            if key.startswith("Request rate configured"):
                rate = value.strip()
            elif key.startswith("Output token throughput"):
                tps = value.strip()
            elif key.startswith("Median TPOT"):
                summary.append(f"serve rate {rate}: {tps} output tokens/s, median TPOT {value.strip()} ms")

    for name in ("hf_parity.md", "tests.md"):
        p = os.path.join(d, name)
        if os.path.exists(p):
            md.append(open(p).read())
    with open(os.path.join(d, "report.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
