#!/usr/bin/env bash
# Prefix cache on vs off (issue 13, "Measured"): gqa-server on SmolLM2 (CPU)
# with --enable-prefix-caching and with --no-enable-prefix-caching, the same
# gqa-bench workloads against each, one after the other in this one run:
#   (a) shared system prompt: SHARED shared + UNIQUE unique prompt tokens,
#       OUTPUT output tokens, NUM_PROMPTS prompts at concurrency CONCURRENCY;
#   (b) multi-turn chat: CONVERSATIONS conversations x TURNS turns, each turn
#       CHAT_INPUT new tokens and CHAT_OUTPUT output tokens, all conversations
#       at once (concurrency = CONVERSATIONS).
# Greedy, ignore_eos (exact lengths). Each server gets a small warm-up run
# first (another seed, so it primes no prefix of the measured prompts).
# Writes $OUT/prefix_cache_cpu.md (bench/prefix_cache/summarize.py) and keeps
# the gqa-bench JSON files and server logs in $WORK.
#
# Usage (repository root; a build with gqa-server and gqa-bench):
#   BUILD_DIR=build/release bench/prefix_cache/run_prefix_cache.sh
# Environment (defaults): BUILD_DIR=build/release, MODEL=SmolLM2 Q4_1 GGUF in
# the cache, THREADS=2, SHARED=512 UNIQUE=64 OUTPUT=64 NUM_PROMPTS=32
# CONCURRENCY=8, CONVERSATIONS=8 TURNS=4 CHAT_INPUT=64 CHAT_OUTPUT=64,
# OUT=bench/results, NAME=prefix_cache_cpu, WORK=a new temp dir.
set -euo pipefail

BUILD_DIR=${BUILD_DIR:-build/release}
MODEL=${MODEL:-${XDG_CACHE_HOME:-$HOME/.cache}/gqa-serve/SmolLM2-135M-Instruct.Q4_1.gguf}
THREADS=${THREADS:-2}
SHARED=${SHARED:-512}
UNIQUE=${UNIQUE:-64}
OUTPUT=${OUTPUT:-64}
NUM_PROMPTS=${NUM_PROMPTS:-32}
CONCURRENCY=${CONCURRENCY:-8}
CONVERSATIONS=${CONVERSATIONS:-8}
TURNS=${TURNS:-4}
CHAT_INPUT=${CHAT_INPUT:-64}
CHAT_OUTPUT=${CHAT_OUTPUT:-64}
OUT=${OUT:-bench/results}
NAME=${NAME:-prefix_cache_cpu}
WORK=${WORK:-$(mktemp -d /tmp/gqa-prefix-cache.XXXXXX)}
SERVER=$BUILD_DIR/server/gqa-server
BENCH=$BUILD_DIR/client/loadgen/gqa-bench

[[ -x $SERVER && -x $BENCH ]] || { echo "no $SERVER or $BENCH: build them first" >&2; exit 1; }
[[ -f $MODEL ]] || { echo "no model at $MODEL" >&2; exit 1; }
mkdir -p "$WORK" "$OUT"
echo "work dir: $WORK"

SERVER_PID=
stop_server() {
  if [[ -n $SERVER_PID ]]; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" || true
    SERVER_PID=
  fi
}
trap stop_server EXIT

# start_server MODE(on|off): sets PORT and METRICS_PORT once it serves.
start_server() {
  local mode=$1 flag=--enable-prefix-caching log=$WORK/server_$1.log
  [[ $mode == off ]] && flag=--no-enable-prefix-caching
  "$SERVER" --model "$MODEL" --host 127.0.0.1 --port 0 --metrics-port 0 \
    --threads "$THREADS" "$flag" 2>"$log" &
  SERVER_PID=$!
  for _ in $(seq 1200); do
    if grep -q "health SERVING" "$log"; then break; fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then cat "$log" >&2; exit 1; fi
    sleep 0.5
  done
  PORT=$(sed -n 's/.*gRPC listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -1)
  METRICS_PORT=$(sed -n 's|.*metrics at http://127\.0\.0\.1:\([0-9]*\)/metrics.*|\1|p' "$log" | head -1)
  echo "$SERVER_PID" "$flag" > "$WORK/server_$mode.cmd"
}

scrape() { curl -s "http://127.0.0.1:$METRICS_PORT/metrics" > "$1" || true; }

# run_workload MODE NAME ARGS...: one gqa-bench run, /metrics before and after.
run_workload() {
  local mode=$1 name=$2
  shift 2
  scrape "$WORK/${name}_${mode}.before.prom"
  "$BENCH" --server "127.0.0.1:$PORT" --seed 1 --no-progress \
    --result-json "$WORK/${name}_${mode}.json" "$@" | tee "$WORK/${name}_${mode}.txt"
  scrape "$WORK/${name}_${mode}.after.prom"
}

SHARED_ARGS=(--num-prompts "$NUM_PROMPTS" --max-concurrency "$CONCURRENCY"
  --shared-prefix-len "$SHARED" --input-len "$UNIQUE" --output-len "$OUTPUT")
CHAT_ARGS=(--turns "$TURNS" --num-conversations "$CONVERSATIONS"
  --max-concurrency "$CONVERSATIONS" --input-len "$CHAT_INPUT" --output-len "$CHAT_OUTPUT")
cat /proc/loadavg > "$WORK/loadavg_start"
# ABBA order across the two workloads, so a drift in the machine's load
# does not favour one mode.
for mode in off on; do
  start_server "$mode"
  "$BENCH" --server "127.0.0.1:$PORT" --seed 99 --num-prompts 4 --input-len 64 \
    --output-len 8 --no-progress > "$WORK/warmup_$mode.txt"
  if [[ $mode == off ]]; then
    run_workload off shared "${SHARED_ARGS[@]}"
    run_workload off chat "${CHAT_ARGS[@]}"
  else
    run_workload on chat "${CHAT_ARGS[@]}"
    run_workload on shared "${SHARED_ARGS[@]}"
  fi
  cat /proc/loadavg > "$WORK/loadavg_$mode"
  stop_server
done

SCRIPT_DIR=$(dirname "$0")
python3 "$SCRIPT_DIR/summarize.py" --work "$WORK" --out "$OUT/$NAME.md" \
  --command "BUILD_DIR=$BUILD_DIR $0" --model "$MODEL" --threads "$THREADS" \
  --shared-args "${SHARED_ARGS[*]}" --chat-args "${CHAT_ARGS[*]}"
echo "wrote $OUT/$NAME.md"
