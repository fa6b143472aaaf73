#!/usr/bin/env python3
"""The prefix-cache results table from run_prefix_cache.sh's work dir.

Reads WORK/{shared,chat}_{on,off}.json (gqa-bench --result-json), the
/metrics scrapes around each run (*.before.prom / *.after.prom) and the load
averages, and writes a markdown file: TTFT mean / median / p90, output
throughput and on/off ratios per workload, the chat's TTFT by turn, the hit
rate the server reports (gqa_prefix_cache_hits_total /
gqa_prefix_cache_queries_total over the run, in tokens) and the cached prompt
tokens gqa-bench read from Usage.cached_prompt_tokens.
"""
import argparse
import json
import os
import platform
import subprocess
import time


def load(path):
    with open(path) as f:
        return json.load(f)["runs"][0]


def prom(path):
    out = {}
    if not os.path.exists(path):
        return out
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        name = line.split("{")[0].split(" ")[0]
        try:
            out[name] = out.get(name, 0.0) + float(line.rsplit(" ", 1)[1])
        except ValueError:
            pass
    return out


def server_hit_rate(work, name, mode):
    before = prom(f"{work}/{name}_{mode}.before.prom")
    after = prom(f"{work}/{name}_{mode}.after.prom")
    q = after.get("gqa_prefix_cache_queries_total")
    h = after.get("gqa_prefix_cache_hits_total")
    if q is None or h is None:
        return "n/a (no metric)"
    dq = q - before.get("gqa_prefix_cache_queries_total", 0)
    dh = h - before.get("gqa_prefix_cache_hits_total", 0)
    return f"{100 * dh / dq:.1f}% ({dh:.0f} / {dq:.0f} tokens)" if dq > 0 else "0 queries"


def cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def main():
    p = argparse.ArgumentParser()
    for a in ("--work", "--out", "--command", "--model", "--threads", "--shared-args",
              "--chat-args"):
        p.add_argument(a, required=True)
    a = p.parse_args()
    W = a.work
    runs = {(n, m): load(f"{W}/{n}_{m}.json") for n in ("shared", "chat") for m in ("on", "off")}
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    loads = {k: open(f"{W}/loadavg_{k}").read().split()[:3] for k in ("start", "off", "on")
             if os.path.exists(f"{W}/loadavg_{k}")}
    L = ["# Prefix cache on vs off: gqa-server on SmolLM2-135M (CPU)\n"]
    L.append(f"Commit {commit}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
             f"{cpu_model()}, {os.cpu_count()} CPUs, gqa-server --threads {a.threads}. "
             "The machine was shared with other jobs (8 helpers building and testing): load "
             "averages (1/5/15 min) " + "; ".join(f"{k}: {' '.join(v)}" for k, v in loads.items())
             + ". Absolute times are noisy; the on/off ratios come from back-to-back runs "
             "(order: off shared, off chat, on chat, on shared).\n")
    L.append(f"Model: `{os.path.basename(a.model)}`. Command: `{a.command}` "
             "(bench/prefix_cache/run_prefix_cache.sh).\n")
    L.append(f"- (a) shared system prompt: `gqa-bench {a.shared_args}`")
    L.append(f"- (b) multi-turn chat: `gqa-bench {a.chat_args}`\n")
    L.append("Both greedy with ignore_eos; the server started with `--enable-prefix-caching` "
             "(on) or `--no-enable-prefix-caching` (off), otherwise defaults.\n")
    L.append("| workload | metric | cache off | cache on | on/off |\n|---|---|---|---|---|")
    for name, title in (("shared", "(a) shared prefix"), ("chat", "(b) multi-turn chat")):
        off, on = runs[(name, "off")], runs[(name, "on")]
        rows = [("TTFT mean (ms)", off["ttft_ms"]["mean"], on["ttft_ms"]["mean"]),
                ("TTFT median (ms)", off["ttft_ms"]["median"], on["ttft_ms"]["median"]),
                ("TTFT p90 (ms)", off["ttft_ms"]["p90"], on["ttft_ms"]["p90"]),
                ("output throughput (tok/s)", off["output_throughput"], on["output_throughput"]),
                ("request throughput (req/s)", off["request_throughput"],
                 on["request_throughput"]),
                ("duration (s)", off["duration_s"], on["duration_s"]),
                ("TPOT median (ms)", off["tpot_ms"]["median"], on["tpot_ms"]["median"])]
        for metric, x, y in rows:
            ratio = f"{y / x:.2f}x" if x else "n/a"
            L.append(f"| {title} | {metric} | {x:.1f} | {y:.1f} | {ratio} |")
        L.append(f"| {title} | completed / failed | {off['completed']} / {off['failed']} | "
                 f"{on['completed']} / {on['failed']} | |")
        L.append(f"| {title} | prompt tokens | {off['total_input_tokens']} | "
                 f"{on['total_input_tokens']} | |")
        L.append(f"| {title} | cached prompt tokens (Usage) | "
                 f"{off.get('total_cached_prompt_tokens', 'n/a')} | "
                 f"{on.get('total_cached_prompt_tokens', 'n/a')} | |")
        L.append(f"| {title} | server hit rate (/metrics) | {server_hit_rate(W, name, 'off')} | "
                 f"{server_hit_rate(W, name, 'on')} | |")
    L.append("\nTTFT by turn, multi-turn chat (ms; prompt = mean prompt tokens of the turn):\n")
    L.append("| turn | prompt | off mean | on mean | off median | on median | off p90 | on p90 "
             "| on/off median | on cached % |\n|---|---|---|---|---|---|---|---|---|---|")
    for t_off, t_on in zip(runs[("chat", "off")]["turns"], runs[("chat", "on")]["turns"]):
        x, y = t_off["ttft_ms"], t_on["ttft_ms"]
        prompt = t_on["input_tokens"] / max(1, t_on["completed"])
        cached = 100 * t_on["cached_prompt_tokens"] / max(1, t_on["input_tokens"])
        ratio = f"{y['median'] / x['median']:.2f}x" if x["median"] else "n/a"
        L.append(f"| {t_on['turn']} | {prompt:.0f} | {x['mean']:.1f} | {y['mean']:.1f} | "
                 f"{x['median']:.1f} | {y['median']:.1f} | {x['p90']:.1f} | {y['p90']:.1f} | "
                 f"{ratio} | {cached:.1f} |")
    L.append("\nRatios: on/off < 1 for TTFT is a gain, > 1 for throughput is a gain. The "
             "server's hit rate counts prompt tokens found in cached full KV blocks over prompt "
             "tokens looked up (as vLLM counts them); a prompt's last token is always computed.")
    with open(a.out, "w") as f:
        f.write("\n".join(L) + "\n")
    print("\n".join(L))


if __name__ == "__main__":
    main()
