#!/usr/bin/env bash
# gqa-perplexity against llama.cpp's llama-perplexity on the same F32 GGUF
# (SmolLM2-135M-Instruct, dequantized by gguf-py: make_f32_gguf.py), the same
# text and the same chunking (-c CONTEXT -b CONTEXT --chunks CHUNKS, one
# sequence per batch). Passes when the two perplexities are within 0.5%.
#
#   bench/peers/validate_perplexity.sh [BUILD_DIR]
#
# Environment: TEXT (default /usr/share/common-licenses/GPL-3), CONTEXT (512),
# CHUNKS (4), THREADS (2), MODEL_GGUF (the cached Q4_1 SmolLM2), VENV (a venv
# with gguf and numpy; default one under the peers cache, made with pip), OUT_MD
# (default bench/results/perplexity_vs_llama_cpp.md: the record written).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-$repo/build/release}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/gqa-serve"
peers="${GQA_PEERS_DIR:-$cache/peers}"
text="${TEXT:-/usr/share/common-licenses/GPL-3}"
context="${CONTEXT:-512}"; chunks="${CHUNKS:-4}"; threads="${THREADS:-2}"
model="${MODEL_GGUF:-$cache/SmolLM2-135M-Instruct.Q4_1.gguf}"
venv="${VENV:-$peers/venv-gguf}"
f32="$peers/SmolLM2-135M-Instruct.F32.gguf"

bin="$(PEER_TARGETS="${PEER_TARGETS:-llama-perplexity}" "$repo/bench/peers/build_llama_cpp.sh" | tail -1)"
if [[ ! -f "$f32" ]]; then
  if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv" && "$venv/bin/pip" install -q gguf numpy
  fi
  "$venv/bin/python" "$repo/bench/peers/make_f32_gguf.py" "$model" "$f32"
fi
ours="$(find "$build" -name gqa-perplexity -type f -perm -u+x -print -quit)"

ours_json="$("$ours" --model "$f32" --file "$text" --context "$context" --chunks "$chunks" \
  --threads "$threads" --backend cpu --json --quiet)"
theirs_log="$("$bin/llama-perplexity" -m "$f32" -f "$text" -c "$context" -b "$context" \
  --chunks "$chunks" -t "$threads" 2>&1)"
theirs="$(echo "$theirs_log" | sed -n 's/.*Final estimate: PPL = \([0-9.]*\).*/\1/p')"
out_md="${OUT_MD:-$repo/bench/results/perplexity_vs_llama_cpp.md}"
commit="$(git -C "$repo" rev-parse --short HEAD)"
python3 - "$ours_json" "$theirs" "$out_md" "$commit" "$text" "$context" "$chunks" "$threads" <<'PY'
import json, sys
ours = json.loads(sys.argv[1]); theirs = float(sys.argv[2])
out_md, commit, text, context, chunks, threads = sys.argv[3:9]
rel = abs(ours["perplexity"] - theirs) / theirs
verdict = "PASS" if rel < 0.005 else "FAIL"
line = (f"gqa-perplexity {ours['perplexity']:.4f} (+/- {ours['perplexity_error']:.4f}, "
        f"{ours['tokens_scored']} tokens, {ours['chunks']} chunks of {ours['context']}); "
        f"llama-perplexity {theirs:.4f}; relative difference {100 * rel:.3f}% ({verdict}, limit 0.5%)")
print(line)
open(out_md, "w").write(
    "# gqa-perplexity against llama.cpp's llama-perplexity\n\n"
    f"Written by `bench/peers/validate_perplexity.sh` at commit {commit}: SmolLM2-135M-Instruct "
    "as an all-F32 GGUF (the Q4_1 file dequantized by gguf-py, `bench/peers/make_f32_gguf.py`), "
    f"text `{text}`, `-c {context} -b {context} --chunks {chunks} -t {threads}` for llama.cpp "
    f"(llama-cpp-python 0.3.36's vendored llama.cpp, CPU) and `--context {context} --chunks "
    f"{chunks} --threads {threads}` for gqa-perplexity (CPU backend, f32).\n\n{line}\n")
sys.exit(0 if rel < 0.005 else 1)
PY
