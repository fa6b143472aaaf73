#!/usr/bin/env python3
"""Times gqa's HF tokenizer against HF `tokenizers` (the reference) on the same
1 MB of English prose, and writes a markdown report.

  build/<dir>/venv-tokenizers/bin/python bench/tokenizer/compare_encode_speed.py \\
      --bench build/<dir>/bench/gqa-tokenizer-bench \\
      --models-dir ../shared/models/tokenizers --out bench/results/tokenizer_encode.md

Run it with a Python that has `tokenizers` (e.g. the venv the parity test
makes under the build directory). The text comes from
tests/engine/tokenizer/hf/make_corpus.py (deterministic, no downloads). Both
sides encode without special tokens, single-threaded (HF's encode of one
string does not use its thread pool); the ids must agree.
For each tokenizer: load time, the first encode, and the best of --repeats.
HF keeps a BPE word cache across calls, so its later repeats run warm; gqa
starts every Encode with an empty cache.
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "engine", "tokenizer", "hf"))
import make_corpus  # noqa: E402


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def time_hf(path, text, repeats):
    from tokenizers import Tokenizer
    t0 = time.perf_counter()
    tok = Tokenizer.from_file(path)
    load = time.perf_counter() - t0
    times, ids = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        ids = tok.encode(text, add_special_tokens=False).ids
        times.append(time.perf_counter() - t0)
    return load, times[0], min(times), ids


def gqa_times(report):
    """load and encode seconds from gqa-tokenizer-bench's Google Benchmark JSON:
    the first repetition (cold) and the "min" aggregate (best); the token count."""
    out = {}
    for b in report["benchmarks"]:
        seconds = b["real_time"] * {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
        name = b["run_name"].split("/")[0]  # "encode/iterations:1"
        if b["run_type"] == "iteration" and b["repetition_index"] == 0:
            out[f"{name}_first_s"] = seconds
            if name == "encode":
                out["tokens"] = int(b["tokens"])
        elif b.get("aggregate_name") == "min":
            out[f"{name}_best_s"] = seconds
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", required=True, help="gqa-tokenizer-bench binary")
    ap.add_argument("--models-dir", required=True)
    ap.add_argument("--tokenizers", default="llama3,qwen3,gemma3,spm32k")
    ap.add_argument("--bytes", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", help="markdown file to write (default: print)")
    args = ap.parse_args()
    import tokenizers

    text = make_corpus.make_prose(args.bytes)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        text_path = os.path.join(tmp, "prose.txt")
        with open(text_path, "w", encoding="utf-8") as f:
            f.write(text)
        for name in args.tokenizers.split(","):
            folder = os.path.join(args.models_dir, name)
            hf_load, hf_first, hf_best, hf_ids = time_hf(os.path.join(folder, "tokenizer.json"), text,
                                                         args.repeats)
            ids_path = os.path.join(tmp, f"{name}.ids")
            out = subprocess.run([args.bench, f"--tokenizer={folder}", f"--text={text_path}",
                                  f"--benchmark_repetitions={args.repeats}", "--benchmark_format=json",
                                  f"--ids={ids_path}"],
                                 check=True, capture_output=True, text=True).stdout
            g = gqa_times(json.loads(out))
            with open(ids_path) as f:
                gqa_ids = [int(x) for x in f.read().split()]
            rows.append((name, g["tokens"], hf_load, g["load_first_s"], hf_first, hf_best, g["encode_first_s"],
                         g["encode_best_s"], gqa_ids == hf_ids))
            print(name, rows[-1], file=sys.stderr)

    mb = args.bytes / 1e6
    lines = [
        "# HF tokenizer: load and encode speed, gqa vs HF `tokenizers`",
        "",
        f"- Date: {datetime.date.today().isoformat()}",
        f"- Machine: {cpu_name()}, {os.cpu_count()} logical CPUs (shared with other jobs), "
        f"{platform.system()} {platform.release()}; load average at the end "
        f"{os.getloadavg()[0]:.1f} (other builds running: absolute times are noisy, the ratio less so)",
        f"- Reference: HF tokenizers {tokenizers.__version__} (PyPI wheel), Python {platform.python_version()}",
        f"- Text: {args.bytes:,} bytes of English prose from make_corpus.make_prose (seed 1234), "
        "encoded without special tokens, one call per encode; both single-threaded",
        "- Command: `build/<dir>/venv-tokenizers/bin/python bench/tokenizer/compare_encode_speed.py "
        "--bench build/<dir>/bench/gqa-tokenizer-bench --models-dir ../shared/models/tokenizers "
        "--out bench/results/tokenizer_encode.md` (Release build, -march=native)",
        f"- Encode: first call and best of {args.repeats}; HF's word cache persists across its calls "
        "(warm repeats), gqa starts each Encode with an empty cache. gqa's side is a Google Benchmark "
        "program (one call per repetition, --benchmark_repetitions); load: the first call on both sides",
        "",
        "| tokenizer | tokens | ids equal | load HF (s) | load gqa (s) | encode HF first / best (ms) "
        "| encode gqa first / best (ms) | gqa MB/s | speed-up (best vs best) |",
        "|---|---:|:---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, tokens, hl, gl, hf1, hfb, g1, gb, same in rows:
        lines.append(f"| {name} | {tokens:,} | {'yes' if same else 'NO'} | {hl:.3f} | {gl:.3f} | "
                     f"{hf1 * 1e3:.1f} / {hfb * 1e3:.1f} | {g1 * 1e3:.1f} / {gb * 1e3:.1f} | "
                     f"{mb / gb:.1f} | {hfb / gb:.1f}x |")
    lines += ["",
              "gemma3 and spm32k have no word-splitting pre-tokenizer (SentencePiece style): a "
              "paragraph (gemma3: the text between its newline added tokens) or the whole text "
              "(spm32k) reaches the BPE model as one word. HF merges it as one; gqa cuts it before "
              "each \"▁\" that no merge can cross and caches the pieces (engine/tokenizer/hf/bpe_model.h), "
              "with the same ids.",
              ""]
    report = "\n".join(lines)
    if args.out:
        with open(args.out, "w") as f:
            f.write(report)
    print(report)
    return 0 if all(r[-1] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
