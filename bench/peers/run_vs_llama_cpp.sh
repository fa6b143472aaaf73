#!/usr/bin/env bash
# gqa-serve against llama.cpp on the CPU, in one run on the same GGUF files,
# threads and workloads (issue 14's goals), written as one table (ours,
# theirs, ratio) to bench/results/cpu_vs_llama_cpp.md with the machine, both
# commits, the load average of every row and the commands:
#   - batch-1 decode, 64 tokens (llama-bench -p 0 -n 64 vs gqa-generate) on the
#     Q4_1 and F32 files, plus ours --dtype f32 / bf16 on the Q4_1 file, and
#     the bandwidth limit (weight bytes per token / measured read bandwidth);
#   - prefill of 128, 512, 2048, 8000-token prompts (llama-bench -p N -n 0 on
#     both files vs gqa-generate --max-tokens 1 on the Q4_1 file);
#   - batch-1 decode after a 4000-token prompt (llama-bench -d 4000);
#   - serving 128 in / 64 out: llama-server (-np = concurrency) vs gqa-server,
#     both driven by gqa-bench --backend openai; 16 streams x 64 requests and
#     1 x 16; and gqa-server's batch-1 TPOT against gqa-generate's step.
# Each row runs llama.cpp then ours back to back, so a row's ratio is fair on
# a shared machine. Builds nothing of ours (pass a configured, built
# BUILD_DIR with gqa-generate, gqa-server, gqa-bench and gqa-bench-cpu:
# GQA_BUILD_BENCH=ON) and llama.cpp only through build_llama_cpp.sh
# (idempotent).
#
#   bench/peers/run_vs_llama_cpp.sh [BUILD_DIR]          # full: ~20-30 min on 2 cores
#   QUICK=1 bench/peers/run_vs_llama_cpp.sh [BUILD_DIR]  # 128/512 prefill, no depth row,
#                                                        # fewer requests, 1 repetition
# Environment: THREADS (2), NGEN (64: decode tokens timed), REPS (3; 1 when QUICK), PREFILL ("128 512 2048 8000"),
# DEPTH (4000; 0 = skip), C16_REQUESTS (64), C1_REQUESTS (16), SECTIONS ("decode
# prefill depth serving": the parts to run), SERVER_FILES ("q4_1 f32": llama-server's files), OUT_MD, WORK (raw
# results; default a fresh temp dir), MODEL_GGUF (the cached Q4_1 SmolLM2).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="$(cd "${1:-$repo/build/release}" && pwd)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/gqa-serve"
peers="${GQA_PEERS_DIR:-$cache/peers}"
q41="${MODEL_GGUF:-$cache/SmolLM2-135M-Instruct.Q4_1.gguf}"
f32="$peers/SmolLM2-135M-Instruct.F32.gguf"
quick="${QUICK:-0}"
threads="${THREADS:-2}"
if [[ "$quick" == 1 ]]; then
  reps="${REPS:-1}"; prefill="${PREFILL:-128 512}"; depth="${DEPTH:-0}"
  c16_requests="${C16_REQUESTS:-32}"; c1_requests="${C1_REQUESTS:-4}"
  server_files="${SERVER_FILES:-q4_1}"
else
  reps="${REPS:-3}"; prefill="${PREFILL:-128 512 2048 8000}"; depth="${DEPTH:-4000}"
  c16_requests="${C16_REQUESTS:-64}"; c1_requests="${C1_REQUESTS:-16}"
  server_files="${SERVER_FILES:-q4_1 f32}"
fi
sections="${SECTIONS:-decode prefill depth serving}"
serving=0
[[ " $sections " == *" serving "* ]] && serving=1
ngen="${NGEN:-64}"  # decode tokens timed per decode row
out_md="${OUT_MD:-$repo/bench/results/cpu_vs_llama_cpp.md}"
work="${WORK:-$(mktemp -d /tmp/gqa_vs_llama_cpp.XXXXXX)}"
mkdir -p "$work"
: > "$work/records.jsonl"
helper=(python3 "$repo/bench/peers/vs_llama_cpp.py")

targets="llama-bench"
[[ "$serving" == 1 ]] && targets="llama-bench llama-server"
bin="$(PEER_TARGETS="$targets" "$repo/bench/peers/build_llama_cpp.sh" | tail -1)"
if [[ ! -f "$f32" ]]; then
  venv="${VENV:-$peers/venv-gguf}"
  if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv" && "$venv/bin/pip" install -q gguf numpy
  fi
  "$venv/bin/python" "$repo/bench/peers/make_f32_gguf.py" "$q41" "$f32"
fi
gen="$build/engine/gqa-generate"
server="$build/server/gqa-server"
loadgen="$build/client/loadgen/gqa-bench"
bench_cpu="$build/bench/gqa-bench-cpu"
for b in "$gen" "$server" "$loadgen" "$bench_cpu"; do
  [[ -x "$b" ]] || { echo "missing $b: build it in $build (GQA_BUILD_BENCH=ON)" >&2; exit 1; }
done
model_of() { [[ "$1" == f32 ]] && echo "$f32" || echo "$q41"; }
file_name() { [[ "$1" == f32 ]] && echo F32 || echo Q4_1; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
# N prompt token ids, deterministic, none of SmolLM2's 17 control tokens.
ids() { python3 -c "import sys; n=int(sys.argv[1]); print(','.join(str(17 + (7919 * i + 13) % 49135) for i in range(n)))" "$1"; }
log() { echo "[$(date -u +%H:%M:%S) load $(loadavg)] $*" >&2; }

# theirs SECTION KEY WHO llama-bench-args...: one llama-bench run (-r reps).
theirs() {
  local section=$1 key=$2 who=$3; shift 3
  local f; f="$work/lb_${section}_${key// /_}_${who// /_}.jsonl"
  local cmd=("$bin/llama-bench" -t "$threads" -r "$reps" -o jsonl "$@")
  log "$who $section $key"
  local load; load="$(loadavg)"
  "${cmd[@]}" > "$f" 2> "$f.err" || true
  if ! grep -q '^{' "$f"; then
    # On this VM llama.cpp's AMX weight repacking (its default for Q4_1 on a
    # CPU that reports AMX) crashes as soon as a batch takes the AMX path:
    # rerun without repacking, and say so in the table.
    log "llama-bench failed ($(tail -c 200 "$f.err" | tr '\n' ' ')); again with --repack 0"
    cmd+=(--repack 0)
    load="$(loadavg)"
    "${cmd[@]}" > "$f" 2> "$f.err" || true
  fi
  LOAD="$load" CMD="${cmd[*]}" "${helper[@]}" llama-bench "$work" "$section" "$key" "$who" "$f"
}

# ours SECTION KEY METRIC PROMPT_LEN MAX_TOKENS gqa-generate-args...: reps runs.
ours() {
  local section=$1 key=$2 metric=$3 n=$4 max=$5; shift 5
  local prompt; prompt="$(ids "$n")"
  local cmd=("$gen" --backend cpu --threads "$threads" --max-tokens "$max" --ignore-eos
             --print-ids --temperature 0 "$@")
  local files=() load; load="$(loadavg)"
  log "ours $section $key"
  for r in $(seq "$reps"); do
    local f="$work/gen_${section}_${key// /_}_$r.err"
    "${cmd[@]}" --prompt-ids "$prompt" > /dev/null 2> "$f" || true
    files+=("$f")
  done
  LOAD="$load" CMD="${cmd[*]} --prompt-ids <$n ids>" \
    "${helper[@]}" generate "$work" "$section" "$key" ours "$metric" "${files[@]}"
}

# --- the machine ---------------------------------------------------------
log "bandwidth"
bandwidth="$("$bench_cpu" --presets stories15m --threads "$threads" --decode-steps 2 \
  --prompt-len 16 | sed -n 's/^measured memory read bandwidth: \([0-9.]*\) GB\/s/\1/p')"
dirty=$(git -C "$repo" diff --quiet HEAD -- . ':!bench/results' || echo ", with uncommitted changes")
ours_note="$("$gen" --model "$q41" --backend cpu --threads "$threads" --prompt-ids 1 \
  --max-tokens 1 --print-ids 2>&1 >/dev/null | grep -E 'weights;|^backend:' | tr '\n' ' ')"
cat > "$work/meta.txt" <<EOF
date=$(date -u '+%Y-%m-%d %H:%M UTC')
quick=$quick
threads=$threads
ngen=$ngen
cpu=$(lscpu | sed -n 's/^Model name: *//p')
cores=$(nproc)
mem=$(free -g | awk '/Mem:/{print $2}') GiB
l3=$(lscpu | sed -n 's/^L3 cache: *//p')
ours_commit=$(git -C "$repo" rev-parse --short HEAD)$dirty
ours_build=$(grep -E '^CMAKE_BUILD_TYPE' "$build/CMakeCache.txt" | cut -d= -f2), $build
ours_note=$ours_note
theirs_version=$("$bin/llama-bench" --version 2>&1 | grep -i '^version' | head -1)
llama_cpp_python=${LLAMA_CPP_PYTHON_VERSION:-0.3.36}
bandwidth_gbs=$bandwidth
q41=$(basename "$q41")
f32=$(basename "$f32")
EOF

# --- batch-1 decode ------------------------------------------------------
if [[ " $sections " == *" decode "* ]]; then
theirs decode q4_1 "llama.cpp Q4_1" -m "$q41" -p 0 -n "$ngen"
ours decode q4_1 decode 1 $((ngen + 1)) --model "$q41"
theirs decode f32 "llama.cpp F32" -m "$f32" -p 0 -n "$ngen"
ours decode f32 decode 1 $((ngen + 1)) --model "$f32"
ours decode "q4_1 as f32" decode 1 $((ngen + 1)) --model "$q41" --dtype f32
ours decode "q4_1 as bf16" decode 1 $((ngen + 1)) --model "$q41" --dtype bf16
fi

# --- prefill ---------------------------------------------------------------
[[ " $sections " == *" prefill "* ]] || prefill=""
for n in $prefill; do
  # One repetition and no warm-up past 2048 tokens: minutes each on 2 cores.
  saved_reps=$reps; warm=()
  if (( n > 2048 )); then reps=1; warm=(--no-warmup); fi
  theirs prefill "$n" "llama.cpp F32" -m "$f32" -p "$n" -n 0 "${warm[@]}"
  theirs prefill "$n" "llama.cpp Q4_1" -m "$q41" -p "$n" -n 0 "${warm[@]}"
  ours prefill "$n" prefill "$n" 1 --model "$q41"
  reps=$saved_reps
done

# --- decode at depth -------------------------------------------------------
[[ " $sections " == *" depth "* ]] || depth=0
if (( depth > 0 )); then
  saved_reps=$reps; reps=1
  theirs depth "$depth" "llama.cpp Q4_1" -m "$q41" -p 0 -n "$ngen" -d "$depth" --no-warmup
  ours depth "$depth" decode "$depth" $((ngen + 1)) --model "$q41"
  reps=$saved_reps
fi

# --- serving ---------------------------------------------------------------
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
if [[ "$serving" == 1 ]]; then
  # gqa-server also answers gqa-bench's model-info call (gRPC) while it drives
  # llama-server: it idles then.
  server_cmd=("$server" --model "$q41" --backend cpu --threads "$threads" --host 127.0.0.1
              --port 0 --http-port 0 --http-host 127.0.0.1 --metrics-port -1)
  echo "${server_cmd[*]}" >> "$work/servers.txt"
  "${server_cmd[@]}" 2> "$work/gqa-server.log" &
  pids+=($!)
  for _ in $(seq 1200); do
    grep -q 'health SERVING' "$work/gqa-server.log" && break
    kill -0 "${pids[0]}" 2>/dev/null || { cat "$work/gqa-server.log" >&2; exit 1; }
    sleep 0.1
  done
  grpc=$(sed -n 's/.*gRPC listening on \([0-9.:]*\).*/\1/p' "$work/gqa-server.log" | head -1)
  http=$(sed -n 's/.*HTTP (OpenAI API) listening on \([0-9.:]*\).*/\1/p' "$work/gqa-server.log" | head -1)
  # drive KEY WHO URL CONCURRENCY REQUESTS. The prompts' seed is the
  # concurrency: each row's prompts are new to gqa-server, which serves every
  # row (a seed shared by two rows would hand the second its prefix cache's
  # hits), while llama-server starts afresh for each.
  drive() {
    local key=$1 who=$2 url=$3 c=$4 n=$5
    local f="$work/serve_${key}_${who// /_}.json"
    local cmd=("$loadgen" --server "$grpc" --backend openai --openai-url "$url" --num-prompts "$n"
               --max-concurrency "$c" --input-len 128 --output-len 64 --seed "$c" --no-progress
               --result-json "$f")
    log "$who serving $key"
    local load; load="$(loadavg)"
    "${cmd[@]}" > "$f.txt" 2>&1 || true
    REPACK="${repack:-1}" LOAD="$load" CMD="${cmd[*]}" \
      "${helper[@]}" serving "$work" serving "$key" "$who" "$f"
  }
  # llama_server FILE NP: starts it, prints its URL; the caller stops it.
  port=18480
  start_llama_server() {
    local file=$1 np=$2; shift 2
    port=$((port + 1))
    llama_cmd=("$bin/llama-server" -m "$(model_of "$file")" -t "$threads" -tb "$threads"
               -np "$np" -c $((np * 256 > 2048 ? np * 256 : 2048)) --host 127.0.0.1
               --port "$port" "$@")
    echo "${llama_cmd[*]}" >> "$work/servers.txt"
    "${llama_cmd[@]}" > "$work/llama-server_${file}_$np.log" 2>&1 &
    llama_pid=$!
    pids+=("$llama_pid")
    for _ in $(seq 600); do
      curl -sf "http://127.0.0.1:$port/health" > /dev/null 2>&1 && return 0
      kill -0 "$llama_pid" 2>/dev/null || return 1
      sleep 0.2
    done
    return 1
  }
  for c in 16 1; do
    n=$c16_requests; [[ $c == 1 ]] && n=$c1_requests
    key="${c}x${n}"
    for file in $server_files; do
      repack=1
      for extra in "" --no-repack; do
        if start_llama_server "$file" "$c" $extra; then
          [[ -n "$extra" ]] && repack=0
          drive "$key" "llama-server $(file_name "$file")" "http://127.0.0.1:$port" "$c" "$n"
        else
          log "llama-server did not start: $work/llama-server_${file}_$c.log"
        fi
        # Still up: done. Crashed (its AMX repacking, as llama-bench above): once
        # more without repacking.
        if kill -0 "$llama_pid" 2>/dev/null; then extra=done; fi
        kill "$llama_pid" 2>/dev/null || true; wait "$llama_pid" 2>/dev/null || true
        [[ "$extra" == done ]] && break
        log "llama-server exited: $(tail -c 300 "$work/llama-server_${file}_$c.log" | tr '\n' ' ')"
      done
    done
    repack=1
    drive "$key" ours "http://$http" "$c" "$n"
  done
  kill "${pids[0]}" 2>/dev/null || true; wait "${pids[0]}" 2>/dev/null || true
  # The engine's own batch-1 step on the serving workload's shape.
  ours engine_step 128+64 decode 128 65 --model "$q41"
fi

"${helper[@]}" table "$work" "$out_md"
log "wrote $out_md (raw results in $work)"
