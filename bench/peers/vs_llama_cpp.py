#!/usr/bin/env python3
"""Records and tabulates run_vs_llama_cpp.sh's measurements (stdlib only).

Every measurement is one JSON line in WORK/records.jsonl:
  {"section", "key", "who", "value", "unit", "load", "cmd", "note"}
appended by the `llama-bench`, `generate` and `serving` commands below (the
script passes the load average and the command in the environment variables
LOAD and CMD); `table` turns them, with WORK/meta.txt (KEY=VALUE lines: the
machine, commits, bandwidth), into the markdown record.

  vs_llama_cpp.py llama-bench WORK SECTION KEY WHO OUT.jsonl
      median of llama-bench -o jsonl's samples_ts (tokens/s); also stores the
      model's size and parameter count (for the bandwidth limit)
  vs_llama_cpp.py generate WORK SECTION KEY WHO prefill|decode ERR...
      median over gqa-generate stderr files (one per repetition) of its
      "N prompt tokens in S s, G generated at R tokens/s" line
  vs_llama_cpp.py serving WORK SECTION KEY WHO RESULT.json
      gqa-bench --result-json: output tok/s (value) and TPOT median (ms)
  vs_llama_cpp.py table WORK OUT.md
"""
import json
import os
import re
import statistics
import sys


def append(work, section, key, who, value, unit, **extra):
    rec = {"section": section, "key": key, "who": who, "value": value, "unit": unit,
           "load": os.environ.get("LOAD", ""), "cmd": os.environ.get("CMD", "")}
    rec.update(extra)
    with open(os.path.join(work, "records.jsonl"), "a") as f:
        f.write(json.dumps(rec) + "\n")
    print(f"  {section} {key} {who}: {value if value is None else round(value, 2)} {unit}",
          file=sys.stderr)


def cmd_llama_bench(work, section, key, who, path):
    rows = [json.loads(line) for line in open(path) if line.strip().startswith("{")]
    if not rows:
        return append(work, section, key, who, None, "tok/s", note="llama-bench gave no result")
    r = rows[-1]
    append(work, section, key, who, statistics.median(r["samples_ts"]), "tok/s",
           samples=r["samples_ts"], model_size=r.get("model_size"),
           model_n_params=r.get("model_n_params"), type_k=r.get("type_k"),
           repack=r.get("repack", True))


GEN_RE = re.compile(r"gqa-generate: (\d+) prompt tokens in ([0-9.e+-]+) s, (\d+) generated"
                    r"(?: at ([0-9.e+-]+) tokens/s)?")


def cmd_generate(work, section, key, who, metric, *paths):
    values, notes = [], set()
    for p in paths:
        text = open(p, errors="replace").read()
        m = GEN_RE.search(text)
        for line in text.splitlines():
            if line.startswith("backend:") or "weights;" in line:
                notes.add(line.strip())
        if not m:
            continue
        if metric == "prefill":
            values.append(int(m.group(1)) / float(m.group(2)))
        elif m.group(4):
            values.append(float(m.group(4)))
    value = statistics.median(values) if values else None
    append(work, section, key, who, value, "tok/s", samples=values, note=" ".join(sorted(notes)))


def cmd_serving(work, section, key, who, path):
    try:
        run = json.load(open(path))["runs"][0]
    except (OSError, ValueError, KeyError, IndexError) as e:
        return append(work, section, key, who, None, "tok/s", note=f"no result: {e}")
    append(work, section, key, who, run["output_throughput"], "tok/s",
           tpot_ms=run["tpot_ms"]["median"], completed=run["completed"], failed=run["failed"],
           output_tokens=run["total_output_tokens"], duration_s=run["duration_s"],
           repack=os.environ.get("REPACK", "1") != "0")


def fmt(v, digits=1):
    if v is None:
        return "-"
    return f"{v:.{digits if abs(v) >= 10 else max(digits, 2)}f}"


def cell(rec):
    """A llama.cpp value, starred when it ran with --repack 0."""
    if rec is None:
        return "-"
    return fmt(rec["value"]) + ("*" if rec.get("repack") is False else "")


def ratio(a, b):
    return None if a is None or not b else a / b


def fmt_ratio(r):
    return "-" if r is None else f"{r:.2f}x"


def verdict(r, goal):
    return "-" if r is None else ("yes" if r >= goal else "no")


def cmd_table(work, out_md):
    recs = [json.loads(line) for line in open(os.path.join(work, "records.jsonl"))]
    meta = {}
    for line in open(os.path.join(work, "meta.txt")):
        if "=" in line:
            k, v = line.rstrip("\n").split("=", 1)
            meta[k] = v

    def get(section, key, who):
        for r in reversed(recs):
            if (r["section"], r["key"], r["who"]) == (section, key, who):
                return r
        return None

    def val(section, key, who):
        r = get(section, key, who)
        return None if r is None else r["value"]

    def load(section, key):
        loads = sorted({r["load"] for r in recs if (r["section"], r["key"]) == (section, key)})
        return " / ".join(loads) or "-"

    bw = float(meta["bandwidth_gbs"]) * 1e9 if meta.get("bandwidth_gbs") else None
    L = []
    L.append("# gqa-serve against llama.cpp on the CPU (issue 14)\n")
    L.append(f"Written by `bench/peers/run_vs_llama_cpp.sh`{' (QUICK=1)' if meta.get('quick') == '1' else ''} "
             f"on {meta.get('date', '?')}: both engines in one run on the same GGUF files, "
             f"{meta.get('threads')} threads each, each row's measurements back to back "
             "(llama.cpp first, then ours), medians of the repetitions.\n")
    L.append(f"- machine: {meta.get('cpu')}, {meta.get('cores')} cores, {meta.get('mem')}; "
             "shared with other jobs while this ran: the load average (1, 5, 15 min) is "
             "given per row, and absolute numbers move with it; the ratios of a row were "
             "measured seconds apart")
    L.append(f"- ours: gqa-serve {meta.get('ours_commit')} ({meta.get('ours_build')}); "
             f"weights as loaded: {meta.get('ours_note', '?')}")
    L.append(f"- llama.cpp: {meta.get('theirs_version')} (the llama-cpp-python "
             f"{meta.get('llama_cpp_python')} sdist, built by bench/peers/build_llama_cpp.sh "
             "with GGML_NATIVE=ON), its defaults otherwise (f16 KV cache, flash attention auto)")
    L.append(f"- models: {meta.get('q41')} (Q4_1, Q8_0 token_embd) and {meta.get('f32')} "
             "(all F32, from the same file by make_f32_gguf.py)")
    if bw:
        L.append(f"- memory read bandwidth (bench/common/memory_bandwidth.h via gqa-bench-cpu, "
                 f"1 GiB buffer): {bw / 1e9:.1f} GB/s; the bandwidth limit of a decode step is "
                 "that divided by the weight bytes read per token (all tensors: the tied "
                 "embedding is the output head). The VM reports a "
                 f"{meta.get('l3', '?')} L3, so weights smaller than it can beat the limit")
    loads = [float(r["load"].split()[0]) for r in recs if r["load"]]
    if loads and max(loads) > 2 * int(meta.get("cores", 2)):
        L.append(f"**Caution: the 1-minute load average was {min(loads):.0f}-{max(loads):.0f} "
                 f"on {meta.get('cores')} cores during this run.** Both engines spin-wait "
                 "at their thread barriers, so with 2 threads on an oversubscribed machine "
                 "each ran at a few percent of its unloaded speed (decode well under 1 "
                 "token/s against 35-113 on an idle machine: issue 14's table): these "
                 "numbers show the pipeline works, not how the engines compare. Rerun on "
                 "an idle machine.")
    L.append("")

    if any(r["section"] == "decode" for r in recs):
        L.append(f"## Batch-1 decode (tokens/s; {meta.get('ngen', 64)} tokens after a 1-token "
             "prompt)\n")
        L.append("| weights | ours | llama.cpp | ratio | goal | bandwidth limit | ours / limit | load |")
        L.append("|---|---|---|---|---|---|---|---|")
        q41 = get("decode", "q4_1", "llama.cpp Q4_1")
        f32 = get("decode", "f32", "llama.cpp F32")
        rows = [("Q4_1 file (ours: --dtype auto)", "q4_1", "llama.cpp Q4_1", q41, 1.3,
                 q41 and q41.get("model_size")),
                ("F32 file", "f32", "llama.cpp F32", f32, None, f32 and f32.get("model_size")),
                ("Q4_1 file, ours --dtype f32 (vs llama.cpp F32)", "q4_1 as f32", None, f32, None,
                 f32 and f32.get("model_size")),
                ("Q4_1 file, ours --dtype bf16 (vs llama.cpp F32)", "q4_1 as bf16", None, f32, None,
                 f32 and f32.get("model_n_params") and 2 * f32["model_n_params"])]
        for label, key, _, theirs_rec, goal, bytes_per_token in rows:
            ours = val("decode", key, "ours")
            if ours is None and get("decode", key, "ours") is None:
                continue
            theirs = theirs_rec and theirs_rec["value"]
            r = ratio(ours, theirs)
            limit = bw / bytes_per_token if bw and bytes_per_token else None
            goal_s = f">= {goal}x: {verdict(r, goal)}" if goal else "-"
            L.append(f"| {label} | {fmt(ours)} | {cell(theirs_rec)} | {fmt_ratio(r)} | {goal_s} | "
                     f"{fmt(limit)} ({(bytes_per_token or 0) / 1e6:.0f} MB/token) | "
                     f"{fmt_ratio(ratio(ours, limit))} | {load('decode', key)} |")
        L.append("\nGoal (issue 14): Q4_1 decode >= 1.3x llama.cpp's and within 2x of the "
                 "bandwidth limit (ours / limit >= 0.50x).\n")

    pre_keys = sorted({int(r["key"]) for r in recs if r["section"] == "prefill"})
    if pre_keys:
        L.append("## Prefill (tokens/s; prompt of N tokens, time to the first token)\n")
        L.append("| prompt tokens | ours Q4_1 (auto) | llama.cpp F32 | llama.cpp Q4_1 | "
                 "ratio vs llama.cpp's best | goal >= 1.0x | load |")
        L.append("|---|---|---|---|---|---|---|")
        for n in pre_keys:
            k = str(n)
            ours = val("prefill", k, "ours")
            rf, rq = get("prefill", k, "llama.cpp F32"), get("prefill", k, "llama.cpp Q4_1")
            best = max([x["value"] for x in (rf, rq) if x and x["value"] is not None],
                       default=None)
            r = ratio(ours, best)
            L.append(f"| {n} | {fmt(ours)} | {cell(rf)} | {cell(rq)} | {fmt_ratio(r)} | "
                     f"{verdict(r, 1.0)} | {load('prefill', k)} |")
        L.append("")

    dep = [r for r in recs if r["section"] == "depth"]
    if dep:
        k = dep[0]["key"]
        ours, theirs_rec = val("depth", k, "ours"), get("depth", k, "llama.cpp Q4_1")
        theirs = theirs_rec and theirs_rec["value"]
        r = ratio(ours, theirs)
        L.append(f"## Batch-1 decode after a {k}-token prompt (tokens/s, Q4_1 file, "
                 f"{meta.get('ngen', 64)} tokens)\n")
        L.append("| ours (f32 KV) | llama.cpp (-d, f16 KV) | ratio | goal >= 1.0x | load |")
        L.append("|---|---|---|---|---|")
        L.append(f"| {fmt(ours)} | {cell(theirs_rec)} | {fmt_ratio(r)} | {verdict(r, 1.0)} | "
                 f"{load('depth', k)} |\n")

    srv = [r for r in recs if r["section"] == "serving"]
    if srv:
        L.append("## Serving: 128 prompt tokens in, 64 out (ignore_eos), output tokens/s "
                 "(TPOT median, ms)\n")
        if meta.get("serving_note"):
            L.append(meta["serving_note"] + "\n")
        L.append("Both servers driven by the same client: gqa-bench --backend openai "
                 "(streaming /v1/completions, token-id prompts, temperature 0). llama-server "
                 "gets -np = the concurrency; gqa-server its defaults (continuous batching, "
                 "up to 64 sequences).\n")
        L.append("| concurrency x requests | gqa-server Q4_1 | llama-server Q4_1 | "
                 "llama-server F32 | ratio vs best | goal | load |")
        L.append("|---|---|---|---|---|---|---|")
        for key in sorted({r["key"] for r in srv}, key=lambda s: -int(s.split("x")[0])):
            cells, vals = [], {}
            for who in ("ours", "llama-server Q4_1", "llama-server F32"):
                rec = get("serving", key, who)
                vals[who] = rec and rec["value"]
                if rec is None:
                    cells.append("-")
                else:
                    bad = f", {rec.get('failed')} failed" if rec.get("failed") else ""
                    cells.append(f"{cell(rec)} ({fmt(rec.get('tpot_ms'))} ms{bad})")
            best = max([v for w, v in vals.items() if w != "ours" and v], default=None)
            r = ratio(vals["ours"], best)
            goal = 2.0 if key.startswith("16x") else 1.3
            L.append(f"| {key} | {' | '.join(cells)} | {fmt_ratio(r)} | >= {goal}x: "
                     f"{verdict(r, goal)} | {load('serving', key)} |")
        step = get("engine_step", "128+64", "ours")
        c1 = next((get("serving", k, "ours") for k in sorted({r["key"] for r in srv})
                   if k.startswith("1x")), None)
        if step and step["value"] and c1 and c1.get("tpot_ms"):
            step_ms = 1e3 / step["value"]
            L.append(f"\ngqa-server's batch-1 TPOT {c1['tpot_ms']:.1f} ms against the engine's own "
                     f"decode step {step_ms:.1f} ms (gqa-generate, 128-token prompt, 64 tokens, "
                     f"same flags): {100 * (c1['tpot_ms'] / step_ms - 1):+.1f}% (goal: within 5%; "
                     f"load {step['load']}).")
        L.append("")

    if any(r.get("repack") is False for r in recs):
        L.append("\\* llama-bench `--repack 0` / llama-server `--no-repack`: with its default weight repacking, "
                 "llama.cpp picks its AMX kernels for Q4_1 batches on this CPU (it reports "
                 "AMX), and they crash (SIGSEGV/SIGILL) in this VM; the script retries "
                 "without repacking.\n")
    L.append("## Commands\n")
    L.append("```")
    seen = set()
    for r in recs:
        if r["cmd"] and r["cmd"] not in seen:
            seen.add(r["cmd"])
            L.append(r["cmd"])
    servers = os.path.join(work, "servers.txt")
    if os.path.exists(servers):
        L.append("# servers (gqa-bench above drove each in turn)")
        L.extend(line.rstrip("\n") for line in open(servers) if line.strip())
    L.append("```")
    with open(out_md, "w") as f:
        f.write("\n".join(L) + "\n")
    print("\n".join(L))


def main(argv):
    cmd = argv[1]
    if cmd == "llama-bench":
        cmd_llama_bench(*argv[2:7])
    elif cmd == "generate":
        cmd_generate(*argv[2:])
    elif cmd == "serving":
        cmd_serving(*argv[2:7])
    elif cmd == "table":
        cmd_table(*argv[2:4])
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv)
