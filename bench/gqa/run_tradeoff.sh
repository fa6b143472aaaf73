#!/usr/bin/env bash
# The GQA trade-off on SmolLM2-135M-Instruct, measured with the project's own
# tools (bench/results/gqa_tradeoff.md is this script's output):
#   variants: the model as shipped (GQA-3: 9 query / 3 KV heads, dequantized
#   to f32) and its MQA conversions (gqa-convert --kv-heads 1 --method
#   mean|first|random);
#   perplexity (gqa-perplexity, llama.cpp's chunking) on two texts every
#   Debian 12 has: /usr/share/common-licenses/GPL-3 (base-files) and
#   /usr/share/doc/bash/NEWS.gz, decompressed (bash, Essential);
#   KV bytes per token and 2k-token sequences per 2 GiB of KV cache;
#   CPU decode tok/s at batch 1 (gqa-generate) and, when gqa-server and
#   gqa-bench are built, output tok/s at 16 concurrent streams.
#
#   bench/gqa/run_tradeoff.sh [BUILD_DIR]
#
# Environment: MODEL_GGUF (default: the cached SmolLM2 GGUF), WORK (default
# ${XDG_CACHE_HOME:-$HOME/.cache}/gqa-serve/gqa-tradeoff; converted models
# live there, never in the repo), CONTEXT (512), CHUNKS (8 per text), THREADS
# (2, for perplexity), DECODE_THREADS (1, decode and the server: on a loaded machine
# OpenMP's barriers make 2-thread batch-1 decode far slower than 1 thread),
# DECODE_TOKENS (64), STREAMS (16), SKIP_SERVE=1 to skip gqa-bench, REUSE=1 to
# keep the perplexity and decode results already in WORK.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-$repo/build/release}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/gqa-serve"
model="${MODEL_GGUF:-$cache/SmolLM2-135M-Instruct.Q4_1.gguf}"
work="${WORK:-$cache/gqa-tradeoff}"
context="${CONTEXT:-512}"
chunks="${CHUNKS:-8}"
threads="${THREADS:-2}"
decode_tokens="${DECODE_TOKENS:-64}"
decode_threads="${DECODE_THREADS:-1}"
streams="${STREAMS:-16}"
tool() {  # where the CMake build puts it
  local d
  for d in engine server client/loadgen; do
    if [[ -x "$build/$d/$1" ]]; then echo "$build/$d/$1"; return; fi
  done
  return 0  # not built: empty
}
convert="$(tool gqa-convert)"; perplexity="$(tool gqa-perplexity)"; generate="$(tool gqa-generate)"
server="$(tool gqa-server)"; bench="$(tool gqa-bench)"
for t in convert perplexity generate; do
  [[ -n "${!t}" ]] || { echo "run_tradeoff: gqa-$t not built under $build" >&2; exit 1; }
done
[[ -f "$model" ]] || { echo "run_tradeoff: no $model (scripts/fetch_default_model.sh)" >&2; exit 1; }
mkdir -p "$work/texts" "$work/results"

cp /usr/share/common-licenses/GPL-3 "$work/texts/GPL-3.txt"
zcat /usr/share/doc/bash/NEWS.gz > "$work/texts/bash-NEWS.txt"
texts=(GPL-3 bash-NEWS)

variants=(gqa3 mqa-mean mqa-first mqa-random)
declare -A args=([gqa3]="--kv-heads 3" [mqa-mean]="--kv-heads 1 --method mean"
                 [mqa-first]="--kv-heads 1 --method first"
                 [mqa-random]="--kv-heads 1 --method random --seed 1")
for v in "${variants[@]}"; do
  if [[ ! -f "$work/models/$v/config.json" ]]; then
    # shellcheck disable=SC2086
    "$convert" ${args[$v]} --dtype f32 "$model" "$work/models/$v" >&2
  fi
done

for v in "${variants[@]}"; do
  for t in "${texts[@]}"; do
    out="$work/results/ppl-$v-$t.json"
    [[ -n "${REUSE:-}" && -s "$out" ]] && continue
    echo "run_tradeoff: perplexity $v on $t" >&2
    "$perplexity" --model "$work/models/$v" --tokenizer "$model" --file "$work/texts/$t.txt" \
      --context "$context" --chunks "$chunks" --threads "$threads" --backend cpu --json \
      > "$out"
  done
done

# Decode at batch 1, the variants interleaved twice (the machine is shared).
prompt_ids="$(seq -s, 100 131)"
for round in 1 2; do
  for v in "${variants[@]}"; do
    log="$work/results/decode-$v-$round.log"
    [[ -n "${REUSE:-}" ]] && grep -q "tokens/s" "$log" 2>/dev/null && continue
    "$generate" --model "$work/models/$v" --prompt-ids "$prompt_ids" --max-tokens "$decode_tokens" \
      --ignore-eos --print-ids --temperature 0 --threads "$decode_threads" --backend cpu \
      2> "$log" > /dev/null
  done
done

if [[ -z "${SKIP_SERVE:-}" && -n "$server" && -n "$bench" ]]; then
  port=50917
  for v in "${variants[@]}"; do
    "$server" --model "$work/models/$v" --port "$port" --metrics-port -1 --threads "$decode_threads" \
      --backend cpu --max-num-seqs "$streams" > "$work/results/server-$v.log" 2>&1 &
    pid=$!
    # Until the model is loaded (it listens earlier, answering UNAVAILABLE).
    for _ in $(seq 600); do
      grep -q "health SERVING" "$work/results/server-$v.log" && break
      kill -0 "$pid" 2> /dev/null || break
      sleep 0.5
    done
    "$bench" --server "localhost:$port" --num-prompts "$streams" \
      --max-concurrency "$streams" --input-len 128 --output-len 32 --connect-timeout 120 \
      --no-progress --result-json "$work/results/bench-$v.json" > "$work/results/bench-$v.log" \
      2>&1 || echo "run_tradeoff: gqa-bench failed for $v (see $work/results)" >&2
    kill "$pid"; wait "$pid" || true
  done
else
  echo "run_tradeoff: gqa-server/gqa-bench not built (or SKIP_SERVE): no 16-stream column" >&2
fi

# Debian's python3-matplotlib draws the plot; without it the script writes an SVG itself.
py=python3
/usr/bin/python3 -c "import matplotlib" 2>/dev/null && py=/usr/bin/python3
"$py" "$repo/bench/gqa/make_tradeoff_table.py" --work "$work" --context "$context" \
  --chunks "$chunks" --threads "$decode_threads" --out-md "$repo/bench/results/gqa_tradeoff.md" \
  --out-plot "$repo/bench/results/gqa_tradeoff.svg"
